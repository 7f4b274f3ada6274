"""Pure kernels of the hand-crafted baselines: LBP-TOP and Bi-WOOF.

Both kernels work on one sample (a grey clip for :func:`lbp_top`, one flow field for
:func:`bi_woof`) and return a 1-D feature vector; the estimators in
:mod:`skmer.features` are thin wrappers around them.

Conventions shared by both kernels
----------------------------------
Block grid
    :func:`block_edges` splits an axis of ``size`` pixels into ``n`` blocks whose
    edges are ``round(k * size / n)`` (no pixel is dropped, block sizes differ by at
    most one pixel).  With ``overlap = o`` in ``[0, 1)`` the ``n`` blocks have the
    common size ``b = size / (1 + (n - 1) * (1 - o))`` and stride ``b * (1 - o)``,
    so that neighbouring blocks share a fraction ``o`` of their extent and the grid
    still covers the axis exactly.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "bi_woof",
    "block_edges",
    "lbp_top",
    "lbp_top_codes",
    "n_uniform_bins",
    "uniform_mapping",
]

PLANES = ("xy", "xt", "yt")

# Relative tolerance of the bilinear threshold ``g_p >= g_c`` (see ``lbp_top``).
_TIE_RTOL = 1e-10


# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------
def _pair(value, name, *, minimum=1):
    """Return an int or a pair of ints as a validated (rows, cols) tuple."""
    if isinstance(value, (Integral, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    try:
        rows, cols = value
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be an int or a (rows, cols) pair of ints; got {value!r}."
        ) from None
    for v in (rows, cols):
        if (isinstance(v, bool) or not isinstance(v, (Integral, np.integer))
                or v < minimum):
            raise ValueError(
                f"{name} must be an int or a (rows, cols) pair of ints >= {minimum}; "
                f"got {value!r}."
            )
    return int(rows), int(cols)


def block_edges(size: int, n_blocks: int, overlap: float = 0.0) -> np.ndarray:
    """Start and stop indices of ``n_blocks`` blocks along an axis of ``size`` pixels.

    Parameters
    ----------
    size : int
        Number of pixels along the axis.
    n_blocks : int
        Number of blocks, ``1 <= n_blocks <= size``.
    overlap : float, default=0.0
        Fraction in ``[0, 1)`` of a block shared with its neighbour.

    Returns
    -------
    edges : ndarray of shape (n_blocks, 2), dtype int
        ``[start, stop)`` of every block.  Without overlap the blocks tile the axis:
        ``stop`` of one block is ``start`` of the next.

    Raises
    ------
    ValueError
        ``n_blocks`` larger than ``size`` (a block would be empty) or an
        ``overlap`` outside ``[0, 1)``.

    Examples
    --------
    >>> from skmer.features import block_edges
    >>> block_edges(28, 5).tolist()
    [[0, 6], [6, 11], [11, 17], [17, 22], [22, 28]]
    >>> block_edges(10, 2, overlap=0.5).tolist()
    [[0, 7], [3, 10]]
    """
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (Integral, np.integer)):
        raise ValueError(f"n_blocks must be an int; got {n_blocks!r}.")
    if not 1 <= n_blocks <= size:
        raise ValueError(
            f"A grid of {n_blocks} blocks does not fit an axis of {size} pixels: "
            f"every block needs at least one pixel (use at most {size} blocks)."
        )
    if not isinstance(overlap, Real) or not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be a float in [0, 1); got {overlap!r}.")
    if overlap == 0.0:
        cuts = np.round(np.linspace(0.0, size, n_blocks + 1)).astype(int)
        return np.stack([cuts[:-1], cuts[1:]], axis=1)
    block = size / (1.0 + (n_blocks - 1) * (1.0 - overlap))
    starts = np.arange(n_blocks) * block * (1.0 - overlap)
    start = np.round(starts).astype(int)
    stop = np.minimum(np.round(starts + block).astype(int), size)
    stop = np.maximum(stop, start + 1)
    return np.stack([start, stop], axis=1)


def _to_grey(frames, where="clip"):
    """(T, H, W) or (T, H, W, C) numeric frames -> float64 (T, H, W)."""
    a = np.asarray(frames)
    if a.ndim == 4:
        if a.shape[-1] == 1:
            a = a[..., 0]
        elif a.shape[-1] in (3, 4):
            # ITU-R BT.601 luma of the RGB channels (alpha ignored), as OpenCV.
            a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        else:
            raise ValueError(
                f"{where} has {a.shape[-1]} channels; LBP-TOP needs grey frames "
                "(T, H, W) or colour frames with 1, 3 (RGB) or 4 (RGBA) channels."
            )
    if a.ndim != 3:
        raise ValueError(
            f"{where} must have shape (n_frames, height, width[, channels]); got "
            f"{a.shape}."
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueError(f"{where} has dtype {a.dtype}; frames must be numeric.")
    return np.asarray(a, dtype=np.float64)


# --------------------------------------------------------------------------------------
# LBP-TOP
# --------------------------------------------------------------------------------------
def n_uniform_bins(n_points: int) -> int:
    """Return the number of bins of the uniform-2 mapping of ``n_points`` neighbours.

    ``P * (P - 1) + 2`` uniform codes plus one bin for all non-uniform codes: 59
    for ``P = 8``.

    Examples
    --------
    >>> from skmer.features import n_uniform_bins
    >>> n_uniform_bins(8)
    59
    """
    return n_points * (n_points - 1) + 3


def uniform_mapping(n_points: int) -> np.ndarray:
    """Return the uniform-2 ("u2") code mapping of the Oulu LBP toolbox.

    A code is *uniform* when its circular bit string has at most two 0/1
    transitions.  The uniform codes are numbered ``0, 1, ...`` in increasing code
    value; every non-uniform code goes to the last bin ``P * (P - 1) + 2``.

    Parameters
    ----------
    n_points : int
        Number of neighbours ``P`` (2 to 16).

    Returns
    -------
    table : ndarray of shape (2 ** n_points,), dtype intp
        ``table[code]`` is the bin of ``code``.

    Examples
    --------
    >>> from skmer.features import uniform_mapping
    >>> table = uniform_mapping(8)
    >>> table[[0, 1, 2, 3, 5, 255]].tolist()
    [0, 1, 2, 3, 58, 57]
    """
    p = int(n_points)
    if not 2 <= p <= 16:
        raise ValueError(f"n_points must be in [2, 16]; got {n_points!r}.")
    codes = np.arange(2**p, dtype=np.int64)
    rotated = ((codes << 1) | (codes >> (p - 1))) & (2**p - 1)
    diff = codes ^ rotated
    transitions = np.zeros_like(codes)
    for bit in range(p):
        transitions += (diff >> bit) & 1
    uniform = transitions <= 2
    table = np.full(2**p, n_uniform_bins(p) - 1, dtype=np.intp)
    table[uniform] = np.arange(int(uniform.sum()))
    return table


def _check_lbp_params(n_points, radii, interpolation):
    if isinstance(n_points, (Integral, np.integer)) and not isinstance(n_points, bool):
        n_points = (n_points,) * 3
    try:
        pts = tuple(n_points)
    except TypeError:
        pts = ()
    if len(pts) != 3 or any(isinstance(p, bool) or not isinstance(
            p, (Integral, np.integer)) or not 2 <= p <= 16 for p in pts):
        raise ValueError(
            "n_points must be an int in [2, 16] or a triple of them (P_XY, P_XT, "
            f"P_YT); got {n_points!r}."
        )
    try:
        rad = tuple(float(r) for r in radii)
    except (TypeError, ValueError):
        rad = ()
    if len(rad) != 3 or not all(np.isfinite(r) and r > 0 for r in rad):
        raise ValueError(
            "radii must be a triple (R_X, R_Y, R_T) of positive numbers; got "
            f"{radii!r}."
        )
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(
            "interpolation must be 'bilinear' or 'nearest'; got "
            f"{interpolation!r}."
        )
    return tuple(int(p) for p in pts), rad


def _plane_offsets(plane, n_points, radii, interpolation):
    """Offsets (d0, d1) of the P samples along the plane's two volume axes."""
    rx, ry, rt = radii
    ang = 2.0 * np.pi * np.arange(n_points) / n_points
    cos, sin = np.cos(ang), np.sin(ang)
    if plane == "xy":    # axes (y, x): (y - R_Y sin, x + R_X cos)
        d0, d1 = -ry * sin, rx * cos
    elif plane == "xt":  # axes (t, x): (t - R_T sin, x + R_X cos)
        d0, d1 = -rt * sin, rx * cos
    else:                # axes (t, y): (t - R_T sin, y - R_Y cos)
        d0, d1 = -rt * sin, -ry * cos
    # Rounded to 5 decimals as scikit-image does (kills the 1e-16 of sin(pi) and
    # makes bilinear sampling identical to ``local_binary_pattern``).
    d0, d1 = np.round(d0, 5), np.round(d1, 5)
    if interpolation == "nearest":
        # Round half up, as floor(x + 0.5) in the authors' MATLAB code.
        d0, d1 = np.floor(d0 + 0.5), np.floor(d1 + 0.5)
    return list(zip(d0.tolist(), d1.tolist()))


_PLANE_AXES = {"xy": (1, 2), "xt": (0, 2), "yt": (0, 1)}


def _shifted(volume, margins, shape, axes, s0, s1):
    """View of ``volume`` at the centre region shifted by ints s0, s1 along axes."""
    sl = [slice(m, m + n) for m, n in zip(margins, shape)]
    for ax, s in zip(axes, (s0, s1)):
        sl[ax] = slice(margins[ax] + s, margins[ax] + s + shape[ax])
    return volume[tuple(sl)]


def _sample(volume, margins, shape, axes, d0, d1):
    """Values at centre + (d0, d1), bilinear (the formula of scikit-image)."""
    f0, f1 = int(np.floor(d0)), int(np.floor(d1))
    w0, w1 = d0 - f0, d1 - f1
    a = _shifted(volume, margins, shape, axes, f0, f1)
    if w0 == 0.0 and w1 == 0.0:
        return a
    if w0 == 0.0:
        return (1.0 - w1) * a + w1 * _shifted(volume, margins, shape, axes, f0, f1 + 1)
    if w1 == 0.0:
        return (1.0 - w0) * a + w0 * _shifted(volume, margins, shape, axes, f0 + 1, f1)
    top = (1.0 - w1) * a + w1 * _shifted(volume, margins, shape, axes, f0, f1 + 1)
    bottom = ((1.0 - w1) * _shifted(volume, margins, shape, axes, f0 + 1, f1)
              + w1 * _shifted(volume, margins, shape, axes, f0 + 1, f1 + 1))
    return (1.0 - w0) * top + w0 * bottom


def _margins(radii, interpolation):
    rx, ry, rt = radii
    if interpolation == "nearest":
        return tuple(int(np.floor(r + 0.5)) for r in (rt, ry, rx))
    return tuple(int(np.ceil(round(r, 5))) for r in (rt, ry, rx))


def lbp_top_codes(
    clip: ArrayLike,
    *,
    n_points: int | tuple[int, int, int] = 8,
    radii: tuple[float, float, float] = (1, 1, 4),
    interpolation: str = "bilinear",
) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """Raw LBP codes of the three orthogonal planes of a clip.

    Parameters
    ----------
    clip : array-like of shape (n_frames, height, width[, channels])
        A grey clip (colour frames are converted to grey, ITU-R BT.601 luma).
    n_points : int or tuple of 3 int, default=8
        Neighbours ``P`` of the XY, XT and YT planes (2 to 16).
    radii : tuple of 3 float, default=(1, 1, 4)
        ``(R_X, R_Y, R_T)``.
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        How samples between pixels are read (see :func:`lbp_top`).

    Returns
    -------
    codes : dict of str to ndarray of shape (T - 2 m_T, H - 2 m_Y, W - 2 m_X)
        ``{"xy": ..., "xt": ..., "yt": ...}``: the code of every voxel at least the
        radius from every border (``m = ceil(R)``, or ``round(R)`` for nearest),
        bit ``p`` set when sample ``p`` is ``>=`` the centre.
    margins : tuple of int
        ``(m_T, m_Y, m_X)``: the code of voxel ``[t, y, x]`` of the clip is
        ``codes[plane][t - m_T, y - m_Y, x - m_X]``.

    Raises
    ------
    ValueError
        A clip with fewer than ``2 m + 1`` frames, rows or columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import lbp_top_codes
    >>> clip = np.arange(5 * 6 * 6).reshape(5, 6, 6)
    >>> codes, margins = lbp_top_codes(clip, radii=(1, 1, 1))
    >>> codes["xy"].shape, margins
    ((3, 4, 4), (1, 1, 1))
    """
    pts, rad = _check_lbp_params(n_points, radii, interpolation)
    volume = _to_grey(clip)
    margins = _margins(rad, interpolation)
    shape = tuple(n - 2 * m for n, m in zip(volume.shape, margins))
    if min(shape) < 1:
        names = ("frames", "rows", "columns")
        bad = [f"{n} {names[i]} (needs at least {2 * m + 1})"
               for i, (n, m) in enumerate(zip(volume.shape, margins)) if n < 2 * m + 1]
        raise ValueError(
            f"The clip of shape {volume.shape[:3]} is smaller than the LBP-TOP "
            f"radii (R_X, R_Y, R_T)={rad}: it has " + ", ".join(bad) + "."
        )
    centre = _shifted(volume, margins, shape, (0, 1), 0, 0)
    scale = float(np.max(np.abs(centre))) if centre.size else 0.0
    tol = _TIE_RTOL * max(1.0, scale) if interpolation == "bilinear" else 0.0
    threshold = centre - tol if tol else centre
    codes = {}
    for plane, p in zip(PLANES, pts):
        dtype = np.uint8 if p <= 8 else np.uint16
        code = np.zeros(shape, dtype=dtype)
        bit = np.empty(shape, dtype=bool)
        axes = _PLANE_AXES[plane]
        for k, (d0, d1) in enumerate(_plane_offsets(plane, p, rad, interpolation)):
            np.greater_equal(_sample(volume, margins, shape, axes, d0, d1),
                             threshold, out=bit)
            code |= bit.astype(dtype) << dtype(k)
        codes[plane] = code
    return codes, margins


def _block_slices(length, margin, n_valid, n_blocks, overlap, axis_name):
    """Block edges over the frame, clipped to the valid centre range (local idx)."""
    edges = block_edges(length, n_blocks, overlap)
    out = []
    for k, (a, b) in enumerate(edges):
        lo, hi = max(a, margin) - margin, min(b, margin + n_valid) - margin
        if hi <= lo:
            raise ValueError(
                f"Block {axis_name} {k} ([{a}, {b}) of {length} pixels) holds no "
                f"pixel at least the radius ({margin}) from the border: use fewer "
                f"blocks than {n_blocks} or larger frames."
            )
        out.append((lo, hi))
    return out


def lbp_top(clip: ArrayLike, *, n_points: int | tuple[int, int, int] = 8,
            radii: tuple[float, float, float] = (1, 1, 4),
            interpolation: str = "bilinear", n_blocks: int | tuple[int, int] = (5, 5),
            overlap: float = 0.0) -> np.ndarray:
    """LBP-TOP histograms of one clip (LBP on three orthogonal planes).

    For every voxel at least the radius from every border, the ``P`` samples of
    each plane are compared with the centre ``g_c``:

    - XY: ``(x + R_X cos 2πp/P, y - R_Y sin 2πp/P)`` in the same frame,
    - XT: ``(x + R_X cos 2πp/P, t - R_T sin 2πp/P)`` in the same row,
    - YT: ``(y - R_Y cos 2πp/P, t - R_T sin 2πp/P)`` in the same column,

    and bit ``p`` of the code is ``g_p >= g_c``.  Codes are mapped with the
    uniform-2 mapping (:func:`uniform_mapping`, 59 bins for ``P = 8``), counted
    per block of a ``rows x cols`` grid over the frame, each plane's histogram is
    normalised to sum 1, and the block histograms XY | XT | YT are concatenated
    block after block (row-major).

    Parameters
    ----------
    clip : array-like of shape (n_frames, height, width[, channels])
        The clip (colour frames are converted to grey, ITU-R BT.601 luma).  Every
        frame is used; select or resample frames beforehand if needed.
    n_points : int or tuple of 3 int, default=8
        Neighbours ``P`` of the XY, XT and YT planes (2 to 16).
    radii : tuple of 3 float, default=(1, 1, 4)
        ``(R_X, R_Y, R_T)`` in pixels and frames.
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        ``"bilinear"``: samples between pixels are interpolated bilinearly in the
        plane (offsets rounded to 5 decimals, as scikit-image does); equality is
        tested with a relative tolerance of 1e-10 of the clip's largest value, so
        that a flat neighbourhood always gives ``g_p >= g_c``.  ``"nearest"``:
        each offset is rounded to the nearest integer (halves up).
    n_blocks : int or tuple of (int, int), default=(5, 5)
        Block grid ``(rows, cols)`` over the frame (:func:`block_edges`).
    overlap : float, default=0.0
        Fraction in ``[0, 1)`` of a block shared with its neighbours.

    Returns
    -------
    features : ndarray of shape (rows * cols * 3 * n_bins,), dtype float64
        With the default ``P = 8`` and 5x5 blocks: 25 * 3 * 59 = 4425 values;
        every block-plane histogram sums to 1.

    Raises
    ------
    ValueError
        Bad parameters, a clip smaller than the radii, or a block grid so fine
        that a block holds no voxel at least the radius from the border.

    See Also
    --------
    lbp_top_codes : The raw codes of the three planes.
    skmer.features.LBPTOP : The estimator.

    Notes
    -----
    Codes are computed once on the whole clip, then counted per block, so the
    samples of a voxel near a block edge may lie in the neighbouring block (a
    block is not cut out as a separate volume first).  A block counts the valid
    voxels (at least the radius from the clip's borders) inside it.

    The XY plane with ``R_X = R_Y = R`` is :func:`skimage.feature.local_binary_pattern`
    ``(frame, P, R, method="default")`` on every frame, voxel for voxel, except on
    exact ties of an interpolated sample, which skmer reads as ``g_p >= g_c``;
    ``method="nri_uniform"`` numbers the uniform codes in another order than the
    Oulu toolbox (see the documentation, ``docs/features.md``).

    References
    ----------
    .. [1] G. Zhao and M. Pietikäinen, "Dynamic Texture Recognition Using Local
       Binary Patterns with an Application to Facial Expressions", IEEE TPAMI 29(6),
       2007, :doi:`10.1109/TPAMI.2007.1110`.
    .. [2] T. Ojala, M. Pietikäinen and T. Mäenpää, "Multiresolution gray-scale and
       rotation invariant texture classification with local binary patterns", IEEE
       TPAMI 24(7), 2002, :doi:`10.1109/TPAMI.2002.1017623`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import lbp_top
    >>> rng = np.random.default_rng(0)
    >>> clip = rng.integers(0, 256, size=(9, 20, 20), dtype=np.uint8)
    >>> f = lbp_top(clip, n_blocks=(2, 2))
    >>> f.shape, float(f[:59].sum()), float(f.sum())
    ((708,), 1.0, 12.0)
    """
    pts, rad = _check_lbp_params(n_points, radii, interpolation)
    rows, cols = _pair(n_blocks, "n_blocks")
    if not isinstance(overlap, Real) or not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be a float in [0, 1); got {overlap!r}.")
    frames = np.asarray(clip)
    if frames.ndim not in (3, 4):
        raise ValueError(
            "clip must have shape (n_frames, height, width[, channels]); got "
            f"{frames.shape}."
        )
    h, w = frames.shape[1:3]
    if rows > h or cols > w:
        raise ValueError(
            f"The block grid n_blocks=({rows}, {cols}) is larger than the frames "
            f"({h}x{w} pixels)."
        )
    codes, (mt, my, mx) = lbp_top_codes(frames, n_points=pts, radii=rad,
                                        interpolation=interpolation)
    n_valid_y, n_valid_x = codes["xy"].shape[1:]
    ys = _block_slices(h, my, n_valid_y, rows, overlap, "row")
    xs = _block_slices(w, mx, n_valid_x, cols, overlap, "column")
    hists = []
    for plane, p in zip(PLANES, pts):
        nb = n_uniform_bins(p)
        mapped = uniform_mapping(p)[codes[plane]]
        if overlap == 0.0:
            # One bincount: label every voxel with its block.
            row_of = np.empty(n_valid_y, dtype=np.intp)
            col_of = np.empty(n_valid_x, dtype=np.intp)
            for k, (a, b) in enumerate(ys):
                row_of[a:b] = k
            for k, (a, b) in enumerate(xs):
                col_of[a:b] = k
            block = (row_of[:, None] * cols + col_of[None, :]) * nb
            counts = np.bincount((mapped + block[None]).ravel(),
                                 minlength=rows * cols * nb)
            counts = counts.reshape(rows * cols, nb)
        else:
            counts = np.stack([
                np.bincount(mapped[:, ya:yb, xa:xb].ravel(), minlength=nb)
                for ya, yb in ys for xa, xb in xs
            ])
        hists.append(counts / counts.sum(axis=1, keepdims=True))
    # (plane, block, bin) -> (block, plane, bin)
    out = [np.concatenate([h_[b] for h_ in hists]) for b in range(rows * cols)]
    return np.concatenate(out)


# --------------------------------------------------------------------------------------
# Bi-WOOF
# --------------------------------------------------------------------------------------
def _strain(u, v):
    """Optical strain magnitude (as :func:`skmer.preprocessing.optical_strain`)."""
    u_y, u_x = np.gradient(u)
    v_y, v_x = np.gradient(v)
    return np.sqrt(u_x**2 + v_y**2 + 0.5 * (u_y + v_x) ** 2)


def orientation_bins(n_bins=8):
    """Edges (radians) of the Bi-WOOF orientation bins.

    Bin ``k`` holds the orientations ``theta = atan2(v, u)`` in
    ``[-pi + 2 pi k / C, -pi + 2 pi (k + 1) / C)``; ``theta = pi`` is the same
    direction as ``-pi`` and falls in bin 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features._kernels import orientation_bins
    >>> np.degrees(orientation_bins(4)).tolist()
    [-180.0, -90.0, 0.0, 90.0, 180.0]
    """
    return -np.pi + 2.0 * np.pi * np.arange(n_bins + 1) / n_bins


def bi_woof(flow: ArrayLike, *, n_blocks: int | tuple[int, int] = (5, 5),
            n_bins: int = 8, strain: str = "auto", center: str = "none",
            strain_weight: str = "mean") -> np.ndarray:
    """Bi-WOOF feature (bi-weighted oriented optical flow) of one flow field.

    Per pixel, the orientation ``theta = atan2(v, u)``, the magnitude
    ``rho = sqrt(u**2 + v**2)`` and the optical strain ``epsilon`` are computed.
    In every block of an ``N x N`` grid, an orientation histogram of ``C`` bins is
    built in which every pixel votes with its magnitude (local weighting); it is
    normalised to sum 1 and multiplied by the block's optical-strain weight
    (global weighting).  The blocks' histograms are concatenated (row-major) and
    the vector is L2-normalised.

    Parameters
    ----------
    flow : array-like of shape (2, height, width) or (3, height, width)
        Channels ``u`` (along x, positive to the right), ``v`` (along y, positive
        downwards) and optionally the optical strain, as produced by
        :class:`skmer.preprocessing.FlowExtractor` (one sample of its output).
    n_blocks : int or tuple of (int, int), default=(5, 5)
        Block grid ``(rows, cols)`` (:func:`block_edges`, no overlap).
    n_bins : int, default=8
        Orientation bins ``C`` over the full circle (:func:`orientation_bins`).
    strain : {"auto", "compute"}, default="auto"
        ``"auto"``: use the third channel as the strain when present, else compute
        it from ``u`` and ``v``; ``"compute"``: always compute it (central
        differences, as :func:`skmer.preprocessing.optical_strain`).
    center : {"none", "median"}, default="none"
        ``"median"`` subtracts each image's median of ``u`` and of ``v`` before
        orientations and magnitudes are computed: a best-effort zero for flow
        images that were min-max scaled (see Notes).  The strain is not changed
        (derivatives ignore a constant).
    strain_weight : {"mean", "sum"}, default="mean"
        The block weight: the mean or the sum of the strain over the block (the
        authors' MATLAB code sums; with equal blocks the two differ by a constant
        factor, which the final L2 normalisation removes).

    Returns
    -------
    features : ndarray of shape (rows * cols * n_bins,), dtype float64
        Unit L2 norm (all zeros when there is no motion or no strain at all).

    Raises
    ------
    ValueError
        A flow with other than 2 or 3 channels, non-finite values, a block grid
        larger than the image, or a bad parameter.

    See Also
    --------
    skmer.features.BiWOOF : The estimator (flow arrays or clips).

    Notes
    -----
    *Bins.*  Bin ``k`` covers ``[-180 + k 360/C, -180 + (k + 1) 360/C)`` degrees
    of ``atan2(v, u)`` in image axes (``v`` points down), so every direction is
    counted.  The authors' MATLAB code bins with ``weightedhistc`` on the edges
    ``-180 : 360/C : 179``, whose last bin only catches orientations exactly at
    ``135`` degrees (C = 8): motion in ``(135, 180]`` degrees is dropped there.

    *Blocks.*  skmer tiles the image with non-overlapping blocks whose edges are
    ``round(k * H / N)``.  The MATLAB code uses ``h = floor(H / N)`` and blocks
    ``[(k-1) h, k h + 1]`` (1-based, inclusive), so inner blocks overlap their
    neighbours by two rows/columns and the last block takes the remainder.

    *Min-max scaled flow* (e.g. :func:`skmer.datasets.load_flow_images`, each
    channel of each image scaled to [0, 1]): the scaling moved the zero of ``u``
    and ``v`` and stretched them by different, unknown factors, which cannot be
    undone.  Orientations of such images are only meaningful after choosing a
    zero; ``center="median"`` takes the median of the image (most of a face does
    not move), the stretch of ``u`` against ``v`` remains.  Their strain channel
    is a scaled strain, which after the final normalisation only changes the
    relative weight of the blocks through the offset of its minimum.

    References
    ----------
    .. [1] S.-T. Liong, J. See, K. Wong and R. C.-W. Phan, "Less is more:
       Micro-expression recognition from video using apex frame", Signal
       Processing: Image Communication 62, 2018,
       :doi:`10.1016/j.image.2017.11.006`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.features import bi_woof
    >>> flow = np.zeros((3, 10, 10))
    >>> flow[0] = 1.0          # u = 1: every pixel moves right (0 degrees)
    >>> flow[2] = 1.0          # the same strain in every block
    >>> f = bi_woof(flow, n_blocks=2, n_bins=4)
    >>> f.reshape(4, 4).round(2).tolist()[0]  # block (0, 0): all mass in bin 2
    [0.0, 0.0, 0.5, 0.0]
    """
    a = np.asarray(flow)
    if a.ndim != 3 or a.shape[0] not in (2, 3):
        raise ValueError(
            "flow must have shape (2, height, width) or (3, height, width) with "
            f"channels u, v[, strain]; got {a.shape}."
        )
    if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
        raise ValueError("flow must hold finite numbers.")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (Integral, np.integer)) \
            or n_bins < 1:
        raise ValueError(f"n_bins must be an int >= 1; got {n_bins!r}.")
    if strain not in ("auto", "compute"):
        raise ValueError(f"strain must be 'auto' or 'compute'; got {strain!r}.")
    if center not in ("none", "median"):
        raise ValueError(f"center must be 'none' or 'median'; got {center!r}.")
    if strain_weight not in ("mean", "sum"):
        raise ValueError(
            f"strain_weight must be 'mean' or 'sum'; got {strain_weight!r}."
        )
    rows, cols = _pair(n_blocks, "n_blocks")
    h, w = a.shape[1:]
    if rows > h or cols > w:
        raise ValueError(
            f"The block grid n_blocks=({rows}, {cols}) is larger than the flow "
            f"image ({h}x{w} pixels)."
        )
    u = a[0].astype(np.float64)
    v = a[1].astype(np.float64)
    if a.shape[0] == 3 and strain == "auto":
        eps = a[2].astype(np.float64)
    else:
        if min(h, w) < 2:
            raise ValueError(
                f"Computing the strain needs a flow of at least 2x2 pixels; got "
                f"{h}x{w}."
            )
        eps = _strain(u, v)
    if center == "median":
        u = u - np.median(u)
        v = v - np.median(v)
    rho = np.hypot(u, v)
    theta = np.arctan2(v, u)
    k = np.floor((theta + np.pi) * (n_bins / (2.0 * np.pi))).astype(np.intp)
    k %= n_bins  # theta = pi wraps to bin 0
    ys, xs = block_edges(h, rows), block_edges(w, cols)
    row_of = np.repeat(np.arange(rows), ys[:, 1] - ys[:, 0])
    col_of = np.repeat(np.arange(cols), xs[:, 1] - xs[:, 0])
    block = row_of[:, None] * cols + col_of[None, :]
    n = rows * cols
    hist = np.bincount((block * n_bins + k).ravel(), weights=rho.ravel(),
                       minlength=n * n_bins).reshape(n, n_bins)
    total = hist.sum(axis=1, keepdims=True)
    hist = np.divide(hist, total, out=np.zeros_like(hist), where=total > 0)
    weight = np.bincount(block.ravel(), weights=eps.ravel(), minlength=n)
    if strain_weight == "mean":
        weight = weight / np.bincount(block.ravel(), minlength=n)
    feat = (hist * weight[:, None]).ravel()
    norm = np.linalg.norm(feat)
    return feat / norm if norm > 0 else feat

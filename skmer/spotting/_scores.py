"""Per-frame change scores of a long face video: LBP feature difference and MDMD.

Both kernels take grey frames ``(T, H, W)`` (a face crop) and a half window ``k`` in
frames, and return one score per frame: how much frame ``i`` differs from the frames
``k`` before and ``k`` after it, in a grid of blocks over the face.

:func:`lbp_difference_scores`
    The feature-difference analysis of Moilanen, Zhao and Pietikäinen (ICPR 2014),
    the spotting baseline of Li et al. (IEEE TAC 2018) and of MEGC2019: a uniform
    LBP histogram (P = 8, R = 1, 59 bins: the XY plane of skmer's LBP-TOP, mapped by
    :func:`~skmer.features.uniform_mapping`) per block of a 6 x 6 grid;
    the chi-squared distance of each block's histogram in frame ``i`` to the average
    of the histograms in frames ``i - k`` and ``i + k``; the mean of the largest third
    of the block distances.
:func:`mdmd_scores`
    Main directional maximal difference (Wang et al., Neurocomputing 2017, and the
    MEGC2020 baseline): the optical flow from frame ``i - k`` to frame ``i`` and to
    frame ``i + k``; in each block, the main direction (the quadrant holding most
    vectors of the first flow) and, for its vectors, the magnitude difference
    ``|flow(i-k -> i)| - |flow(i-k -> i+k)|``: large when the face moved away and came
    back within ``2k`` frames, negative for a movement that goes on; the mean of the
    largest third of those differences per block, then of the largest third of the
    blocks (those covering the eyebrows, eyes and mouth when landmarks are known).
"""

from __future__ import annotations

import numpy as np

from skmer.features import block_edges, uniform_mapping
from skmer.preprocessing import affine_flow, optical_flow

__all__ = ["LBPScorer", "MDMDScorer", "lbp_difference_scores", "mdmd_scores"]

_N_BINS = 59
# dlib 68-point markup: 17-26 eyebrows, 36-47 eyes, 48-67 mouth
REGION_POINTS = {"brow": np.arange(17, 27), "eye": np.arange(36, 48),
                 "mouth": np.arange(48, 68)}


def _top_third_mean(values, axis=-1):
    """Mean of the largest third (at least one) of ``values`` along ``axis``."""
    v = np.sort(values, axis=axis)
    n = v.shape[axis]
    m = max(1, int(round(n / 3)))
    return np.take(v, np.arange(n - m, n), axis=axis).mean(axis=axis)


def lbp_block_histograms(frames, n_blocks=(6, 6)):
    """Uniform LBP (P=8, R=1) histograms of every block of every frame.

    ``frames`` are grey uint8 ``(T, H, W)``.  The codes are scikit-image's
    ``local_binary_pattern(frame, 8, 1, method="default")`` (the XY plane of
    :func:`~skmer.features.lbp_top_codes`, up to exact ties of interpolated samples),
    mapped to the 59 uniform-2 bins of :func:`~skmer.features.uniform_mapping`;
    pixels within the radius of the border are left out.  Returns an array of shape
    ``(T, rows * cols, 59)``, each histogram summing to 1.
    """
    from skimage.feature import local_binary_pattern

    frames = np.asarray(frames)
    t, h, w = frames.shape
    table = uniform_mapping(8)
    rows = block_edges(h - 2, n_blocks[0])
    cols = block_edges(w - 2, n_blocks[1])
    out = np.empty((t, len(rows) * len(cols), _N_BINS))
    for i, frame in enumerate(frames):
        codes = local_binary_pattern(frame, 8, 1, method="default")[1:-1, 1:-1]
        bins = table[codes.astype(np.intp)]
        b = 0
        for r0, r1 in rows:
            for c0, c1 in cols:
                block = bins[r0:r1, c0:c1]
                out[i, b] = np.bincount(block.ravel(), minlength=_N_BINS) / block.size
                b += 1
    return out


def _chi2(p, q):
    """Chi-squared distance along the last axis (0/0 counts as 0)."""
    num = (p - q) ** 2
    den = p + q
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0).sum(axis=-1)


def lbp_difference_scores(frames, k, *, n_blocks=(6, 6)):
    """LBP feature-difference score of every frame (see the module docstring).

    At the ends, where frame ``i - k`` or ``i + k`` does not exist, frame ``i`` is
    compared with the one that does.
    """
    return LBPScorer(frames, n_blocks).scores(k)


def region_block_mask(shape, n_blocks, landmarks, regions=("brow", "eye", "mouth"),
                      margin=0.15):
    """Blocks of the grid that overlap the boxes of the facial ``regions``.

    The box of a region is the bounding box of its landmarks, grown by ``margin``
    times the inter-ocular distance on every side.  Returns a boolean array
    ``(rows * cols,)``; all True when ``landmarks`` is None.
    """
    rows = block_edges(shape[0], n_blocks[0])
    cols = block_edges(shape[1], n_blocks[1])
    if landmarks is None:
        return np.ones(len(rows) * len(cols), dtype=bool)
    lm = np.asarray(landmarks, dtype=np.float64)
    iod = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    pad = margin * iod
    mask = np.zeros((len(rows), len(cols)), dtype=bool)
    for region in regions:
        pts = lm[REGION_POINTS[region]]
        x0, y0 = pts.min(0) - pad
        x1, y1 = pts.max(0) + pad
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                if r0 <= y1 and r1 - 1 >= y0 and c0 <= x1 and c1 - 1 >= x0:
                    mask[i, j] = True
    return mask.ravel()


def _mdmd_blocks(f1, f2, rows, cols):
    """Per-block main-directional magnitude difference of two flows from one frame."""
    u, v = f1[..., 0], f1[..., 1]
    # quadrants of the first flow's direction: 0 <= angle < 90, 90..180, ...
    quad = ((np.arctan2(v, u) % (2 * np.pi)) // (np.pi / 2)).astype(np.intp) % 4
    diff = np.hypot(u, v) - np.hypot(f2[..., 0], f2[..., 1])
    out = np.empty(len(rows) * len(cols))
    b = 0
    for r0, r1 in rows:
        for c0, c1 in cols:
            q = quad[r0:r1, c0:c1].ravel()
            d = diff[r0:r1, c0:c1].ravel()
            main = np.bincount(q, minlength=4).argmax()
            out[b] = _top_third_mean(d[q == main])
            b += 1
    return out


def _steady(flow):
    """Remove the affine flow fitted to the whole frame (rigid head motion).

    :func:`~skmer.preprocessing.affine_flow` takes out translation, in-plane
    rotation and scaling of the head to first order; a local facial movement
    covers too little of the face to move the fit much.
    """
    return (flow - affine_flow(flow)).astype(np.float32)


def mdmd_scores(frames, k, *, n_blocks=(6, 6), block_mask=None, method="dis"):
    """MDMD score of every frame (see the module docstring), in pixels.

    Each flow has the affine flow fitted to the whole face removed first (rigid
    head motion is not a facial movement).  At the ends, the missing frame ``i - k``
    (``i + k``) is replaced by frame 0 (the last frame).
    """
    return MDMDScorer(frames, n_blocks, block_mask, method).scores(k)

class LBPScorer:
    """LBP block histograms of a grey face video: scores and frame distances."""

    def __init__(self, frames, n_blocks=(6, 6)):
        self.hist = lbp_block_histograms(frames, n_blocks)

    def scores(self, k):
        """Feature-difference score of every frame (:func:`lbp_difference_scores`)."""
        hist = self.hist
        t = len(hist)
        idx = np.arange(t)
        before, after = np.clip(idx - k, 0, t - 1), np.clip(idx + k, 0, t - 1)
        has_b = (idx - k >= 0)[:, None, None]
        has_a = (idx + k < t)[:, None, None]
        ref = np.where(has_b & has_a, (hist[before] + hist[after]) / 2.0,
                       np.where(has_b, hist[before], hist[after]))
        return _top_third_mean(_chi2(hist, ref), axis=1)

    def profile(self, a, k, ref1, ref2, step=1):
        """Change of frames ``ref1..ref2`` (every ``step``) in the apex's blocks.

        The three blocks that change most at apex ``a`` are compared, frame by
        frame, with the histogram interpolated linearly in time between frames
        ``ref1`` and ``ref2`` (chi-squared distance, mean over the three blocks).
        """
        hist = self.hist
        t = len(hist)
        ref = (hist[max(a - k, 0)] + hist[min(a + k, t - 1)]) / 2.0
        blocks = np.argsort(_chi2(hist[a], ref))[-3:]
        frames = np.arange(ref1, ref2 + 1, step)
        lam = ((frames - ref1) / max(ref2 - ref1, 1))[:, None, None]
        line = (1 - lam) * hist[ref1][blocks] + lam * hist[ref2][blocks]
        return _chi2(hist[frames][:, blocks], line).mean(axis=1)


class MDMDScorer:
    """Optical flow of a grey uint8 face video: MDMD scores and frame distances."""

    def __init__(self, frames, n_blocks=(6, 6), block_mask=None, method="dis"):
        self.frames = np.asarray(frames)
        h, w = self.frames.shape[1:]
        self.rows = block_edges(h, n_blocks[0])
        self.cols = block_edges(w, n_blocks[1])
        n = len(self.rows) * len(self.cols)
        self.mask = np.ones(n, dtype=bool) if block_mask is None else block_mask
        self.method = method

    def _flow(self, a, b):
        if a == b:
            return np.zeros(self.frames.shape[1:] + (2,), dtype=np.float32)
        return _steady(optical_flow(self.frames[a], self.frames[b],
                                    method=self.method))

    def scores(self, k):
        """MDMD score of every frame (:func:`mdmd_scores`), pixels."""
        t = len(self.frames)
        s = np.empty(t)
        for i in range(t):
            head, tail = max(i - k, 0), min(i + k, t - 1)
            blocks = _mdmd_blocks(self._flow(head, i), self._flow(head, tail),
                                  self.rows, self.cols)
            s[i] = _top_third_mean(blocks[self.mask])
        return s

    def profile(self, a, k, ref1, ref2, step=1):
        """Displacement of frames ``ref1..ref2`` (every ``step``) in the apex's block.

        The block with the largest MDMD value at apex ``a`` and the direction of its
        movement (the mean flow from frame ``a - k`` to ``a`` there) are found; the
        block's mean displacement from frame ``ref1`` to each frame ``j``, minus its
        linear interpolation between ``ref1`` and ``ref2`` (drift), along the
        movement's direction is returned (pixels, signed: positive while the face is
        moved as at the apex).
        """
        t = len(self.frames)
        head, tail = max(a - k, 0), min(a + k, t - 1)
        rising = self._flow(head, a)
        blocks = _mdmd_blocks(rising, self._flow(head, tail), self.rows, self.cols)
        blocks[~self.mask] = -np.inf
        b = int(np.argmax(blocks))
        r0, r1 = self.rows[b // len(self.cols)]
        c0, c1 = self.cols[b % len(self.cols)]
        direction = rising[r0:r1, c0:c1].reshape(-1, 2).mean(axis=0)
        norm = np.hypot(*direction)
        direction = direction / norm if norm > 0 else np.array([0.0, 1.0])
        # d(j) - line(j) = flow(ref1 -> j) - lam * flow(ref1 -> ref2), at ref1's pixels
        span = self._flow(ref1, ref2)[r0:r1, c0:c1].reshape(-1, 2).mean(axis=0)
        out = []
        for j in range(ref1, ref2 + 1, step):
            lam = (j - ref1) / max(ref2 - ref1, 1)
            moved = self._flow(ref1, j)[r0:r1, c0:c1].reshape(-1, 2).mean(axis=0)
            out.append(float((moved - lam * span) @ direction))
        return np.array(out)

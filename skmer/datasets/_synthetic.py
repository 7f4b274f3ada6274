"""Synthetic micro-expressions: a real face, subject variation, AU-like motion.

The generator warps one real face image (``skimage.data.astronaut``) into many
"subjects" (pose, scale, mirroring, illumination and skin texture differ) and plays,
in every clip, one small, localised, action-unit-like deformation whose direction and
place depend on the class.  Subjects differ far more than classes do in a single frame,
so classifiers on raw pixels fail under leave-one-subject-out evaluation, while the
motion between onset and apex separates the classes cleanly: the same situation as in
real micro-expression corpora, at demo and test scale.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

from skmer._core import Clip, ClipSequence

__all__ = ["make_micro_expressions"]

# Face geometry of ``skimage.data.astronaut()`` in source pixels, (x, y).  The face
# square is the region a face cropper would keep (brows to chin, cheek to cheek).
_FACE_CENTER = (226.0, 127.0)
_FACE_SIZE = 132.0

# One entry per class: (name, action units, components).  A component is a Gaussian
# window (centre (x, y) and sigma, source pixels) that moves in direction (dx, dy)
# (image axes: +y is down).  The displacement field of a clip is the sum of its
# components, normalised to a unit peak and then scaled by the clip's amplitude.
_S = np.sqrt(0.5)
_PATTERNS = (
    ("negative", "AU4 brow lowerer", (
        ((215.0, 92.0), 9.0, (0.5, 1.0)),      # inner brows: down and together
        ((236.0, 92.0), 9.0, (-0.5, 1.0)),
        ((201.0, 90.0), 9.0, (0.25, 0.6)),
        ((250.0, 91.0), 9.0, (-0.25, 0.6)),
    )),
    ("positive", "AU12 lip corner puller", (
        ((203.0, 143.0), 9.0, (-_S, -_S)),     # mouth corners: up and out
        ((247.0, 143.0), 9.0, (_S, -_S)),
        ((206.0, 128.0), 11.0, (0.0, -0.35)),  # cheeks follow a little (AU6)
        ((244.0, 128.0), 11.0, (0.0, -0.35)),
    )),
    ("surprise", "AU1+AU2 brow raiser", (
        ((189.0, 93.0), 9.0, (0.0, -0.8)),     # the whole brows: up
        ((201.0, 89.0), 9.0, (0.0, -1.0)),
        ((215.0, 92.0), 9.0, (0.0, -1.0)),
        ((236.0, 92.0), 9.0, (0.0, -1.0)),
        ((250.0, 90.0), 9.0, (0.0, -1.0)),
        ((262.0, 94.0), 9.0, (0.0, -0.8)),
    )),
    ("class3", "AU15 lip corner depressor", (
        ((203.0, 144.0), 9.0, (-0.3, 1.0)),    # mouth corners: down
        ((247.0, 144.0), 9.0, (0.3, 1.0)),
    )),
    ("class4", "AU9 nose wrinkler", (
        ((213.0, 126.0), 9.0, (0.3, -1.0)),    # nose wings and upper lip: up
        ((238.0, 126.0), 9.0, (-0.3, -1.0)),
        ((225.0, 139.0), 9.0, (0.0, -0.6)),
    )),
    ("class5", "AU26 jaw drop", (
        ((225.0, 153.0), 11.0, (0.0, 1.0)),    # lower lip and chin: down
        ((225.0, 176.0), 14.0, (0.0, 1.0)),
    )),
)
MAX_CLASSES = len(_PATTERNS)

_SOURCE = {}


def _source_image(color):
    """Return the astronaut as float32 (grey or RGB), cached."""
    key = "rgb" if color else "grey"
    if key not in _SOURCE:
        import cv2
        from skimage.data import astronaut

        img = astronaut()
        if not color:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
        _SOURCE[key] = np.ascontiguousarray(img, dtype=np.float32)
    return _SOURCE[key]


def _check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an int, got {value!r}.")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {bound}, got {value!r}.")
    return int(value)


def _check_real(value, name, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got "
                         f"{value!r}.")
    return float(value)


def _check_n_frames(n_frames):
    if isinstance(n_frames, (tuple, list)):
        if len(n_frames) != 2:
            raise ValueError(
                f"n_frames must be an int or a (min, max) pair, got {n_frames!r}.")
        lo = _check_int(n_frames[0], "n_frames[0] (min)", 3)
        hi = _check_int(n_frames[1], "n_frames[1] (max)", lo)
        return lo, hi
    n = _check_int(n_frames, "n_frames", 3)
    return n, n


def _check_frame_shape(frame_shape):
    if not isinstance(frame_shape, (tuple, list)) or len(frame_shape) != 2:
        raise ValueError(
            f"frame_shape must be a (height, width) pair, got {frame_shape!r}.")
    return tuple(_check_int(s, "frame_shape", 16) for s in frame_shape)


def _temporal_profile(n_frames, onset, apex, offset):
    """Raised-cosine rise from onset (0) to apex (1) and fall to offset (0)."""
    t = np.arange(n_frames, dtype=np.float64)
    rise = 0.5 * (1.0 - np.cos(np.pi * (t - onset) / (apex - onset)))
    fall = 0.5 * (1.0 + np.cos(np.pi * (t - apex) / (offset - apex)))
    prof = np.where(t <= apex, rise, fall)
    prof[(t <= onset) | (t >= offset)] = 0.0
    return prof


def _subject_pose(rng, frame_shape):
    """Random per-subject geometry: output pixel -> source pixel affine parameters."""
    return {
        "scale": rng.uniform(0.82, 1.18),  # zoom of the face in the frame
        "angle": np.deg2rad(rng.uniform(-9.0, 9.0)),
        "shift": rng.uniform(-0.09, 0.09, size=2) * np.array(frame_shape[::-1]),
        "flip": rng.random_sample() < 0.5,
    }


def _affine(pose, frame_shape, jitter=(0.0, 0.0)):
    """2x3 matrix mapping output pixel (x, y) to astronaut pixel (x, y)."""
    h, w = frame_shape
    # source pixels per output pixel (the face square fills the shorter side)
    k = _FACE_SIZE / min(h, w) / pose["scale"]
    c, s = np.cos(pose["angle"]), np.sin(pose["angle"])
    lin = k * np.array([[c, -s], [s, c]])
    if pose["flip"]:
        lin = lin @ np.diag([-1.0, 1.0])
    out_c = np.array([(w - 1) / 2.0, (h - 1) / 2.0]) + pose["shift"] + jitter
    trans = np.asarray(_FACE_CENTER) - lin @ out_c
    return np.hstack([lin, trans[:, None]])


def _displacement_field(label, matrix, grid):
    """Unit-peak displacement field ``(H, W, 2)`` (dx, dy) in output pixels.

    A clip's frame ``t`` is its neutral face warped by
    ``peak * profile[t] * field``: the face content at ``x`` moves to ``x + d``.
    """
    xx, yy = grid
    lin, trans = matrix[:, :2], matrix[:, 2]
    inv = np.linalg.inv(lin)
    k = np.sqrt(abs(np.linalg.det(lin)))  # source pixels per output pixel
    comps = _PATTERNS[label][2]
    centers = np.array([c for c, _, _ in comps])            # (K, 2) source
    sigmas = np.array([s for _, s, _ in comps]) / k          # (K,) output pixels
    dirs = np.array([d for _, _, d in comps]) @ inv.T       # (K, 2) output axes
    centers = (centers - trans) @ inv.T                     # (K, 2) output
    d2 = ((xx[None] - centers[:, 0, None, None]) ** 2
          + (yy[None] - centers[:, 1, None, None]) ** 2)
    win = np.exp(-d2 / (2.0 * sigmas[:, None, None] ** 2))  # (K, H, W)
    field = np.einsum("khw,kc->hwc", win, dirs)
    peak = np.sqrt((field ** 2).sum(-1)).max()
    return field / peak if peak > 0 else field


def _smooth_noise(rng, shape, sigma, std):
    import cv2

    field = rng.standard_normal(shape).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigma)
    return field * np.float32(std / max(float(field.std()), 1e-6))


def _render_clip(src, matrix, field, displacement, grid):
    """Warp ``src`` into ``len(displacement)`` float32 frames ``(T, H, W[, C])``.

    Frame ``t`` at output pixel ``x`` shows the neutral face at
    ``x - displacement[t] * field(x)`` (backward map), sampled bilinearly in ``src``
    through the affine ``matrix`` (output pixel -> source pixel).
    """
    import cv2

    xx, yy = grid
    h, w = xx.shape
    n_frames = len(displacement)
    s = np.asarray(displacement)[:, None, None]
    px = xx[None] - s * field[None, ..., 0]
    py = yy[None] - s * field[None, ..., 1]
    map_x = matrix[0, 0] * px + matrix[0, 1] * py + matrix[0, 2]
    map_y = matrix[1, 0] * px + matrix[1, 1] * py + matrix[1, 2]
    frames = cv2.remap(
        src,
        map_x.reshape(n_frames * h, w).astype(np.float32),
        map_y.reshape(n_frames * h, w).astype(np.float32),
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    return frames.reshape((n_frames, h, w) + src.shape[2:])


def _make_subject(rng, base, frame_shape, color, margin):
    """One synthetic subject: pose, and its own face image (texture, lighting)."""
    h, w = frame_shape
    pose = _subject_pose(rng, frame_shape)
    matrix = _affine(pose, frame_shape)
    k = _FACE_SIZE / min(h, w) / pose["scale"]
    # the part of the source this subject's frames can sample
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]])
    pts = corners @ matrix.T
    pad = k * margin
    c0, r0 = np.floor(pts.min(0) - pad).astype(int)
    c1, r1 = np.ceil(pts.max(0) + pad).astype(int) + 1
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(max(c1, c0 + 2), base.shape[1]), min(max(r1, r0 + 2), base.shape[0])
    img = base[r0:r1, c0:c1]
    texture = _smooth_noise(rng, img.shape[:2], 0.6 * k, rng.uniform(5.0, 10.0))
    gain = np.float32(rng.uniform(0.65, 1.15))
    if color:
        texture = texture[..., None] * rng.uniform(0.7, 1.3, size=3).astype(np.float32)
        gain = gain * rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    gamma = np.float32(rng.uniform(0.75, 1.3))
    img = np.clip(img + texture, 0.0, 255.0) * np.float32(1.0 / 255.0)
    img = np.ascontiguousarray(np.float32(255.0) * gain * img ** gamma, np.float32)
    # lighting gradient and offset, in frame coordinates
    theta = rng.uniform(0.0, 2.0 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = rng.uniform(10.0, 45.0) * (np.cos(theta) * (xx / (w - 1) - 0.5)
                                       + np.sin(theta) * (yy / (h - 1) - 0.5))
    light = (light + rng.uniform(-15.0, 15.0)).astype(np.float32)
    return {
        "pose": pose,
        "src": img,
        "origin": np.array([c0, r0], dtype=np.float64),
        "light": light[..., None] if color else light,
    }


def _class_names(n_classes):
    return [_PATTERNS[i][0] for i in range(n_classes)]


def _generate(n_clips, n_subjects, n_classes, n_frames, frame_shape, fps, amplitude,
              noise, color, rng):
    """Generate the clips (arguments already validated, ``rng`` a ``RandomState``).

    Returns the clips, ``y``, ``groups`` and, per clip, the ground truth of its
    motion: ``field`` (unit-peak displacement field ``(H, W, 2)``, output pixels)
    and ``displacement`` (``(T,)``, pixels: the field's scale in every frame).
    """
    import cv2

    h, w = frame_shape
    base = _source_image(color)
    # anti-aliasing for the downsampling (about half an output pixel)
    base = cv2.GaussianBlur(base, (0, 0), 0.5 * _FACE_SIZE / min(h, w))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    grid = (xx, yy)

    # -- clips per subject, labels balanced overall and within subjects ----------
    counts = np.full(n_subjects, n_clips // n_subjects)
    counts[: n_clips % n_subjects] += 1
    subject_of, labels = [], []
    for j, c in enumerate(counts):
        labels.extend(rng.permutation((np.arange(c) + j) % n_classes))
        subject_of.extend([j] * c)

    subjects = [_make_subject(rng, base, frame_shape, color, margin=4.0 + amplitude)
                for _ in range(n_subjects)]

    names = _class_names(n_classes)
    lengths = rng.randint(n_frames[0], n_frames[1] + 1, size=n_clips)
    width_s = max(2, len(str(n_subjects)))
    width_c = max(3, len(str(n_clips - 1)))
    clips, y, groups, truth = [], [], [], []
    for i in range(n_clips):
        subj = subjects[subject_of[i]]
        label = int(labels[i])
        n_t = int(lengths[i])
        pre = int(rng.randint(0, max(1, n_t // 4) + 1))
        post = int(rng.randint(0, max(1, n_t // 4) + 1))
        onset = min(pre, n_t - 3)
        offset = max(n_t - 1 - post, onset + 2)
        apex = onset + int(round(rng.uniform(0.3, 0.7) * (offset - onset)))
        apex = min(max(apex, onset + 1), offset - 1)

        # per-clip head-pose jitter, then the subject's image origin
        matrix = _affine(subj["pose"], frame_shape,
                         jitter=rng.uniform(-0.75, 0.75, size=2))
        field = _displacement_field(label, matrix, grid)
        matrix[:, 2] -= subj["origin"]
        displacement = (amplitude * rng.uniform(0.8, 1.0)
                        * _temporal_profile(n_t, onset, apex, offset))
        frames = _render_clip(subj["src"], matrix, field, displacement, grid)
        frames *= np.float32(rng.uniform(0.95, 1.05))
        frames += subj["light"]
        if noise > 0:
            frames += rng.normal(0.0, noise, size=frames.shape).astype(np.float32)
        frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)

        sid = f"s{subject_of[i] + 1:0{width_s}d}"
        subject = f"synthetic/{sid}"
        clips.append(Clip(
            frames, onset=onset, apex=apex, offset=offset, fps=fps,
            id=f"syn/{sid}/clip{i:0{width_c}d}", subject=subject,
            dataset="synthetic", label=names[label],
        ))
        y.append(names[label])
        groups.append(subject)
        truth.append({"field": field, "displacement": displacement})
    return clips, np.asarray(y), np.asarray(groups), truth


def make_micro_expressions(
    n_clips: int = 60,
    *,
    n_subjects: int = 6,
    n_classes: int = 3,
    n_frames: int | tuple[int, int] = 12,
    frame_shape: tuple[int, int] = (48, 48),
    fps: float = 30.0,
    amplitude: float = 1.0,
    noise: float = 2.0,
    color: bool = False,
    return_bunch: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[ClipSequence, np.ndarray, np.ndarray] | Bunch:
    """Generate synthetic micro-expression clips of a real face.

    Every subject is the same real face (``skimage.data.astronaut()``, [2]_) under its
    own pose (scale, shift, in-plane rotation, mirroring), illumination (gain, gamma,
    offset, a lighting gradient) and skin texture; every clip adds a small per-clip
    head-pose jitter and plays one brief, localised, action-unit-like deformation
    (FACS, [1]_) whose place and direction depend on the class:

    ======  ============  ====================================================
    class   name          deformation
    ======  ============  ====================================================
    0       ``negative``  AU4 brow lowerer: inner brows down and together
    1       ``positive``  AU12 lip corner puller: mouth corners up and out
    2       ``surprise``  AU1+AU2 brow raiser: brows up
    3       ``class3``    AU15 lip corner depressor: mouth corners down
    4       ``class4``    AU9 nose wrinkler: nose wings and upper lip up
    5       ``class5``    AU26 jaw drop: lower lip and chin down
    ======  ============  ====================================================

    The deformation is a smooth displacement field (a sum of Gaussian windows placed
    on the face's landmarks) whose peak at the apex frame is drawn uniformly in
    ``[0.8, 1] * amplitude`` pixels.  Its temporal profile is a raised cosine rising
    from the onset frame to the apex and decaying to the offset frame (apex position
    varies per clip); frames up to the onset and from the offset on show the neutral
    face.  Frames are rendered with bilinear ``cv2.remap`` straight from the
    high-resolution image, then get Gaussian sensor noise and are quantised to uint8.

    A single frame hardly tells the classes apart across subjects (subject variation
    is many times larger than the expression), while the onset-to-apex motion does:
    as in real micro-expression data, raw-pixel classifiers are near chance under
    leave-one-subject-out evaluation and motion features are not.

    Parameters
    ----------
    n_clips : int, default=60
        Number of clips.
    n_subjects : int, default=6
        Number of subjects (at most ``n_clips``). Clips are spread evenly over the
        subjects, and every subject shows every class when it has enough clips.
    n_classes : int, default=3
        Number of classes, from 2 to 6 (see the table above).
    n_frames : int or tuple of (int, int), default=12
        Frames per clip (at least 3), or a ``(min, max)`` range from which every
        clip draws its own length (ragged clips).
    frame_shape : tuple of (int, int), default=(48, 48)
        ``(height, width)`` of the frames, each at least 16.
    fps : float, default=30.0
        Frame rate stored in the clips' metadata.
    amplitude : float, default=1.0
        Largest peak displacement of the expression, in pixels (``>= 0``).
    noise : float, default=2.0
        Standard deviation of the per-frame Gaussian sensor noise, in grey levels.
    color : bool, default=False
        Make RGB clips ``(T, H, W, 3)`` instead of grey ``(T, H, W)``.
    return_bunch : bool, default=False
        Return a :class:`~sklearn.utils.Bunch` instead of ``(X, y, groups)``.
    random_state : int, RandomState instance or None, default=None
        Seed of everything random, for reproducible output.

    Returns
    -------
    X : ClipSequence of n_clips Clip
        In-memory uint8 clips with metadata ``onset < apex < offset`` (frame
        indices), ``fps``, ``id`` (``"syn/s03/clip017"``), ``subject``
        (``"synthetic/s03"``), ``dataset="synthetic"`` and ``label``.
    y : ndarray of shape (n_clips,)
        Class names (str).
    groups : ndarray of shape (n_clips,)
        Dataset-qualified subject ids (str), for leave-one-subject-out CV.
    bunch : :class:`~sklearn.utils.Bunch`
        Only if ``return_bunch=True``, instead of the tuple: ``data`` (X),
        ``target`` (y), ``groups``, ``datasets`` (``"synthetic"`` per clip),
        ``target_names`` and ``DESCR``.

    References
    ----------
    .. [1] P. Ekman and W. V. Friesen, "Facial Action Coding System: A Technique for
       the Measurement of Facial Movement", Consulting Psychologists Press, 1978.
    .. [2] NASA, portrait of astronaut Eileen Collins (public domain), distributed
       with scikit-image as ``skimage.data.astronaut``.

    Examples
    --------
    >>> from skmer.datasets import make_micro_expressions
    >>> X, y, groups = make_micro_expressions(n_clips=6, n_subjects=2, random_state=0)
    >>> len(X), X[0].shape, X[0].dtype
    (6, (12, 48, 48), dtype('uint8'))
    >>> sorted(set(y.tolist())), sorted(set(groups.tolist()))
    (['negative', 'positive', 'surprise'], ['synthetic/s01', 'synthetic/s02'])
    >>> clip = X[0]
    >>> clip.onset < clip.apex < clip.offset < clip.n_frames
    True
    """
    n_clips = _check_int(n_clips, "n_clips", 1)
    n_subjects = _check_int(n_subjects, "n_subjects", 1)
    if n_subjects > n_clips:
        raise ValueError(
            f"n_subjects must be <= n_clips ({n_clips}), got {n_subjects}.")
    n_classes = _check_int(n_classes, "n_classes", 2, MAX_CLASSES)
    t_min, t_max = _check_n_frames(n_frames)
    frame_shape = _check_frame_shape(frame_shape)
    fps = _check_real(fps, "fps", positive=True)
    amplitude = _check_real(amplitude, "amplitude")
    noise = _check_real(noise, "noise")
    if not isinstance(color, (bool, np.bool_)):
        raise ValueError(f"color must be a bool, got {color!r}.")
    rng = check_random_state(random_state)

    clips, y, groups, _ = _generate(
        n_clips, n_subjects, n_classes, (t_min, t_max), frame_shape, fps, amplitude,
        noise, bool(color), rng)
    X = ClipSequence(clips)
    names = _class_names(n_classes)
    if not return_bunch:
        return X, y, groups
    h, w = frame_shape
    descr = (
        "Synthetic micro-expressions (skmer.datasets.make_micro_expressions)\n"
        f"{n_clips} clips, {n_subjects} subjects, {n_classes} classes "
        f"({', '.join(names)}), {t_min}-{t_max} frames of {h}x{w} "
        f"{'RGB' if color else 'grey'} at {fps:g} fps, peak motion "
        f"{amplitude:g} px.\nClasses: "
        + "; ".join(f"{names[k]} = {_PATTERNS[k][1]}" for k in range(n_classes))
        + "."
    )
    return Bunch(data=X, target=y, groups=groups,
                 datasets=np.full(n_clips, "synthetic"),
                 target_names=np.asarray(names), DESCR=descr)

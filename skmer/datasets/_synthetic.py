"""Synthetic micro-expressions: a real face, subject variation, AU-like motion.

The generator warps one real face image (``skimage.data.astronaut``) into many
"subjects" (pose, scale, mirroring, illumination, skin texture and way of moving
differ) and plays, in every clip, one small, localised, action-unit-like deformation
whose direction and place depend on the class, among real nuisances (head motion,
blinks, sensor noise, co-occurring action units).  Subjects differ far more than
classes do in a single frame, so classifiers on raw pixels fail under
leave-one-subject-out evaluation, while the sub-pixel motion between onset and apex
tells the classes apart, imperfectly: the same situation as in real micro-expression
corpora, at demo and test scale.  Durations and amplitudes are calibrated to real
micro-expressions (see :func:`make_micro_expressions`).
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

# Upper eyelids (source pixels, dlib landmarks 37-38 and 43-44 of the astronaut): a
# blink moves them down over the eye, about one eye opening (6 source pixels).
_EYELIDS = (((203.0, 99.0), 5.0, (0.0, 1.0)), ((246.0, 101.5), 5.0, (0.0, 1.0)))
_BLINK_DEPTH = 6.0

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


def _check_range(value, name, *, positive=False, high=None, allow_none=False):
    """Check a ``(low, high)`` pair of finite numbers, ``0 <= low <= high``."""
    if value is None and allow_none:
        return None
    if (not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 2
            or isinstance(value, str)):
        raise ValueError(f"{name} must be a (low, high) pair, got {value!r}.")
    low = _check_real(value[0], f"{name}[0] (low)", positive=positive)
    hi = _check_real(value[1], f"{name}[1] (high)", positive=positive)
    if hi < low or (high is not None and hi > high):
        bound = "" if high is None else f" <= {high:g}"
        raise ValueError(
            f"{name} must satisfy low <= high{bound}, got {value!r}.")
    return low, hi


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
        # zoom of the face in the frame (the face square fills 0.85-1.1 of the
        # shorter side: dlib's detector misses smaller faces in 96-pixel frames)
        "scale": rng.uniform(0.85, 1.1),
        "angle": np.deg2rad(rng.uniform(-9.0, 9.0)),
        "shift": rng.uniform(-0.07, 0.07, size=2) * np.array(frame_shape[::-1]),
        "flip": rng.random_sample() < 0.5,
    }


def _subject_style(rng, style):
    """Per-subject version of every class pattern: how this person moves.

    Each component's direction is turned by a random angle (standard deviation
    ``25 * style`` degrees), its centre moved (``2.5 * style`` source pixels) and
    its weight scaled (``1 +- 0.6 * style``): the same action unit differs between
    people, so motion learned on some subjects transfers imperfectly to others.
    """
    patterns = []
    for _, _, comps in _PATTERNS:
        out = []
        for centre, sigma, direction in comps:
            turn = np.deg2rad(rng.normal(0.0, 25.0) * style)
            c, s = np.cos(turn), np.sin(turn)
            gain = max(0.2, 1.0 + style * rng.uniform(-0.6, 0.6))
            dx, dy = direction
            out.append((
                tuple(np.asarray(centre) + style * rng.normal(0.0, 2.5, size=2)),
                sigma,
                (gain * (c * dx - s * dy), gain * (s * dx + c * dy)),
            ))
        patterns.append(tuple(out))
    return patterns


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


def _displacement_field(comps, matrix, grid):
    """Unit-peak displacement field ``(H, W, 2)`` (dx, dy) in output pixels.

    ``comps`` are Gaussian windows in source pixels (see ``_PATTERNS``).  A clip's
    frame ``t`` is its neutral face warped by ``peak * profile[t] * field``: the
    face content at ``x`` moves to ``x + d``.
    """
    xx, yy = grid
    lin, trans = matrix[:, :2], matrix[:, 2]
    inv = np.linalg.inv(lin)
    k = np.sqrt(abs(np.linalg.det(lin)))  # source pixels per output pixel
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


def _head_trajectory(rng, n_frames, fps, head_motion):
    """Rigid head translation ``(T, 2)`` in output pixels, 0 at frame 0.

    A slow drift plus a sway of 0.3-1.5 Hz, scaled so that the largest excursion
    from the first frame is ``head_motion`` times a factor drawn in [0.3, 1].
    """
    traj = np.zeros((n_frames, 2))
    if head_motion <= 0 or n_frames < 2:
        return traj
    t = np.arange(n_frames) / fps
    drift = rng.normal(size=2)
    sway = rng.normal(size=2)
    freq, phase = rng.uniform(0.3, 1.5), rng.uniform(0.0, 2.0 * np.pi)
    traj = (drift[None] * t[:, None] / max(t[-1], 1e-9)
            + sway[None] * (np.sin(2 * np.pi * freq * t + phase) - np.sin(phase))[
                :, None])
    peak = np.sqrt((traj ** 2).sum(-1)).max()
    if peak > 0:
        traj *= head_motion * rng.uniform(0.3, 1.0) / peak
    return traj


def _smooth_noise(rng, shape, sigma, std):
    import cv2

    field = rng.standard_normal(shape).astype(np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigma)
    return field * np.float32(std / max(float(field.std()), 1e-6))


def _render_clip(src, matrix, motions, head, grid):
    """Warp ``src`` into ``len(head)`` float32 frames ``(T, H, W[, C])``.

    ``motions`` is a list of ``(field, scale)`` pairs (a displacement field
    ``(H, W, 2)`` and its scale ``(T,)`` per frame) and ``head`` a rigid translation
    ``(T, 2)``.  Frame ``t`` at output pixel ``x`` shows the neutral face at
    ``x - head[t] - sum(scale[t] * field(x))`` (backward map), sampled bilinearly
    in ``src`` through the affine ``matrix`` (output pixel -> source pixel).
    """
    import cv2

    xx, yy = grid
    h, w = xx.shape
    n_frames = len(head)
    px = np.broadcast_to(xx, (n_frames, h, w)) - head[:, 0, None, None]
    py = np.broadcast_to(yy, (n_frames, h, w)) - head[:, 1, None, None]
    for field, scale in motions:
        s = np.asarray(scale)[:, None, None]
        px = px - s * field[None, ..., 0]
        py = py - s * field[None, ..., 1]
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


def _make_subject(rng, base, frame_shape, color, margin, style):
    """One synthetic subject: pose, face image (texture, lighting), motion style."""
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
        "patterns": _subject_style(rng, style) if style > 0 else
        [p[2] for p in _PATTERNS],
    }


def _class_names(n_classes):
    return [_PATTERNS[i][0] for i in range(n_classes)]


def _layout(rng, n_t, fps, duration):
    """Onset, apex and offset frame indices of one clip."""
    if duration is None:  # up to a quarter of the clip before and after
        pre = int(rng.randint(0, max(1, n_t // 4) + 1))
        post = int(rng.randint(0, max(1, n_t // 4) + 1))
        onset = min(pre, n_t - 3)
        offset = max(n_t - 1 - post, onset + 2)
    else:  # a span of duration seconds, shortened to fit the clip
        span = int(round(rng.uniform(*duration) * fps))
        span = min(max(span, 2), n_t - 1)
        onset = int(rng.randint(0, n_t - span))
        offset = onset + span
    apex = onset + int(round(rng.uniform(0.3, 0.7) * (offset - onset)))
    apex = min(max(apex, onset + 1), offset - 1)
    return onset, apex, offset


def _blink(rng, n_t, fps):
    """Eyelid closure per frame (0-1): a raised cosine of 0.1-0.3 s, anywhere."""
    half = max(1.0, 0.5 * rng.uniform(0.1, 0.3) * fps)
    centre = rng.uniform(0.0, n_t - 1)
    t = np.arange(n_t)
    x = np.clip((t - centre) / half, -1.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * x))


def _generate(n_clips, n_subjects, n_classes, n_frames, frame_shape, fps, amplitude,
              noise, color, rng, *, duration=None, intensity=(0.8, 1.0),
              head_motion=0.0, blinks=0.0, style=0.0, mixing=0.0, flicker=0.0):
    """Generate the clips (arguments already validated, ``rng`` a ``RandomState``).

    The keyword defaults are the generator of skmer <= 0.x (no nuisance, every
    subject moves alike); :func:`make_micro_expressions` passes its own.

    Returns the clips, ``y``, ``groups`` and, per clip, the ground truth of its
    motion: ``field`` (unit-peak displacement field ``(H, W, 2)``, output pixels),
    ``displacement`` (``(T,)``, pixels: the field's scale in every frame), ``head``
    (``(T, 2)``, the rigid head translation in pixels) and ``blink`` (``(T,)``,
    eyelid displacement in pixels, zeros without a blink).
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

    margin = 4.0 + amplitude + head_motion
    subjects = [_make_subject(rng, base, frame_shape, color, margin, style)
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
        onset, apex, offset = _layout(rng, n_t, fps, duration)

        # per-clip head-pose jitter, then the subject's image origin
        matrix = _affine(subj["pose"], frame_shape,
                         jitter=rng.uniform(-0.75, 0.75, size=2))
        field = _displacement_field(subj["patterns"][label], matrix, grid)
        if mixing > 0:  # a co-occurring action unit of another class
            other = (label + 1 + rng.randint(MAX_CLASSES - 1)) % MAX_CLASSES
            field = field + rng.uniform(0.0, mixing) * _displacement_field(
                subj["patterns"][other], matrix, grid)
            field /= np.sqrt((field ** 2).sum(-1)).max()
        lids = _displacement_field(_EYELIDS, matrix, grid) if blinks > 0 else None
        k = np.sqrt(abs(np.linalg.det(matrix[:, :2])))  # source px per output px
        matrix[:, 2] -= subj["origin"]
        displacement = (amplitude * rng.uniform(*intensity)
                        * _temporal_profile(n_t, onset, apex, offset))
        motions = [(field, displacement)]
        head = _head_trajectory(rng, n_t, fps, head_motion)
        blink = np.zeros(n_t)
        if blinks > 0 and rng.random_sample() < blinks:
            blink = _BLINK_DEPTH / k * rng.uniform(0.6, 1.0) * _blink(rng, n_t, fps)
            motions.append((lids, blink))
        frames = _render_clip(subj["src"], matrix, motions, head, grid)
        frames *= np.float32(rng.uniform(0.95, 1.05))
        frames += subj["light"]
        if flicker > 0:  # the lamps: a global brightness change per frame
            level = rng.normal(0.0, flicker, size=n_t).astype(np.float32)
            frames += level.reshape((n_t,) + (1,) * (frames.ndim - 1))
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
        truth.append({"field": field, "displacement": displacement, "head": head,
                      "blink": blink})
    return clips, np.asarray(y), np.asarray(groups), truth


def make_micro_expressions(
    n_clips: int = 60,
    *,
    n_subjects: int = 6,
    n_classes: int = 3,
    n_frames: int | tuple[int, int] = 16,
    frame_shape: tuple[int, int] = (112, 112),
    fps: float = 30.0,
    duration: tuple[float, float] | None = (0.2, 0.5),
    amplitude: float = 0.35,
    intensity: tuple[float, float] = (0.5, 1.0),
    noise: float = 3.0,
    flicker: float = 0.0,
    head_motion: float = 0.3,
    blinks: float = 0.3,
    style: float = 1.0,
    mixing: float = 0.8,
    color: bool = False,
    return_bunch: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[ClipSequence, np.ndarray, np.ndarray] | Bunch:
    """Generate synthetic micro-expression clips of a real face.

    Every subject is the same real face (``skimage.data.astronaut()``, [2]_) under its
    own pose (scale, shift, in-plane rotation, mirroring), illumination (gain, gamma,
    offset, a lighting gradient), skin texture and way of moving (``style``); every
    clip adds a small per-clip head-pose jitter and plays one brief, localised,
    action-unit-like deformation (FACS, [1]_) whose place and direction depend on
    the class:

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
    on the face's landmarks, turned, moved and weighted per subject by ``style``,
    plus, weighted by up to ``mixing``, a co-occurring action unit of another class
    of the table) whose peak at the apex frame is ``amplitude`` times a factor drawn
    in ``intensity``.  Its temporal profile is a raised cosine rising from the onset
    frame to the apex (at 30-70 % of the span, as in CASME II) and decaying to the
    offset frame, ``duration`` seconds later.  Nuisances a real recording has are
    added: a slow rigid head drift and sway (``head_motion``), eye blinks of
    0.1-0.3 s at any time (``blinks``), optional lamp flicker and Gaussian sensor
    noise.  Frames are rendered with bilinear ``cv2.remap`` straight from the
    high-resolution image and quantised to uint8.

    **Calibration of the defaults.** Micro-expressions last under 0.5 s [3]_; in
    the CASME II coding sheet (255 samples at 200 fps [4]_) the onset-offset span has
    a median of 0.30 s and 10-90 % quantiles of 0.20-0.475 s: ``duration=(0.2,
    0.5)``, with ``n_frames=16`` at 30 fps so that 0.5 s fits.  Amplitude: TV-L1 flow
    of the raw CASME II clip ``casme2_EP02_01f`` (AU12, 640x480) from onset to apex,
    less its median (head translation), reaches 1.9 px at its 99th percentile over
    the face (2.5 px maximum), whose landmarks span 317 px: 0.6 % of the face width.
    In the default 112x112 frames the landmarks span 68-86 px, and
    ``amplitude=0.35`` with ``intensity=(0.5, 1.0)`` gives apex peaks of
    0.18-0.35 px (0.2-0.5 % of the face width), below that clear AU12 by a factor
    of 1.5-3: a subtle, hard setting (``amplitude=0.6`` matches the measured clip).
    With these defaults the classes are not trivially separable: under
    leave-one-subject-out a flow + linear classifier scores a pooled UF1 of about
    0.8, and Eulerian magnification helps up to a point
    (``benchmarks/results/synthetic_difficulty.md``).  ``FaceCropper()`` finds the
    face in the default frames (dlib's detector misses faces under about 80 px: at
    48x48, skmer's earlier default, it finds none).

    Parameters
    ----------
    n_clips : int, default=60
        Number of clips.
    n_subjects : int, default=6
        Number of subjects (at most ``n_clips``). Clips are spread evenly over the
        subjects, and every subject shows every class when it has enough clips.
    n_classes : int, default=3
        Number of classes, from 2 to 6 (see the table above).
    n_frames : int or tuple of (int, int), default=16
        Frames per clip (at least 3), or a ``(min, max)`` range from which every
        clip draws its own length (ragged clips).
    frame_shape : tuple of (int, int), default=(112, 112)
        ``(height, width)`` of the frames, each at least 16.  The face fills
        0.85-1.1 of the shorter side.
    fps : float, default=30.0
        Frame rate, stored in the clips' metadata and used to turn ``duration``
        and the blinks' duration into frames.
    duration : tuple of (float, float) or None, default=(0.2, 0.5)
        Range of the onset-to-offset span in seconds, drawn per clip and shortened
        to fit the clip when it has too few frames.  None: the span is the clip
        less up to a quarter of its frames before and after (skmer <= 0.1).
    amplitude : float, default=0.35
        Largest peak displacement of the expression, in pixels (``>= 0``).
    intensity : tuple of (float, float), default=(0.5, 1.0)
        Range of each clip's peak as a fraction of ``amplitude``, ``0 <= low <=
        high <= 1``.
    noise : float, default=3.0
        Standard deviation of the per-frame Gaussian sensor noise, in grey levels.
    flicker : float, default=0.0
        Standard deviation of a global per-frame brightness change, in grey levels
        (lamp flicker; it harms magnification, which amplifies it).
    head_motion : float, default=0.3
        Largest rigid head translation within a clip, in pixels (each clip draws
        30-100 % of it); 0 keeps the head still.
    blinks : float, default=0.3
        Probability that a clip contains an eye blink, in [0, 1].
    style : float, default=1.0
        Strength of the per-subject variation of the deformation (direction turned
        by about ``25 * style`` degrees, centre moved, weight scaled); 0: every
        subject moves alike.
    mixing : float, default=0.8
        Largest weight of the co-occurring action unit, relative to the class's own
        (drawn per clip in ``[0, mixing]``), in [0, 1]; 0: none.
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
    .. [3] W.-J. Yan, Q. Wu, J. Liang, Y.-H. Chen and X. Fu, "How fast are the
       leaked facial expressions: the duration of micro-expressions", Journal of
       Nonverbal Behavior 37(4), 2013. :doi:`10.1007/s10919-013-0159-8`
    .. [4] W.-J. Yan, X. Li, S.-J. Wang, G. Zhao, Y.-J. Liu, Y.-H. Chen and X. Fu,
       "CASME II: an improved spontaneous micro-expression database and the
       baseline evaluation", PLoS ONE 9(1), 2014 (200 fps; SMIC: 100 fps).
       :doi:`10.1371/journal.pone.0086041`

    Examples
    --------
    >>> from skmer.datasets import make_micro_expressions
    >>> X, y, groups = make_micro_expressions(n_clips=6, n_subjects=2, random_state=0)
    >>> len(X), X[0].shape, X[0].dtype
    (6, (16, 112, 112), dtype('uint8'))
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
    duration = _check_range(duration, "duration", positive=True, allow_none=True)
    amplitude = _check_real(amplitude, "amplitude")
    intensity = _check_range(intensity, "intensity", high=1.0)
    noise = _check_real(noise, "noise")
    flicker = _check_real(flicker, "flicker")
    head_motion = _check_real(head_motion, "head_motion")
    blinks = _check_real(blinks, "blinks")
    if blinks > 1:
        raise ValueError(f"blinks must be in [0, 1], got {blinks!r}.")
    style = _check_real(style, "style")
    mixing = _check_real(mixing, "mixing")
    if mixing > 1:
        raise ValueError(f"mixing must be in [0, 1], got {mixing!r}.")
    if not isinstance(color, (bool, np.bool_)):
        raise ValueError(f"color must be a bool, got {color!r}.")
    rng = check_random_state(random_state)

    clips, y, groups, _ = _generate(
        n_clips, n_subjects, n_classes, (t_min, t_max), frame_shape, fps, amplitude,
        noise, bool(color), rng, duration=duration, intensity=intensity,
        head_motion=head_motion, blinks=blinks, style=style, mixing=mixing,
        flicker=flicker)
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

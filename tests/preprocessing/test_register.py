"""Tests of head-motion compensation (register_frames, HeadMotionCompensator)."""

import cv2
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from sklearn.pipeline import Pipeline

from skmer.datasets import Clip, read_frames
from skmer.preprocessing import (
    FaceCropper,
    HeadMotionCompensator,
    optical_flow,
    register_frames,
)
from skmer.preprocessing._register import STABLE_POINTS


def _texture(shape=(240, 240), seed=0):
    rng = np.random.default_rng(seed)
    # smooth blobs, a few pixels wide (face-like structure, not pixel noise)
    img = gaussian_filter(rng.random(shape), 4.0)
    img = (img - img.min()) / np.ptp(img)
    return (40 + 180 * img).astype(np.float32)


def _rigid(angle_deg, shift, centre):
    """2x3 map: rotate by angle about centre, then shift."""
    m = cv2.getRotationMatrix2D(tuple(centre), angle_deg, 1.0)
    m[:, 2] += shift
    return m


def _apply(m, pts):
    return pts @ m[:, :2].T + m[:, 2]


def _face_points(rng):
    lm = rng.uniform(35, 85, (68, 2))
    # eyes, their corners and the nose ridge placed like a face's
    for first, x0 in ((36, 38), (42, 68)):
        lm[first:first + 6] = [[x0, 50], [x0 + 4, 48], [x0 + 10, 48],
                               [x0 + 14, 50], [x0 + 10, 52], [x0 + 4, 52]]
    lm[27:31] = [[60, 48], [60, 56], [60, 63], [60, 70]]
    return 2 * lm   # a face of 60 px between the eye centres, as in the videos


def _moved_clip(angle=2.0, shift=(2.6, -1.4), seed=0):
    """Frame 0 and the same texture moved rigidly; the landmarks follow."""
    ref = _texture(seed=seed)
    m = _rigid(angle, shift, (120.0, 120.0))
    moved = cv2.warpAffine(ref, m, (240, 240), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT)
    lm0 = _face_points(np.random.default_rng(seed))
    return np.stack([ref, moved]), np.stack([lm0, _apply(m, lm0)]), m


def _inverse(m):
    return np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2]


def test_register_known_landmarks_recovers_rigid_motion():
    frames, lm, m = _moved_clip()
    before = frames.copy()
    res = register_frames(frames, landmarks=lm, smooth=0, refine=None)
    np.testing.assert_allclose(res.matrices[1], _inverse(m), atol=1e-6)
    np.testing.assert_array_equal(res.matrices[0], np.eye(2, 3))
    np.testing.assert_array_equal(res.frames[0], frames[0])  # reference unchanged
    np.testing.assert_array_equal(frames, before)            # input untouched
    assert res.frames.dtype == frames.dtype and res.found.all()
    inner = np.s_[50:190, 50:190]
    err = np.abs(res.frames[1][inner] - frames[0][inner])
    assert err.mean() < 0.02 * np.ptp(frames[0])


def test_register_ecc_refines_noisy_landmarks_to_subpixel():
    frames, lm, m = _moved_clip(angle=-1.5, shift=(-1.7, 2.3), seed=3)
    rng = np.random.default_rng(1)
    noisy = lm + rng.normal(0, 0.8, lm.shape)  # dlib-like landmark jitter
    probe = _face_points(np.random.default_rng(3))[list(STABLE_POINTS)]
    truth = _apply(_inverse(m), _apply(m, probe))  # = probe
    coarse = register_frames(frames, landmarks=noisy, smooth=0, refine=None)
    fine = register_frames(frames, landmarks=noisy, smooth=0, refine="ecc")

    def point_error(res):
        return np.abs(_apply(res.matrices[1], _apply(m, probe)) - truth).max()

    assert point_error(fine) < 0.5 < 1.0 < point_error(coarse)


def test_register_translation_and_affine_and_robust():
    frames, lm, m = _moved_clip(angle=0.0, shift=(3.0, -2.0))
    for motion in ("translation", "affine", "similarity"):
        res = register_frames(frames, landmarks=lm, smooth=0, refine=None,
                              motion=motion)
        np.testing.assert_allclose(res.matrices[1], _inverse(m), atol=1e-6)
    # one stable point badly placed: RANSAC ignores it, least squares does not
    bad = lm.copy()
    bad[1, 30] += [9.0, -7.0]
    robust = register_frames(frames, landmarks=bad, smooth=0, refine=None)
    plain = register_frames(frames, landmarks=bad, smooth=0, refine=None,
                            robust=False)
    np.testing.assert_allclose(robust.matrices[1], _inverse(m), atol=1e-6)
    assert np.abs(plain.matrices[1] - _inverse(m)).max() > 0.1


def test_register_missing_faces():
    frames, lm, _ = _moved_clip()
    frames3 = np.stack([frames[0], frames[1], frames[1]])
    lm3 = np.stack([lm[0], np.full((68, 2), np.nan), lm[1]])
    with pytest.raises(ValueError,
                       match=r"no face found on 1 of 3 frames \(frames 1\)"):
        register_frames(frames3, landmarks=lm3)
    res = register_frames(frames3, landmarks=lm3, smooth=0, refine=None,
                          on_missing="interpolate")
    assert res.found.tolist() == [True, False, True]
    # frame 1's motion is halfway between frames 0 and 2
    np.testing.assert_allclose(res.matrices[1][:, 2],
                               res.matrices[2][:, 2] / 2, atol=0.2)
    blank = np.zeros((3, 60, 60), dtype=np.uint8)
    with pytest.raises(ValueError, match="no face found on any of the 3 frames"):
        register_frames(blank)
    out = register_frames(blank, on_missing="interpolate")
    np.testing.assert_array_equal(out.frames, blank)
    assert not out.found.any()


def test_register_bad_input():
    frames, lm, _ = _moved_clip()
    with pytest.raises(ValueError, match="motion must be one of"):
        register_frames(frames, landmarks=lm, motion="homography")
    with pytest.raises(ValueError, match="landmarks must have shape"):
        register_frames(frames, landmarks=lm[0])
    with pytest.raises(ValueError, match="points must be"):
        register_frames(frames, landmarks=lm, points=[30])
    with pytest.raises(ValueError, match="smooth"):
        register_frames(frames, landmarks=lm, smooth=-1)
    with pytest.raises(ValueError, match="refine"):
        register_frames(frames, landmarks=lm, refine="lk")
    with pytest.raises(ValueError, match="on_missing"):
        register_frames(frames, landmarks=lm, on_missing="drop")
    with pytest.raises(ValueError, match="reference"):
        register_frames(frames, landmarks=lm, reference=5)


# --------------------------------------------------------------------------------------
# real faces (shared data)
# --------------------------------------------------------------------------------------
def _video(shared_data, name, n=None):
    path = shared_data / name
    if not path.is_file():
        pytest.skip(f"{path} absent")
    frames = read_frames(path)
    return frames if n is None else frames[:n]


def _residual(frames, box):
    x0, y0, x1, y1 = box
    out = []
    for t in range(1, len(frames)):
        flow = optical_flow(frames[0], frames[t], method="dis")
        out.append(np.median(np.hypot(flow[..., 0], flow[..., 1])[y0:y1, x0:x1]))
    return np.array(out)


def test_real_frame_moved_rigidly_is_registered_back(shared_data):
    frame = _video(shared_data, "video/pyfeat_single_face.mp4", 1)[0]
    h, w = frame.shape
    m = _rigid(2.5, (3.4, -2.1), (w / 2, h / 2))
    moved = cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REPLICATE)
    res = register_frames(np.stack([frame, moved]), smooth=0)
    assert res.found.all()
    pts = res.landmarks[0][list(STABLE_POINTS)]
    # registered position of the moved face points vs their reference position
    err = np.abs(_apply(res.matrices[1], _apply(m, pts)) - pts).max()
    assert err < 0.3, err


def test_real_video_residual_flow_drops(shared_data):
    frames = _video(shared_data, "video/pyfeat_single_face.mp4", 24)
    before = frames.copy()
    res = register_frames(frames)
    np.testing.assert_array_equal(frames, before)
    lm = res.landmarks[0]
    box = np.r_[np.floor(lm.min(axis=0)), np.ceil(lm.max(axis=0))].astype(int)
    raw, reg = _residual(frames, box), _residual(res.frames, box)
    assert np.median(reg) < 0.5 * np.median(raw), (np.median(raw), np.median(reg))


def test_compensator_on_clips_keeps_metadata(shared_data):
    frames = _video(shared_data, "clips/casme2_EP02_01f_tim16_640x480.avi")
    clip = Clip(frames, onset=0, offset=15, id="casme2/EP02_01f", fps=200.0)
    out = HeadMotionCompensator().fit_transform([clip])[0]
    assert out.shape == clip.shape and out.frames.dtype == np.uint8
    assert (out.id, out.onset, out.offset, out.fps) == ("casme2/EP02_01f", 0, 15,
                                                         200.0)
    np.testing.assert_array_equal(out.frames[0], frames[0])
    assert not np.shares_memory(out.frames, clip.frames)
    pipe = Pipeline([("hmc", HeadMotionCompensator()),
                     ("crop", FaceCropper(output_size=64))])
    assert pipe.fit_transform([clip])[0].shape == (16, 64, 64)
    with pytest.raises(ValueError, match="no face found on any"):
        HeadMotionCompensator().fit_transform([np.zeros((3, 50, 50), np.uint8)])

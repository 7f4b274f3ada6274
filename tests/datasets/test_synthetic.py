"""Tests for the synthetic micro-expression generator."""

import re

import numpy as np
import pytest
from sklearn.utils import Bunch, check_random_state

from skmer.datasets import Clip, ClipSequence
from skmer.datasets._synthetic import (
    MAX_CLASSES,
    _generate,
    make_micro_expressions,
)

cv2 = pytest.importorskip("cv2")


def _truth(random_state=0, *, n_clips=12, n_subjects=3, n_classes=3, n_frames=12,
           frame_shape=(48, 48), amplitude=1.0, noise=0.0):
    return _generate(n_clips, n_subjects, n_classes, (n_frames, n_frames),
                     frame_shape, 30.0, amplitude, noise, False,
                     check_random_state(random_state))


def test_shapes_and_dtypes():
    X, y, groups = make_micro_expressions(random_state=0)
    assert isinstance(X, ClipSequence)
    assert X.shape == (60,) and y.shape == (60,) and groups.shape == (60,)
    for clip in X:
        assert isinstance(clip, Clip)
        assert not clip.is_lazy
        assert clip.shape == (16, 112, 112)
        assert clip.dtype == np.uint8
    assert y.dtype.kind == "U" and groups.dtype.kind == "U"


def test_color_and_frame_shape():
    X, _, _ = make_micro_expressions(n_clips=4, n_subjects=2, color=True,
                                     frame_shape=(32, 40), n_frames=7,
                                     random_state=0)
    for clip in X:
        assert clip.shape == (7, 32, 40, 3) and clip.dtype == np.uint8
    # the channels differ (per-subject white balance, RGB face)
    f = X[0].frames.astype(float)
    assert np.abs(f[..., 0] - f[..., 2]).mean() > 1.0


def test_metadata():
    X, y, groups = make_micro_expressions(n_clips=30, n_subjects=3, fps=200.0,
                                          random_state=1)
    ids = [clip.id for clip in X]
    assert len(set(ids)) == len(ids)
    for i, clip in enumerate(X):
        assert 0 <= clip.onset < clip.apex < clip.offset < clip.n_frames
        assert clip.fps == 200.0
        assert clip.dataset == "synthetic"
        assert clip.label == y[i]
        assert clip.subject == groups[i]
        assert re.fullmatch(r"synthetic/s\d\d", clip.subject)
        sid = clip.subject.split("/")[1]
        assert clip.id == f"syn/{sid}/clip{i:03d}"
    # apex positions vary between clips
    assert len({(c.apex - c.onset) / (c.offset - c.onset) for c in X}) > 3


def test_reproducible():
    a = make_micro_expressions(n_clips=8, n_subjects=2, random_state=42)
    b = make_micro_expressions(n_clips=8, n_subjects=2,
                               random_state=np.random.RandomState(42))
    for xa, xb in zip(a[0], b[0]):
        assert xa == xb
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])


def test_different_random_state_gives_different_data():
    Xa, _, _ = make_micro_expressions(n_clips=8, n_subjects=2, random_state=0)
    Xb, _, _ = make_micro_expressions(n_clips=8, n_subjects=2, random_state=1)
    assert not all(np.array_equal(a.frames, b.frames) for a, b in zip(Xa, Xb))


def test_ragged_lengths():
    X, _, _ = make_micro_expressions(n_clips=40, n_subjects=4, n_frames=(5, 20),
                                     frame_shape=(48, 48), random_state=0)
    lengths = [clip.n_frames for clip in X]
    assert min(lengths) >= 5 and max(lengths) <= 20
    assert len(set(lengths)) > 5
    for clip in X:
        assert 0 <= clip.onset < clip.apex < clip.offset < clip.n_frames
        assert clip.shape[1:] == (48, 48)


@pytest.mark.parametrize("n_frames", [3, 4, (3, 5)])
def test_shortest_clips(n_frames):
    X, _, _ = make_micro_expressions(n_clips=12, n_subjects=2, n_frames=n_frames,
                                     random_state=0)
    for clip in X:
        assert 0 <= clip.onset < clip.apex < clip.offset < clip.n_frames


def test_balanced_classes_and_subjects():
    X, y, groups = make_micro_expressions(n_clips=60, n_subjects=6, random_state=0)
    classes, counts = np.unique(y, return_counts=True)
    assert list(classes) == ["negative", "positive", "surprise"]
    assert list(counts) == [20, 20, 20]
    subjects, counts = np.unique(groups, return_counts=True)
    assert list(subjects) == [f"synthetic/s{j:02d}" for j in range(1, 7)]
    assert list(counts) == [10] * 6
    for s in subjects:
        assert set(y[groups == s]) == set(classes)


def test_uneven_split_is_balanced_ish():
    _, y, groups = make_micro_expressions(n_clips=50, n_subjects=7, n_classes=4,
                                          random_state=3)
    _, class_counts = np.unique(y, return_counts=True)
    assert len(class_counts) == 4
    assert class_counts.max() - class_counts.min() <= 2
    subjects, subject_counts = np.unique(groups, return_counts=True)
    assert len(subjects) == 7
    assert subject_counts.max() - subject_counts.min() <= 1
    for s in subjects:  # every subject has >= 7 clips, so all 4 classes
        assert len(set(y[groups == s])) == 4


@pytest.mark.parametrize("n_classes", range(2, MAX_CLASSES + 1))
def test_n_classes(n_classes):
    bunch = make_micro_expressions(n_clips=3 * n_classes, n_subjects=3,
                                   n_classes=n_classes, return_bunch=True,
                                   random_state=0)
    assert len(bunch.target_names) == n_classes
    assert len(set(bunch.target_names)) == n_classes
    assert list(bunch.target_names[:2]) == ["negative", "positive"]
    assert set(bunch.target) == set(bunch.target_names)


def test_return_bunch():
    bunch = make_micro_expressions(n_clips=6, n_subjects=2, random_state=0,
                                   return_bunch=True)
    X, y, groups = make_micro_expressions(n_clips=6, n_subjects=2, random_state=0)
    assert isinstance(bunch, Bunch)
    assert set(bunch) >= {"data", "target", "groups", "datasets", "target_names",
                          "DESCR"}
    assert isinstance(bunch.data, ClipSequence)
    assert all(a == b for a, b in zip(bunch.data, X))
    np.testing.assert_array_equal(bunch.target, y)
    np.testing.assert_array_equal(bunch.groups, groups)
    np.testing.assert_array_equal(bunch.datasets, ["synthetic"] * 6)
    assert list(bunch.target_names) == ["negative", "positive", "surprise"]
    assert "AU12" in bunch.DESCR


@pytest.mark.parametrize("amplitude", [0.5, 1.0, 2.5])
def test_peak_displacement_matches_amplitude(amplitude):
    clips, _, _, truth = _truth(0, n_clips=12, amplitude=amplitude)
    peaks = []
    for clip, t in zip(clips, truth):
        mag = np.sqrt((t["field"] ** 2).sum(-1))
        assert mag.max() == pytest.approx(1.0)
        assert np.argmax(t["displacement"]) == clip.apex
        peaks.append(t["displacement"][clip.apex])
    peaks = np.array(peaks)
    assert np.all(peaks >= 0.8 * amplitude) and np.all(peaks <= amplitude)
    # and the rendered frames do move by that field: warping the onset frame by the
    # true displacement explains most of the change, the reversed field does not
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    for clip, t in zip(clips, truth):
        d = (t["field"] * t["displacement"][clip.apex]).astype(np.float32)
        onset = clip.frames[clip.onset].astype(np.float32)
        apex = clip.frames[clip.apex].astype(np.float32)
        moving = np.sqrt((t["field"] ** 2).sum(-1)) > 0.3
        change = np.abs(apex - onset)[moving].mean()

        def residual(sign, d=d, onset=onset, apex=apex, moving=moving):
            warped = cv2.remap(onset, xx - sign * d[..., 0], yy - sign * d[..., 1],
                               cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
            return np.abs(apex - warped)[moving].mean()

        assert residual(+1) < 0.9 * change
        assert residual(-1) > 1.2 * change
        assert residual(-1) > 1.5 * residual(+1)


def test_peak_flow_is_about_amplitude():
    # an independent measurement: Farneback flow between onset and apex
    X, _, _ = make_micro_expressions(n_clips=12, n_subjects=3, amplitude=2.0,
                                     frame_shape=(64, 64), noise=0.0,
                                     intensity=(0.8, 1.0), head_motion=0.0,
                                     blinks=0.0, mixing=0.0, random_state=0)
    ratios = []
    for clip in X:
        flow = cv2.calcOpticalFlowFarneback(clip.frames[clip.onset],
                                            clip.frames[clip.apex], None,
                                            0.5, 3, 9, 3, 5, 1.1, 0)
        ratios.append(np.sqrt((flow ** 2).sum(-1)).max() / 2.0)
    assert 0.5 < np.median(ratios) < 1.3


def test_motion_direction_and_place():
    clips, y, _, truth = _truth(0, n_clips=24, n_subjects=4)
    for clip, label, t in zip(clips, y, truth):
        field = t["field"]
        mag = np.sqrt((field ** 2).sum(-1))
        w = mag / mag.sum()
        row = (w * np.arange(48)[:, None]).sum()  # centroid of the motion
        dy = (w * field[..., 1]).sum()            # mean vertical motion
        if label == "negative":   # brows: upper face, down
            assert row < 19 and dy > 0.3
        elif label == "surprise":  # brows: upper face, up
            assert row < 19 and dy < -0.3
        else:                      # mouth corners: lower face, up
            assert label == "positive"
            assert row > 21 and dy < -0.3


def test_no_motion_outside_onset_offset():
    clips, _, _, truth = _truth(0, n_clips=12, noise=0.0)
    for clip, t in zip(clips, truth):
        f = clip.frames
        neutral = f[clip.onset]
        for i in list(range(clip.onset + 1)) + list(range(clip.offset, len(f))):
            np.testing.assert_array_equal(f[i], neutral)
            assert t["displacement"][i] == 0.0
        assert np.abs(f[clip.apex].astype(int) - neutral).max() > 5
    # with sensor noise: outside the expression, frames differ only by the noise
    X, _, _ = make_micro_expressions(n_clips=12, n_subjects=3, noise=2.0,
                                     head_motion=0.0, blinks=0.0, random_state=0)
    for clip in X:
        f = clip.frames.astype(float)
        still = [i for i in range(clip.n_frames)
                 if i <= clip.onset or i >= clip.offset]
        for i in still:
            diff = f[i] - f[clip.onset]
            if i != clip.onset:
                assert 2.0 < diff.std() < 3.5  # sqrt(2) * noise, quantised
                assert np.abs(diff).max() < 10 * 2.0


def test_zero_amplitude_is_still():
    X, _, _ = make_micro_expressions(n_clips=4, n_subjects=2, amplitude=0.0,
                                     noise=0.0, head_motion=0.0, blinks=0.0,
                                     random_state=0)
    for clip in X:
        assert np.all(clip.frames == clip.frames[0])


def test_subjects_differ_more_than_classes():
    X, y, groups = make_micro_expressions(n_clips=60, n_subjects=6, noise=0.0,
                                          random_state=0)
    onset = np.stack([c.frames[c.onset] for c in X]).astype(float)
    apex = np.stack([c.frames[c.apex] for c in X]).astype(float)
    expression = np.abs(apex - onset).mean()
    s1, s2 = (groups == groups[0]), (groups != groups[0])
    between_subjects = np.abs(onset[s1].mean(0) - onset[s2][:10].mean(0)).mean()
    assert between_subjects > 5 * expression


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_clips": 0}, "n_clips"),
        ({"n_clips": 2.5}, "n_clips"),
        ({"n_subjects": 0}, "n_subjects"),
        ({"n_clips": 4, "n_subjects": 5}, "n_subjects"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_classes": MAX_CLASSES + 1}, "n_classes"),
        ({"n_frames": 2}, "n_frames"),
        ({"n_frames": (8, 6)}, "n_frames"),
        ({"n_frames": (2, 6)}, "n_frames"),
        ({"n_frames": (4, 6, 8)}, "n_frames"),
        ({"frame_shape": (15, 48)}, "frame_shape"),
        ({"frame_shape": (48,)}, "frame_shape"),
        ({"frame_shape": 48}, "frame_shape"),
        ({"fps": 0}, "fps"),
        ({"amplitude": -0.5}, "amplitude"),
        ({"amplitude": np.nan}, "amplitude"),
        ({"noise": -1.0}, "noise"),
        ({"color": "yes"}, "color"),
        ({"duration": (0.5, 0.2)}, "duration"),
        ({"duration": (0.0, 0.5)}, "duration"),
        ({"duration": 0.3}, "duration"),
        ({"intensity": (0.5, 1.5)}, "intensity"),
        ({"intensity": (-0.1, 1.0)}, "intensity"),
        ({"flicker": -1.0}, "flicker"),
        ({"head_motion": np.inf}, "head_motion"),
        ({"blinks": 1.5}, "blinks"),
        ({"style": -1.0}, "style"),
        ({"mixing": 2.0}, "mixing"),
    ],
)
def test_bad_parameters(params, name):
    with pytest.raises(ValueError, match=re.escape(name)):
        make_micro_expressions(**params)


# --------------------------------------------------------------------------------------
# calibration of the defaults to real micro-expressions
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fps, n_frames", [(30.0, 16), (200.0, 110), (100.0, (60, 80))])
def test_durations_are_those_of_micro_expressions(fps, n_frames):
    # onset -> offset lasts 0.2-0.5 s (Yan et al. 2013; CASME II: 0.20-0.475 s
    # between its 10th and 90th percentiles), at any frame rate that fits it
    X, _, _ = make_micro_expressions(n_clips=30, n_subjects=3, fps=fps,
                                     n_frames=n_frames, frame_shape=(32, 32),
                                     random_state=0)
    spans = np.array([(c.offset - c.onset) / c.fps for c in X])
    assert spans.min() >= 0.2 - 0.5 / fps and spans.max() <= 0.5 + 0.5 / fps
    assert spans.max() - spans.min() > 0.1  # drawn, not fixed
    # too few frames: the span is shortened to fit the clip
    X, _, _ = make_micro_expressions(n_clips=6, n_subjects=2, n_frames=5,
                                     frame_shape=(32, 32), random_state=0)
    for c in X:
        assert 0 <= c.onset < c.apex < c.offset < c.n_frames


def test_apex_displacement_is_sub_pixel():
    # ground truth: apex peaks of 0.5-1 x amplitude (0.35 px by default)
    clips, _, _, truth = _generate(12, 3, 3, (16, 16), (112, 112), 30.0, 0.35, 3.0,
                                   False, check_random_state(0),
                                   duration=(0.2, 0.5), intensity=(0.5, 1.0),
                                   head_motion=0.3, blinks=0.3, style=1.0,
                                   mixing=0.8)
    peaks = np.array([t["displacement"][c.apex] for c, t in zip(clips, truth)])
    assert np.all(peaks >= 0.5 * 0.35 - 1e-9) and np.all(peaks <= 0.35 + 1e-9)
    for t in truth:
        assert np.sqrt((t["head"] ** 2).sum(-1)).max() <= 0.3 + 1e-9
    # measured: Farneback flow onset -> apex on default clips without the
    # nuisances peaks at a few tenths of a pixel, as on a real face scaled down
    X, _, _ = make_micro_expressions(n_clips=9, n_subjects=3, noise=0.0,
                                     head_motion=0.0, blinks=0.0, random_state=0)
    peaks = []
    for clip in X:
        flow = cv2.calcOpticalFlowFarneback(clip.frames[clip.onset],
                                            clip.frames[clip.apex], None,
                                            0.5, 3, 9, 3, 5, 1.1, 0)
        peaks.append(np.sqrt((flow ** 2).sum(-1)).max())
    assert 0.08 < np.median(peaks) < 0.6, peaks
    # with the nuisances (head motion, blinks, noise), the face still moves < 1 px
    # at the 99th percentile in most clips, as in the real CASME II clip
    X, _, _ = make_micro_expressions(n_clips=9, n_subjects=3, random_state=0)
    p99 = [np.percentile(np.sqrt((cv2.calcOpticalFlowFarneback(
        c.frames[c.onset], c.frames[c.apex], None, 0.5, 3, 9, 3, 5, 1.1, 0)
        ** 2).sum(-1)), 99) for c in X]
    assert np.median(p99) < 1.0, p99


def test_face_cropper_finds_the_face_in_default_clips():
    from skmer.preprocessing import FaceCropper

    X, _, _ = make_micro_expressions(n_clips=12, n_subjects=12, random_state=0)
    out = FaceCropper().fit_transform(X)  # on_missing="raise": no face would raise
    assert len(out) == 12
    assert all(c.landmarks is not None for c in out)


def test_nuisances_are_there_and_can_be_switched_off():
    clips, _, _, truth = _generate(40, 4, 3, (16, 16), (32, 32), 30.0, 0.35, 0.0,
                                   False, check_random_state(0),
                                   duration=(0.2, 0.5), head_motion=0.3,
                                   blinks=0.5)
    blinking = [np.abs(t["blink"]).max() > 0 for t in truth]
    assert 5 < sum(blinking) < 35
    assert all(np.abs(t["head"]).max() > 0 for t in truth)
    assert all(np.all(t["head"][0] == 0) for t in truth)
    X, _, _ = make_micro_expressions(n_clips=6, n_subjects=2, amplitude=0.0,
                                     noise=0.0, head_motion=0.3, blinks=0.0,
                                     frame_shape=(32, 32), random_state=0)
    assert any(np.any(c.frames != c.frames[0]) for c in X)  # the head drifts


def test_style_makes_subjects_move_differently():
    from skmer.datasets._synthetic import _PATTERNS, _subject_style

    rng = check_random_state(0)
    assert [list(p) for p in _subject_style(rng, 0.0)] == [list(p[2])
                                                           for p in _PATTERNS]
    a, b = _subject_style(rng, 1.0), _subject_style(rng, 1.0)
    for pa, pb, ref in zip(a, b, _PATTERNS):
        da = np.array([d for _, _, d in pa])
        db = np.array([d for _, _, d in pb])
        d0 = np.array([d for _, _, d in ref[2]])
        assert not np.allclose(da, d0) and not np.allclose(da, db)
        # the same action unit still: directions turned by well under 90 degrees
        cos = (da * d0).sum(1) / np.linalg.norm(da, axis=1) / np.linalg.norm(d0, axis=1)
        assert np.median(cos) > 0.5


@pytest.mark.slow
def test_raw_pixels_fail_motion_succeeds_under_loso():
    """The point of the generator: identity dominates pixels, motion tells classes.

    Leave-one-subject-out, the same standardised logistic regression is near chance
    on the apex frame's pixels and well above it, but not perfect, on the
    onset->apex optical flow.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    X, y, groups = make_micro_expressions(n_clips=120, n_subjects=8, random_state=0)
    raw = np.stack([c.frames[c.apex].ravel() for c in X]).astype(float)
    flow = np.stack([
        cv2.calcOpticalFlowFarneback(c.frames[c.onset], c.frames[c.apex], None,
                                     0.5, 3, 9, 3, 5, 1.1, 0).ravel()
        for c in X
    ])

    def loso_f1(features):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.01,
                                                                 max_iter=1000))
        # single-threaded BLAS: small problems, much faster on a busy machine
        with threadpool_limits(limits=1, user_api="blas"):
            pred = cross_val_predict(clf, features, y, groups=groups,
                                     cv=LeaveOneGroupOut())
        return f1_score(y, pred, average="macro")

    f1_raw, f1_flow = loso_f1(raw), loso_f1(flow)
    assert f1_raw < 0.55, f1_raw
    assert 0.6 <= f1_flow < 0.97, f1_flow

"""End-to-end tests of the preprocessing chain.

crop -> key frames -> magnification -> optical flow, as one scikit-learn Pipeline:
on a real CASME II clip (shared data), with ``Pipeline(memory=...)`` caching, with
lazy clips as cache keys, and for ``n_jobs`` invariance.
"""

import pickle

import cv2
import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

import skmer.preprocessing._face as face_mod
import skmer.preprocessing._flow as flow_mod
import skmer.preprocessing._magnify as magnify_mod
import skmer.preprocessing._temporal as temporal_mod
from skmer.datasets import Clip, ClipSequence, make_micro_expressions
from skmer.preprocessing import (
    FaceCropper,
    FlowExtractor,
    KeyframeSelector,
    Magnifier,
    optical_strain,
)

CASME2_CLIP = "clips/casme2_EP02_01f_tim16_640x480.avi"
# The AU12 (lip corner puller) peak of the clip: TV-L1 flow from frame 0 to frame t,
# on the face crop, moves the mouth corners up most at t = 3 (mean v = -0.34 px, the
# forehead 0.08 px once the global head motion is removed); after t = 12 the head
# moves as a whole (median flow 0.4 px at t = 13), which is where a plain frame
# difference spotter (KeyframeSelector(apex="spotted")) puts the apex.
CASME2_AU12_APEX = 3
OUT = (28, 28)


def _chain(alpha=4.0, apex="label", n_jobs=None, output_size=(128, 128),
           on_missing="raise"):
    return Pipeline([
        ("crop", FaceCropper(output_size=output_size, on_missing=on_missing,
                             n_jobs=n_jobs)),
        ("frames", KeyframeSelector("onset-apex", apex=apex, n_jobs=n_jobs)),
        ("magnify", Magnifier(alpha=alpha, mode="two-frame", n_jobs=n_jobs)),
        ("flow", FlowExtractor("tvl1", strain=True, output_size=OUT, n_jobs=n_jobs)),
    ])


def _casme2_clip(shared_data, apex=None):
    path = shared_data / CASME2_CLIP
    if not path.is_file():
        pytest.skip(f"raw CASME II clip absent: {path}")
    return Clip(source=path, onset=0, apex=apex, offset=15, id="casme2/EP02_01f",
                label="positive")


def _region_mean(img, points, margin):
    """Mean of ``img`` over the bounding box of ``points`` (x, y) grown by margin."""
    x0, y0 = np.floor(points.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + margin).astype(int)
    return img[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1].mean()


# --------------------------------------------------------------------------------------
# the chain on a real clip
# --------------------------------------------------------------------------------------
def test_real_clip_chain_with_spotted_apex(shared_data):
    clip = _casme2_clip(shared_data)
    pipe = _chain(apex="spotted")
    flow = pipe.fit_transform([clip])

    assert flow.shape == (1, 3) + OUT
    assert flow.dtype == np.float32
    assert np.isfinite(flow).all()
    u, v, strain = flow[0]
    assert np.abs(u).max() > 0.1 and np.abs(v).max() > 0.1  # not a null field
    assert (strain >= 0).all() and strain.max() > 0
    # the strain channel is the strain of the (resized) u, v it comes with
    np.testing.assert_allclose(strain, optical_strain(np.stack([u, v], axis=-1)),
                               rtol=1e-5, atol=1e-6)
    # the input clip is untouched, still lazy, and pickles as its path
    assert clip.is_lazy and clip.apex is None and clip.shape == (16, 480, 640)
    assert len(pickle.dumps(clip)) < 1_000 < clip.frames.nbytes

    pair = pipe[:3].transform([clip])[0]
    assert pair.shape == (2, 128, 128) and pair.dtype == np.uint8
    assert (pair.onset, pair.apex, pair.offset) == (0, 1, None)
    assert pair.landmarks.shape == (68, 2) and pair.id == "casme2/EP02_01f"


def test_real_clip_au12_mouth_corners_move_up_and_are_magnified(shared_data):
    clip = _casme2_clip(shared_data, apex=CASME2_AU12_APEX)
    pipe = _chain(alpha=4.0).fit([clip])
    flow = pipe.transform([clip])[0]
    flow0 = _chain(alpha=0.0).fit_transform([clip])[0]

    landmarks = pipe[:1].transform([clip])[0].landmarks * (OUT[0] / 128.0)
    corners = (landmarks[[48]], landmarks[[54]])       # dlib: the mouth corners
    above_brows = landmarks[17:27, 1].min()
    forehead = np.array([[landmarks[19, 0], 0.0],
                         [landmarks[24, 0], above_brows - 1.0]])

    def speed(f):
        return np.hypot(f[0], f[1])

    for f in (flow, flow0):
        mouth = np.mean([_region_mean(speed(f), c, 1.5) for c in corners])
        top = _region_mean(speed(f), forehead, 0.0)
        # measured ratios: 2.0 without magnification, 2.7 with alpha=4
        assert mouth > 1.5 * top
        # AU12 pulls the corners up: v (positive downwards) is negative there
        assert np.mean([_region_mean(f[1], c, 1.5) for c in corners]) < 0
    # magnification by alpha=4 (1 + alpha = 5 in the linear regime; measured 3.7)
    mouth = np.mean([_region_mean(speed(flow), c, 1.5) for c in corners])
    mouth0 = np.mean([_region_mean(speed(flow0), c, 1.5) for c in corners])
    assert mouth > 2.5 * mouth0


# --------------------------------------------------------------------------------------
# caching
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    """Six ragged synthetic clips (7-11 frames of 96 x 96): a face dlib finds."""
    X, _, _ = make_micro_expressions(6, n_subjects=3, n_frames=(7, 11),
                                     frame_shape=(96, 96), amplitude=1.5,
                                     random_state=1)
    return X


@pytest.fixture
def kernel_calls(monkeypatch):
    """Count the per-clip kernel calls of every stage (sequential runs only)."""
    calls = {"crop": 0, "frames": 0, "magnify": 0, "flow": 0}
    targets = {"crop": (face_mod, "_crop_clip"),
               "frames": (temporal_mod, "_select_clip"),
               "magnify": (magnify_mod, "_magnify_clip"),
               "flow": (flow_mod, "_clip_flows")}
    for name, (module, attr) in targets.items():
        original = getattr(module, attr)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, attr, counted)
    return calls


def test_memory_caches_every_stage(tmp_path, kernel_calls, synthetic):
    X = synthetic
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    # a trailing passthrough makes the flow a cached intermediate step too: Pipeline
    # caches the transformers before its last step, never the last step itself
    steps = _chain(output_size=(64, 64)).steps + [("out", "passthrough")]
    first = Pipeline(steps, memory=memory).fit_transform(X)
    assert kernel_calls == {"crop": 6, "frames": 6, "magnify": 6, "flow": 6}

    again = Pipeline(clone(Pipeline(steps)).steps, memory=memory).fit_transform(X)
    assert kernel_calls == {"crop": 6, "frames": 6, "magnify": 6, "flow": 6}
    np.testing.assert_array_equal(first, again)

    # a new magnification factor reuses the cached crop and key frames
    pipe = Pipeline(steps, memory=memory).set_params(magnify__alpha=8.0)
    changed = pipe.fit_transform(X)
    assert kernel_calls == {"crop": 6, "frames": 6, "magnify": 12, "flow": 12}
    assert not np.array_equal(changed, first)

    # without the trailing step the final FlowExtractor is refitted every time
    Pipeline(_chain(output_size=(64, 64)).steps, memory=memory).fit_transform(X)
    assert kernel_calls == {"crop": 6, "frames": 6, "magnify": 12, "flow": 18}


def _write_frames(folder, frames):
    folder.mkdir(parents=True)
    for t, frame in enumerate(frames):
        assert cv2.imwrite(str(folder / f"img{t + 1}.png"), frame)


def test_lazy_clips_pickle_as_their_source(tmp_path, synthetic):
    X = synthetic[:4]
    lazy = []
    for i, clip in enumerate(X):
        _write_frames(tmp_path / f"clip{i}", clip.frames)
        lazy.append(Clip(source=tmp_path / f"clip{i}", onset=clip.onset,
                         apex=clip.apex, offset=clip.offset, id=clip.id))
    seq = ClipSequence(lazy)

    key = joblib.hash(seq)
    small = len(pickle.dumps(seq))
    pixels = sum(c.frames.nbytes for c in seq)   # decodes every clip
    assert all(c.is_loaded for c in seq)
    assert pixels == sum(c.n_frames for c in X) * 96 * 96
    assert small < 2_000                         # paths and metadata only
    assert len(pickle.dumps(seq)) == small       # decoded pixels are not pickled
    assert joblib.hash(seq) == key               # so the cache key does not change
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(seq))[0].frames,
                                  X[0].frames)
    # an in-memory clip with the same pixels is hashed by its pixels instead
    assert joblib.hash(ClipSequence([c.replace() for c in seq])) != key


def test_memory_sees_a_frame_file_changed_in_place(tmp_path, synthetic):
    X = synthetic[:2]
    clips = []
    for i, clip in enumerate(X):
        _write_frames(tmp_path / f"clip{i}", clip.frames)
        clips.append(Clip(source=tmp_path / f"clip{i}", onset=clip.onset,
                          apex=clip.apex))
    steps = _chain(output_size=(64, 64)).steps + [("out", "passthrough")]
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    before = Pipeline(steps, memory=memory).fit_transform(ClipSequence(clips))

    apex_file = tmp_path / "clip0" / f"img{clips[0].apex + 1}.png"
    assert cv2.imwrite(str(apex_file), np.ascontiguousarray(X[0].frames[0][:, ::-1]))
    fresh = [Clip(source=c.source, onset=c.onset, apex=c.apex) for c in clips]
    expected = Pipeline(steps).fit_transform(ClipSequence(fresh))
    assert not np.array_equal(expected, before)
    after = Pipeline(steps, memory=memory).fit_transform(ClipSequence(fresh))
    np.testing.assert_array_equal(after, expected)


# --------------------------------------------------------------------------------------
# n_jobs
# --------------------------------------------------------------------------------------
def test_chain_output_does_not_depend_on_n_jobs(synthetic):
    # every stage runs in 2 worker processes (the first use pays their start-up)
    X = synthetic
    one = _chain(apex="spotted", output_size=(64, 64), n_jobs=1).fit_transform(X)
    two = _chain(apex="spotted", output_size=(64, 64), n_jobs=2).fit_transform(X)
    assert one.shape == (6, 3) + OUT
    assert np.abs(one[:, :2]).max() > 0.05
    np.testing.assert_array_equal(one, two)

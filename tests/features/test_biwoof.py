"""Bi-WOOF: golden values on hand-made flow fields, a loop oracle, the estimator."""

import math

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    LeaveOneGroupOut,
    cross_val_predict,
)

from skmer.features import BiWOOF, bi_woof, block_edges, make_biwoof_pipeline
from skmer.preprocessing import FlowExtractor, optical_strain
from skmer.utils.estimator_checks import make_check_clips, parametrize_with_clip_checks


def biwoof_loop(flow, n_blocks=5, n_bins=8, strain_weight="mean"):
    """A straightforward per-pixel implementation (strain given as channel 2)."""
    _, h, w = flow.shape
    feats = []
    for y0, y1 in block_edges(h, n_blocks):
        for x0, x1 in block_edges(w, n_blocks):
            hist = [0.0] * n_bins
            s, n = 0.0, 0
            for y in range(y0, y1):
                for x in range(x0, x1):
                    u, v = float(flow[0, y, x]), float(flow[1, y, x])
                    deg = math.degrees(math.atan2(v, u))  # (-180, 180]
                    k = int((deg + 180.0) // (360.0 / n_bins)) % n_bins
                    hist[k] += math.hypot(u, v)
                    s += float(flow[2, y, x])
                    n += 1
            total = sum(hist)
            weight = s / n if strain_weight == "mean" else s
            feats += [weight * (c / total if total > 0 else 0.0) for c in hist]
    feats = np.array(feats)
    return feats / np.linalg.norm(feats)


def test_bin_of_each_direction():
    """Bin k holds [-180 + 45 k, -180 + 45 (k + 1)) degrees (C = 8, image axes)."""
    cases = {(1, 0): 4, (0, 1): 6, (-1, 0): 0, (0, -1): 2, (1, 1): 5,
             (-1, -1): 1, (1, -1): 3, (-1, 1): 7}
    for (u, v), k in cases.items():
        flow = np.stack([np.full((4, 4), u), np.full((4, 4), v), np.ones((4, 4))])
        f = bi_woof(flow, n_blocks=1)
        assert f.tolist() == [1.0 if i == k else 0.0 for i in range(8)], (u, v)


def test_golden_hand_made_flow():
    flow = np.zeros((3, 10, 10))
    flow[0, :5, :5] = 1.0                       # block (0, 0): right, |1|
    flow[2, :5, :5] = 2.0                       #   strain 2
    flow[1, :5, 5:] = 2.0                       # block (0, 1): down, |2|
    flow[2, :5, 5:] = 1.0                       #   strain 1
    flow[0, 5:7, :5] = -3.0                     # block (1, 0): 10 px left, |3|
    flow[1, 7:, :5] = -1.0                      #   15 px up, |1|
    flow[2, 5:, :5] = 1.0                       #   strain 1
    flow[2, 5:, 5:] = 3.0                       # block (1, 1): no motion, strain 3
    f = bi_woof(flow, n_blocks=2, n_bins=4)
    # 4 bins: [-180,-90) [-90,0) [0,90) [90,180); left = 180 deg wraps to bin 0.
    want = np.array([0, 0, 2, 0,  0, 0, 0, 1,  2 / 3, 1 / 3, 0, 0,  0, 0, 0, 0])
    np.testing.assert_allclose(f, want / np.linalg.norm(want))
    np.testing.assert_allclose(f, biwoof_loop(flow, n_blocks=2, n_bins=4))


@pytest.mark.parametrize("n_blocks, n_bins, weight", [(5, 8, "mean"), (3, 6, "sum"),
                                                      (4, 8, "sum")])
def test_matches_loop_on_random_flow(n_blocks, n_bins, weight):
    rng = np.random.default_rng(0)
    flow = rng.normal(size=(3, 23, 28))
    flow[2] = np.abs(flow[2])
    np.testing.assert_allclose(
        bi_woof(flow, n_blocks=n_blocks, n_bins=n_bins, strain_weight=weight),
        biwoof_loop(flow, n_blocks, n_bins, weight), rtol=1e-12, atol=1e-15)


def test_strain_is_computed_from_uv():
    rng = np.random.default_rng(1)
    uv = rng.normal(size=(2, 16, 16))
    strain = optical_strain(np.moveaxis(uv, 0, -1)).astype(np.float64)
    with_strain = np.concatenate([uv, strain[None]])
    np.testing.assert_allclose(bi_woof(uv), bi_woof(with_strain), rtol=1e-6)
    np.testing.assert_allclose(bi_woof(with_strain * [[[1]], [[1]], [[0]]],
                                       strain="compute"), bi_woof(uv))
    # uniform translation has zero strain -> zero feature
    assert not bi_woof(np.ones((2, 10, 10))).any()


def test_invariances():
    rng = np.random.default_rng(2)
    uv = rng.normal(size=(2, 20, 20))
    f = bi_woof(uv, n_blocks=4)
    # scaling the flow scales magnitudes and strains: the feature does not change
    np.testing.assert_allclose(bi_woof(3.5 * uv, n_blocks=4), f)
    # median centring removes a common translation (the zero of min-max scaling)
    np.testing.assert_allclose(
        bi_woof(uv - np.median(uv, axis=(1, 2), keepdims=True), n_blocks=4),
        bi_woof(uv + [[[0.7]], [[-1.2]]], n_blocks=4, center="median"))
    # rotating every vector by one bin (45 deg) rolls every block's histogram
    width = 2 * np.pi / 8
    theta = -np.pi + width * (rng.integers(0, 8, (20, 20)) + rng.uniform(0.2, 0.8,
                                                                          (20, 20)))
    rho, eps = rng.uniform(0.5, 2, (20, 20)), rng.uniform(0, 1, (20, 20))
    flow = np.stack([rho * np.cos(theta), rho * np.sin(theta), eps])
    rot = np.stack([rho * np.cos(theta + width), rho * np.sin(theta + width), eps])
    np.testing.assert_allclose(
        bi_woof(rot, n_blocks=4).reshape(16, 8),
        np.roll(bi_woof(flow, n_blocks=4).reshape(16, 8), 1, axis=1), atol=1e-12)


@pytest.mark.parametrize("flow, kwargs, match", [
    (np.zeros((4, 10, 10)), {}, "2, height, width"),
    (np.zeros((1, 10, 10)), {}, "2, height, width"),
    (np.zeros((2, 4, 10)), {}, "larger than the flow image"),
    (np.full((2, 10, 10), np.nan), {}, "finite"),
    (np.zeros((2, 10, 10)), {"n_bins": 0}, "n_bins"),
    (np.zeros((2, 10, 10)), {"center": "mean"}, "center"),
    (np.zeros((2, 10, 10)), {"strain_weight": "max"}, "strain_weight"),
])
def test_kernel_bad_input(flow, kwargs, match):
    with pytest.raises(ValueError, match=match):
        bi_woof(flow, **kwargs)


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
@parametrize_with_clip_checks([BiWOOF(), BiWOOF(n_blocks=(3, 4), center="median")])
def test_clip_estimator_checks(estimator, check):
    check(estimator)


def test_estimator_on_flow_arrays():
    rng = np.random.default_rng(3)
    flow = rng.normal(size=(5, 3, 28, 28)).astype(np.float32)
    flow[:, 2] = np.abs(flow[:, 2])
    before = flow.copy()
    est = BiWOOF().fit(flow)
    Xt = est.transform(flow)
    np.testing.assert_array_equal(flow, before)
    assert Xt.shape == (5, 200) and est.input_kind_ == "flow"
    np.testing.assert_allclose(Xt[1], bi_woof(flow[1]))
    np.testing.assert_allclose(np.linalg.norm(Xt, axis=1), 1.0)
    np.testing.assert_allclose(BiWOOF(n_jobs=2).fit_transform(flow), Xt)
    df = clone(est).set_output(transform="pandas").fit_transform(flow)
    assert list(df.columns) == list(est.get_feature_names_out())
    assert df.columns[-1] == "r4c4_b7"


def test_estimator_on_clips_uses_flow_extractor():
    X, _ = make_check_clips(n_clips=3)
    est = BiWOOF(n_blocks=4).fit(X)
    assert est.input_kind_ == "clips" and est.frame_shape_ == (24, 24)
    flow = FlowExtractor(method="tvl1", mode="onset-apex", strain=True).fit_transform(X)
    np.testing.assert_allclose(est.transform(X),
                               BiWOOF(n_blocks=4).fit_transform(flow), rtol=1e-6)
    # a 4-D array of clips is read as clips only when asked
    arr = np.stack([c.frames for c in X])
    with pytest.raises(ValueError, match="8 \\(shape"):
        BiWOOF().fit(arr)
    assert BiWOOF(input="clips", n_blocks=4).fit_transform(arr).shape == (3, 128)


@pytest.mark.parametrize("params, X, match", [
    ({}, np.zeros((3, 4, 28, 28)), "2 \\(u, v\\) or 3"),
    ({}, np.zeros((3, 1, 28, 28)), "2 \\(u, v\\) or 3"),
    ({"n_blocks": 30}, np.zeros((3, 3, 28, 28)), "larger than the images"),
    ({"input": "flow"}, np.zeros((3, 28, 28)), "shape \\(n_samples"),
    ({"n_blocks": 30}, make_check_clips(n_clips=2)[0], "larger than the images"),
])
def test_estimator_bad_input(params, X, match):
    with pytest.raises(ValueError, match=match):
        BiWOOF(**params).fit(X)


def test_transform_checks_shape_and_kind():
    flow = np.random.default_rng(4).normal(size=(3, 2, 20, 20))
    est = BiWOOF().fit(flow)
    with pytest.raises(ValueError, match="fitted on"):
        est.transform(flow[:, :, :10])
    with pytest.raises(ValueError, match="fitted on flow"):
        est.transform(list(flow))


def test_real_flow_images(megc2019_dir):
    from skmer.datasets import load_flow_images

    d = load_flow_images(megc2019_dir / "flow_uvos_28")
    Xt = BiWOOF(center="median").fit_transform(d.data[:30])
    assert Xt.shape == (30, 200) and np.isfinite(Xt).all()
    np.testing.assert_allclose(np.linalg.norm(Xt, axis=1), 1.0)
    # min-max scaled images without centring: u, v >= 0, every vector points
    # right and down (bins 4, 5 = [0, 90) degrees; bin 6 holds u == 0 exactly)
    raw = BiWOOF().fit_transform(d.data[:30]).reshape(30, 25, 8)
    assert raw[:, :, 4:7].sum() == pytest.approx(raw.sum())
    assert raw[:, :, 4:6].sum() > 0.9 * raw.sum()


# --------------------------------------------------------------------------------------
# nested selection with a subject-grouped inner CV, through metadata routing
# --------------------------------------------------------------------------------------
_SEEN = []


class _RecordingGroupKFold(GroupKFold):
    def split(self, X, y=None, groups=None):
        _SEEN.append(None if groups is None else set(np.asarray(groups).tolist()))
        return super().split(X, y, groups)


def test_nested_loso_routes_groups_to_the_inner_cv():
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1, 2], 16)
    flow = rng.normal(size=(48, 3, 15, 15))
    flow[:, 0] += 0.8 * np.cos(2 * y)[:, None, None]  # class-dependent motion
    flow[:, 1] += 0.8 * np.sin(2 * y)[:, None, None]
    flow[:, 2] = np.abs(flow[:, 2])
    groups = np.array([f"d/s{i % 6}" for i in range(48)])
    search = GridSearchCV(make_biwoof_pipeline(n_blocks=3),
                          {"svm__C": [0.1, 1.0]}, cv=_RecordingGroupKFold(3))
    _SEEN.clear()
    with config_context(enable_metadata_routing=True):
        pred = cross_val_predict(search, flow, y,
                                 cv=LeaveOneGroupOut(), params={"groups": groups})
    assert len(_SEEN) == 6 and all(s is not None and len(s) == 5 for s in _SEEN)
    held_out = [set(groups) - s for s in _SEEN]
    assert sorted(next(iter(h)) for h in held_out) == sorted(set(groups))
    assert (pred == y).mean() > 0.6

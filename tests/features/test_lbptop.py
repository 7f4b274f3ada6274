"""LBP-TOP: golden values, a per-voxel loop oracle, scikit-image, the estimator."""

import math

import numpy as np
import pytest
from skimage.feature import local_binary_pattern
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmer.features import (
    LBPTOP,
    block_edges,
    lbp_top,
    lbp_top_codes,
    make_biwoof_pipeline,
    make_lbptop_pipeline,
    n_uniform_bins,
    uniform_mapping,
)
from skmer.utils.estimator_checks import make_check_clips, parametrize_with_clip_checks

# A hand-written 6x6x5 uint8 clip (T=5 frames of 6x6).
CLIP = np.array([
    [[10, 20, 30, 40, 50, 60], [12, 22, 32, 42, 52, 62], [14, 24, 34, 44, 54, 64],
     [16, 26, 36, 46, 56, 66], [18, 28, 38, 48, 58, 68], [20, 30, 40, 50, 60, 70]],
    [[90, 10, 90, 10, 90, 10], [10, 90, 10, 90, 10, 90], [90, 10, 90, 10, 90, 10],
     [10, 90, 10, 90, 10, 90], [90, 10, 90, 10, 90, 10], [10, 90, 10, 90, 10, 90]],
    [[5, 5, 5, 5, 5, 5], [5, 200, 200, 200, 200, 5], [5, 200, 7, 7, 200, 5],
     [5, 200, 7, 7, 200, 5], [5, 200, 200, 200, 200, 5], [5, 5, 5, 5, 5, 5]],
    [[0, 255, 0, 255, 0, 255], [3, 1, 4, 1, 5, 9], [2, 6, 5, 3, 5, 8],
     [9, 7, 9, 3, 2, 3], [8, 4, 6, 2, 6, 4], [3, 3, 8, 3, 2, 7]],
    [[60, 50, 40, 30, 20, 10], [62, 52, 42, 32, 22, 12], [64, 54, 44, 34, 24, 14],
     [66, 56, 46, 36, 26, 16], [68, 58, 48, 38, 28, 18], [70, 60, 50, 40, 30, 20]],
], dtype=np.uint8)


# --------------------------------------------------------------------------------------
# a straightforward per-voxel loop implementation (the oracle)
# --------------------------------------------------------------------------------------
def _is_uniform(code, p):
    bits = [(code >> i) & 1 for i in range(p)]
    return sum(bits[i] != bits[(i + 1) % p] for i in range(p)) <= 2


def _loop_mapping(p):
    uniform = [c for c in range(2**p) if _is_uniform(c, p)]
    return {c: (uniform.index(c) if c in uniform else len(uniform))
            for c in range(2**p)}


def _value(vol, t, y, x):
    return float(vol[t, y, x])


def _bilinear(vol, t, y, x):
    """Bilinear value at a point with at most two non-integer coordinates."""
    coords = [t, y, x]
    lo = [math.floor(c) for c in coords]
    fr = [c - f for c, f in zip(coords, lo)]
    total = 0.0
    for dt in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                w = ((fr[0] if dt else 1 - fr[0]) * (fr[1] if dy else 1 - fr[1])
                     * (fr[2] if dx else 1 - fr[2]))
                if w:
                    total += w * _value(vol, lo[0] + dt, lo[1] + dy, lo[2] + dx)
    return total


def lbp_top_loop(clip, p=8, radii=(1, 1, 4), interpolation="bilinear",
                 n_blocks=(5, 5), overlap=0.0):
    vol = np.asarray(clip, dtype=np.float64)
    T, H, W = vol.shape
    rx, ry, rt = radii
    if interpolation == "nearest":
        mt, my, mx = (math.floor(r + 0.5) for r in (rt, ry, rx))
    else:
        mt, my, mx = (math.ceil(r) for r in (rt, ry, rx))
    tol = 1e-10 * max(1.0, np.abs(vol[mt:T - mt, my:H - my, mx:W - mx]).max())
    if interpolation == "nearest":
        tol = 0.0
    mapping = _loop_mapping(p)
    nb = len(set(mapping.values()))
    rows, cols = n_blocks
    ys, xs = block_edges(H, rows, overlap), block_edges(W, cols, overlap)
    hist = np.zeros((rows, cols, 3, nb))

    def offset(v):
        v = round(v, 5)
        return math.floor(v + 0.5) if interpolation == "nearest" else v

    for t in range(mt, T - mt):
        for y in range(my, H - my):
            for x in range(mx, W - mx):
                gc = vol[t, y, x]
                for k, plane in enumerate(("xy", "xt", "yt")):
                    code = 0
                    for q in range(p):
                        c, s = math.cos(2 * math.pi * q / p), math.sin(
                            2 * math.pi * q / p)
                        if plane == "xy":
                            pt = (t, y + offset(-ry * s), x + offset(rx * c))
                        elif plane == "xt":
                            pt = (t + offset(-rt * s), y, x + offset(rx * c))
                        else:
                            pt = (t + offset(-rt * s), y + offset(-ry * c), x)
                        g = _bilinear(vol, *pt)
                        if g >= gc - tol:
                            code += 2**q
                    for i, (y0, y1) in enumerate(ys):
                        for j, (x0, x1) in enumerate(xs):
                            if y0 <= y < y1 and x0 <= x < x1:
                                hist[i, j, k, mapping[code]] += 1
    hist /= hist.sum(axis=-1, keepdims=True)
    return hist.ravel()


# --------------------------------------------------------------------------------------
# mapping and block grid
# --------------------------------------------------------------------------------------
def test_uniform_mapping_oulu_order():
    table = uniform_mapping(8)
    uniform = [c for c in range(256) if _is_uniform(c, 8)]
    assert len(uniform) == 58 and n_uniform_bins(8) == 59
    # the 58 uniform codes numbered in increasing code value, the rest in bin 58
    assert table[uniform].tolist() == list(range(58))
    assert set(table[[c for c in range(256) if c not in uniform]].tolist()) == {58}
    # runs of k ones from bit 0 (0, 1, 3, 7, ...) get the triangular numbers
    assert table[[0, 1, 3, 7, 15, 31, 63, 127, 128, 129, 255]].tolist() == [
        0, 1, 3, 6, 10, 15, 21, 28, 29, 30, 57]
    assert table[[5, 9, 0b01010101]].tolist() == [58, 58, 58]
    for p in (4, 6, 12):
        assert np.array_equal(uniform_mapping(p),
                              [v for _, v in sorted(_loop_mapping(p).items())])
    with pytest.raises(ValueError, match="n_points"):
        uniform_mapping(17)


def test_block_edges():
    assert block_edges(28, 5).tolist() == [[0, 6], [6, 11], [11, 17], [17, 22],
                                           [22, 28]]
    assert block_edges(6, 1).tolist() == [[0, 6]]
    edges = block_edges(100, 4, overlap=0.5)
    assert edges[0, 0] == 0 and edges[-1, 1] == 100
    assert np.all(np.diff(edges[:, 0]) > 0) and np.all(edges[:-1, 1] > edges[1:, 0])
    with pytest.raises(ValueError, match="does not fit"):
        block_edges(4, 5)
    with pytest.raises(ValueError, match="overlap"):
        block_edges(10, 2, overlap=1.0)


# --------------------------------------------------------------------------------------
# golden values
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_codes_of_ramps(interpolation):
    """Hand-derived codes: a ramp along x and a ramp along t."""
    t, y, x = np.mgrid[0:5, 0:6, 0:6]
    codes, margins = lbp_top_codes(10 * x, radii=(1, 1, 1),
                                   interpolation=interpolation)
    assert margins == (1, 1, 1)
    # x ramp: samples with cos >= 0 (p = 0, 1, 2, 6, 7) are >= the centre.
    assert np.all(codes["xy"] == 0b11000111) and np.all(codes["xt"] == 0b11000111)
    assert np.all(codes["yt"] == 255)  # YT ignores x: all equal -> all ones
    codes, _ = lbp_top_codes(10 * t, radii=(1, 1, 1), interpolation=interpolation)
    # t ramp: samples at t - R_T sin >= t when sin <= 0 (p = 0, 4, 5, 6, 7).
    assert np.all(codes["xy"] == 255)
    assert np.all(codes["xt"] == 0b11110001) and np.all(codes["yt"] == 0b11110001)


def test_golden_voxel_of_hand_clip():
    """One voxel of the hand-written clip, worked out by hand (nearest)."""
    codes, _ = lbp_top_codes(CLIP, radii=(1, 1, 1), interpolation="nearest")
    # Voxel (t=2, y=2, x=2): centre 7.  XY neighbours p=0..7 at (y, x) offsets
    # (0,+1) (-1,+1) (-1,0) (-1,-1) (0,-1) (+1,-1) (+1,0) (+1,+1) of frame 2:
    # 7, 200, 200, 200, 200, 200, 7, 7 -> all >= 7 -> 255.
    assert codes["xy"][1, 1, 1] == 255
    # XT: (t, x) offsets (0,+1) (-1,+1) (-1,0) (-1,-1) (0,-1) (+1,-1) (+1,0) (+1,+1)
    # values 7, 10(f1[2,3]), 90(f1[2,2]), 10(f1[2,1]), 200, 6(f3[2,1]), 5(f3[2,2]),
    # 3(f3[2,3]) -> bits 0, 1, 2, 3, 4 -> 0b00011111 = 31.
    assert codes["xt"][1, 1, 1] == 31
    # YT: (t, y) offsets (0,-1) (-1,-1) (-1,0) (-1,+1) (0,+1) (+1,+1) (+1,0) (+1,-1)
    # values 7, 10(f1[1,2]), 90(f1[2,2]), 10(f1[3,2]), 7, 9(f3[3,2]), 5(f3[2,2]),
    # 4(f3[1,2]) -> bits 0, 1, 2, 3, 4, 5 -> 63.
    assert codes["yt"][1, 1, 1] == 63


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("n_blocks, overlap", [((1, 1), 0.0), ((2, 2), 0.0),
                                               ((2, 3), 0.4)])
def test_kernel_matches_loop_on_hand_clip(interpolation, n_blocks, overlap):
    got = lbp_top(CLIP, radii=(1, 1, 1), interpolation=interpolation,
                  n_blocks=n_blocks, overlap=overlap)
    want = lbp_top_loop(CLIP, radii=(1, 1, 1), interpolation=interpolation,
                        n_blocks=n_blocks, overlap=overlap)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("radii, p", [((1, 1, 4), 8), ((2, 1.5, 2), 8),
                                      ((1, 2, 3), 4)])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_kernel_matches_loop_on_random_clip(radii, p, interpolation):
    rng = np.random.default_rng(1)
    clip = rng.integers(0, 6, size=(10, 9, 10)).astype(np.uint8)  # many ties
    got = lbp_top(clip, n_points=p, radii=radii, interpolation=interpolation,
                  n_blocks=(2, 2))
    want = lbp_top_loop(clip, p=p, radii=radii, interpolation=interpolation,
                        n_blocks=(2, 2))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------
# scikit-image correspondence (XY plane)
# --------------------------------------------------------------------------------------
def _skimage_nri_label(code, p):
    """skimage's ``nri_uniform`` label of a uniform ``code`` (its own numbering)."""
    bits = [(code >> i) & 1 for i in range(p)]
    n_ones = sum(bits)
    if n_ones == 0:
        return 0
    if n_ones == p:
        return p * (p - 1) + 1
    first_one, first_zero = bits.index(1), bits.index(0)
    rot = n_ones - first_zero if first_one == 0 else p - first_one
    return 1 + (n_ones - 1) * p + rot


@pytest.mark.parametrize("p, r", [(8, 1), (8, 2), (8, 1.5), (12, 2)])
def test_xy_plane_equals_skimage(p, r):
    rng = np.random.default_rng(2)
    clip = rng.integers(0, 256, size=(3, 24, 24), dtype=np.uint8)
    codes, (mt, my, mx) = lbp_top_codes(clip, n_points=p, radii=(r, r, 1))
    sk = np.stack([local_binary_pattern(f, p, r, method="default") for f in clip])
    sk = sk[mt:3 - mt, my:24 - my, mx:24 - mx]
    np.testing.assert_array_equal(codes["xy"], sk)
    # nri_uniform numbers the uniform codes differently: map its labels to Oulu's.
    nri = np.stack([local_binary_pattern(f, p, r, method="nri_uniform")
                    for f in clip])[mt:3 - mt, my:24 - my, mx:24 - mx]
    table = uniform_mapping(p)
    to_oulu = np.full(n_uniform_bins(p), n_uniform_bins(p) - 1)
    for code in range(2**p):
        if _is_uniform(code, p):
            to_oulu[_skimage_nri_label(code, p)] = table[code]
    np.testing.assert_array_equal(to_oulu[nri.astype(int)], table[codes["xy"]])
    # ... so the XY histogram of lbp_top is skimage's, reordered.
    feats = lbp_top(clip, n_points=p, radii=(r, r, 1), n_blocks=1)
    nb = n_uniform_bins(p)
    hist = np.bincount(to_oulu[nri.astype(int)].ravel(), minlength=nb)
    np.testing.assert_allclose(feats[:nb], hist / hist.sum())


# --------------------------------------------------------------------------------------
# invariances and layout
# --------------------------------------------------------------------------------------
def test_monotonic_grey_invariance_and_layout():
    rng = np.random.default_rng(3)
    clip = rng.integers(0, 100, size=(12, 20, 20)).astype(np.float64)
    f = lbp_top(clip, n_blocks=(2, 2))
    np.testing.assert_allclose(lbp_top(3.0 * clip + 7.0, n_blocks=(2, 2)), f)
    np.testing.assert_allclose(
        lbp_top(clip, n_blocks=(2, 2), interpolation="nearest"),
        lbp_top(np.sqrt(clip), n_blocks=(2, 2), interpolation="nearest"))
    assert f.shape == (2 * 2 * 3 * 59,)
    np.testing.assert_allclose(f.reshape(4, 3, 59).sum(-1), 1.0)
    # a colour clip is read as its luma
    rgb = np.repeat(clip[..., None], 3, axis=-1)
    np.testing.assert_allclose(lbp_top(rgb, n_blocks=(2, 2)), f)


@pytest.mark.parametrize("clip, kwargs, match", [
    (np.zeros((8, 24, 24)), {}, "smaller than the LBP-TOP radii"),
    (np.zeros((9, 2, 24)), {}, "larger than the frames"),
    (np.zeros((9, 24, 24)), {"n_blocks": (30, 5)}, "larger than the frames"),
    (np.zeros((9, 24, 24)), {"n_blocks": (24, 24)}, "holds no pixel"),
    (np.zeros((9, 24, 24, 5)), {}, "5 channels"),
    (np.zeros((9, 24, 24)), {"interpolation": "cubic"}, "interpolation"),
    (np.zeros((9, 24, 24)), {"n_points": 20}, "n_points"),
    (np.zeros((9, 24, 24)), {"radii": (1, 1)}, "radii"),
    (np.zeros((9, 24, 24)), {"overlap": 1.5}, "overlap"),
])
def test_kernel_bad_input(clip, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lbp_top(clip, **kwargs)


# --------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------
@parametrize_with_clip_checks([LBPTOP(), LBPTOP(n_blocks=2, interpolation="nearest",
                                              radii=(2, 2, 2), overlap=0.3)])
def test_clip_estimator_checks(estimator, check):
    check(estimator)


def test_estimator_matches_kernel_and_pandas_output():
    X, _ = make_check_clips(n_clips=4, n_frames=10, ragged=True)
    est = LBPTOP(n_blocks=(2, 3)).fit(X)
    Xt = est.transform(X)
    np.testing.assert_allclose(Xt[2], lbp_top(X[2].frames, n_blocks=(2, 3)))
    names = est.get_feature_names_out()
    assert len(names) == Xt.shape[1] == 6 * 3 * 59 and len(set(names)) == len(names)
    assert names[59] == "r0c0_xt_0" and names[-1] == "r1c2_yt_58"
    df = clone(est).set_output(transform="pandas").fit_transform(X)
    assert list(df.columns) == list(names) and df.shape == (4, 1062)


@pytest.mark.parametrize("params, X, match", [
    ({}, [np.zeros((6, 24, 24))], "at least 9"),
    ({"n_blocks": (30, 30)}, [np.zeros((9, 24, 24))], "larger than the frames"),
    ({"n_blocks": (24, 24)}, [np.zeros((9, 24, 24))], "holds no pixel"),
    ({"radii": (1, -1, 4)}, [np.zeros((9, 24, 24))], "radii"),
    ({"n_blocks": (2, 0)}, [np.zeros((9, 24, 24))], "n_blocks"),
])
def test_estimator_bad_input(params, X, match):
    with pytest.raises(ValueError, match=match):
        LBPTOP(**params).fit(X)


# --------------------------------------------------------------------------------------
# pipeline: 2-D stages, grid search with a subject-grouped inner CV
# --------------------------------------------------------------------------------------
_SVC_XFAIL = {
    # scikit-learn lists the same expected failures for SVC in its own test suite.
    "check_sample_weight_equivalence_on_dense_data":
        "libsvm: sample_weight is not equivalent to repeating samples",
    "check_sample_weight_equivalence_on_sparse_data":
        "libsvm: sample_weight is not equivalent to repeating samples",
}


def test_pipelines_share_the_2d_stages():
    lbp, woof = make_lbptop_pipeline(C=3.0), make_biwoof_pipeline(C=3.0)
    assert [n for n, _ in lbp.steps] == ["lbptop", "scaler", "svm"]
    assert [n for n, _ in woof.steps] == ["biwoof", "scaler", "svm"]
    for a, b in zip(lbp.steps[1:], woof.steps[1:]):
        assert type(a[1]) is type(b[1]) and a[1].get_params() == b[1].get_params()
    assert lbp.get_params()["svm__kernel"] == "linear"
    assert lbp.get_params()["svm__C"] == 3.0


# The 2-D stages of both pipelines (identical, see above); a Pipeline itself fails
# check_dont_overwrite_parameters by design (fit replaces ``steps``).
@parametrize_with_checks(
    [make_lbptop_pipeline()[1], make_lbptop_pipeline()[2]],
    expected_failed_checks=lambda est: _SVC_XFAIL if hasattr(est, "kernel") else {},
)
def test_classifier_stages_pass_sklearn_checks(estimator, check):
    check(estimator)


def test_grid_search_with_grouped_inner_cv():
    X, y = make_check_clips(n_clips=24, n_frames=10)
    groups = np.array([c.subject for c in X])
    search = GridSearchCV(make_lbptop_pipeline(n_blocks=2),
                          {"svm__C": [0.01, 1.0]}, cv=GroupKFold(n_splits=4))
    search.fit(X, y, groups=groups)
    assert search.best_params_["svm__C"] in (0.01, 1.0)
    assert search.score(X, y) > 0.5
    with pytest.raises(ValueError, match="groups"):
        clone(search).fit(X, y)  # GroupKFold needs the groups


def test_magnifier_alpha_grid_search_inside_loso():
    """GridSearchCV over magnify__alpha with a subject-grouped inner CV, nested in
    evaluate_loso: the inner splits only ever see training subjects."""
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline

    from skmer.datasets import make_micro_expressions
    from skmer.features import make_lbptop_pipeline
    from skmer.model_selection import evaluate_loso
    from skmer.preprocessing import Magnifier

    X, y, groups = make_micro_expressions(n_clips=18, n_subjects=3, n_frames=12,
                                          frame_shape=(32, 32), random_state=0)
    seen = []

    class SpyGroupKFold(GroupKFold):
        def split(self, X, y=None, groups=None):
            seen.append(set(groups))
            return super().split(X, y, groups)

    pipe = Pipeline([("magnify", Magnifier(alpha=5.0)),
                     *make_lbptop_pipeline(n_blocks=(2, 2)).steps])
    search = GridSearchCV(pipe, {"magnify__alpha": [0.0, 8.0]},
                          cv=SpyGroupKFold(n_splits=2), scoring="f1_macro")
    report = evaluate_loso(search, X, y, groups)
    assert report.n_folds == 3 and len(report.predictions) == 18
    subjects = sorted(set(groups))
    assert len(seen) == 3
    for inner, held_out in zip(seen, subjects):
        assert inner == set(subjects) - {held_out}

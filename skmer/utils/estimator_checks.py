"""The check suite of clip estimators (estimators whose ``X`` is a sequence of clips).

scikit-learn's ``check_estimator`` silently runs nothing on an estimator that sets
``input_tags.two_d_array = False``, so clip estimators are checked here instead:
scikit-learn's data-free API checks, called one by one, plus skmer's checks on small
synthetic clips (12 clips of 8 frames of 24x24 pixels with a moving blob and
onset/apex metadata).

Estimators on fixed-shape arrays that scikit-learn's generic checks cannot build
(flow images ``(n, C, H, W)``, videos ``(n, C, T, H, W)``, a fixed column layout) get
:func:`array_estimator_checks`: the same data-free API checks plus data checks on an
``X`` and ``y`` the caller gives.  ``tests/test_all_estimators.py`` discovers every
public estimator of skmer and runs the suite that fits its input.

Use it like :func:`sklearn.utils.estimator_checks.parametrize_with_checks`::

    from skmer.utils.estimator_checks import parametrize_with_clip_checks

    @parametrize_with_clip_checks([FlowExtractor(), FlowExtractor(mode="sequence")])
    def test_clip_estimators(estimator, check):
        check(estimator)

skmer tags
----------
The checks read an estimator's skmer tags with :func:`get_skmer_tags`: the ``skmer``
field (a :class:`~skmer.utils.SkmerTags`) of its scikit-learn tags, which the
estimator sets in ``__sklearn_tags__``::

    def __sklearn_tags__(self):
        tags = with_skmer_tags(super().__sklearn_tags__(), min_frames=2)
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags

The fields the checks use:

``allow_ragged`` : bool, default=True
    The estimator accepts clips of different lengths in one ``X``.  ``False`` turns
    :func:`check_clip_ragged_lengths` around (such clips must raise ``ValueError``;
    the data of the other checks has clips of equal length anyway).
``min_frames`` : int, default=1
    The fewest frames a clip may have (the synthetic clips have 8, ragged ones 5-8,
    or more when ``min_frames`` asks for it).
``requires_y`` : bool or None, default=None (true for estimators with ``predict``)
    ``fit`` needs ``y``.
``fixed_frame_shape`` : bool, default=True
    ``transform``/``predict`` require the frame shape seen in ``fit``.  ``False``
    (e.g. a face cropper, whose output size is a parameter) turns the "other frame
    shape" case of :func:`check_clip_bad_input` around: such clips must be accepted.
"""

from __future__ import annotations

import copy
import functools
import pickle
import re

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as _skchecks

from skmer._core import Clip, ClipSequence
from skmer.utils._tags import SkmerTags, get_skmer_tags

__all__ = [
    "SkmerTags",
    "array_estimator_checks",
    "check_clip_estimator",
    "clip_estimator_checks",
    "get_skmer_tags",
    "make_check_clips",
    "parametrize_with_clip_checks",
]

SKLEARN_API_CHECKS = (
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
    "check_mixin_order",
)

_OUTPUT_METHODS = ("transform", "predict", "predict_proba", "decision_function")


# --------------------------------------------------------------------------------------
# data and helpers
# --------------------------------------------------------------------------------------
def make_check_clips(n_clips=12, n_frames=8, frame_shape=(24, 24), *, ragged=False,
                     random_state=0):
    """Small synthetic clips (a blob moving over a smooth background) for the checks.

    Parameters
    ----------
    n_clips : int, default=12
        Number of clips.
    n_frames : int, default=8
        Frames per clip (the most frames when ``ragged``).
    frame_shape : tuple of int, default=(24, 24)
        ``(height, width)`` of the frames.
    ragged : bool, default=False
        Give the clips between ``n_frames - 3`` and ``n_frames`` frames.
    random_state : int, default=0
        Seed of the texture, blob paths and metadata.

    Returns
    -------
    X : list of Clip
        uint8 grey clips with ``onset``, ``apex``, ``offset``, ``id``, ``subject``.
    y : ndarray of shape (n_clips,)
        Labels ``"a"``, ``"b"``, ``"c"`` (each class present; the blob moves right for
        ``"a"``, down for ``"b"`` and diagonally for ``"c"``).

    Examples
    --------
    >>> from skmer.utils.estimator_checks import make_check_clips
    >>> X, y = make_check_clips(n_clips=3)
    >>> X[0].shape, X[0].onset <= X[0].apex, y.tolist()
    ((8, 24, 24), True, ['a', 'b', 'c'])
    """
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(random_state)
    h, w = frame_shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    labels = np.array(["a", "b", "c"])
    directions = {"a": (1.0, 0.0), "b": (0.0, 1.0), "c": (0.7, 0.7)}
    X, y = [], []
    for i in range(n_clips):
        label = labels[i % 3]
        T = int(rng.integers(max(2, n_frames - 3), n_frames + 1)) if ragged \
            else n_frames
        background = gaussian_filter(rng.random((h, w)), 2.0, mode="wrap")
        background = (background - background.min()) / np.ptp(background) * 0.5
        cx, cy = rng.uniform(0.3, 0.5) * w, rng.uniform(0.3, 0.5) * h
        dx, dy = directions[label]
        speed = rng.uniform(0.5, 1.0)
        frames = np.empty((T, h, w), dtype=np.uint8)
        for t in range(T):
            px, py = cx + speed * dx * t, cy + speed * dy * t
            blob = np.exp(-((xx - px) ** 2 + (yy - py) ** 2) / (2 * (0.12 * w) ** 2))
            frames[t] = np.rint(255 * np.clip(background + 0.5 * blob, 0, 1))
        onset = int(rng.integers(0, 2))
        apex = int(rng.integers(onset + 1, T))
        X.append(Clip(frames, onset=onset, apex=apex, offset=T - 1, fps=200.0,
                      id=f"clip{i:02d}", subject=f"synthetic/s{i % 4}",
                      dataset="synthetic", label=str(label)))
        y.append(label)
    return X, np.asarray(y)


def _fit(estimator, X, y):
    return estimator.fit(X, y)


def _fitted_clone(estimator_orig, X, y, **params):
    """Return a clone with ``params`` (and ``random_state=0`` if it has one), fitted."""
    est = clone(estimator_orig).set_params(**params)
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    return _fit(est, X, y)


def _outputs(estimator, X):
    """Return the outputs of every output method of a fitted estimator (a dict)."""
    out = {}
    for method in _OUTPUT_METHODS:
        if hasattr(estimator, method):
            out[method] = np.asarray(getattr(estimator, method)(X))
    if not out:
        raise AssertionError(
            f"{type(estimator).__name__} has none of {list(_OUTPUT_METHODS)}."
        )
    return out


def _assert_same(a, b, msg, *, exact=False):
    assert a.keys() == b.keys(), f"{msg}: output methods differ"
    for key in a:
        x, z = a[key], b[key]
        assert x.shape == z.shape, f"{msg}: {key} shapes {x.shape} != {z.shape}"
        if exact or not np.issubdtype(x.dtype, np.number):
            np.testing.assert_array_equal(x, z, err_msg=f"{msg} ({key})")
        else:
            np.testing.assert_allclose(x, z, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{msg} ({key})")


def _data(estimator, *, ragged=False):
    tags = get_skmer_tags(estimator)
    n_frames = max(8, tags.min_frames + 3)
    return make_check_clips(n_frames=n_frames, ragged=ragged)


def _snapshot(X):
    return [(np.array(c.frames, copy=True), copy.deepcopy(c.metadata))
            if isinstance(c, Clip) else (np.array(c, copy=True), None) for c in X]


# --------------------------------------------------------------------------------------
# skmer checks: each takes (name, estimator_orig) as sklearn's checks do
# --------------------------------------------------------------------------------------
def check_clip_fit_returns_self(name, estimator_orig):
    """Check that ``fit`` returns the estimator itself."""
    X, y = _data(estimator_orig)
    est = clone(estimator_orig)
    assert _fit(est, X, y) is est, f"{name}.fit must return self."


def check_clip_not_fitted(name, estimator_orig):
    """Check that output methods raise ``NotFittedError`` before ``fit``."""
    X, _ = _data(estimator_orig)
    est = clone(estimator_orig)
    for method in _OUTPUT_METHODS:
        if hasattr(est, method):
            try:
                getattr(est, method)(X)
            except NotFittedError:
                continue
            raise AssertionError(
                f"{name}.{method} did not raise NotFittedError before fit."
            )


def check_clip_no_input_mutation(name, estimator_orig):
    """Check that ``fit`` and output methods modify neither frames nor metadata."""
    X, y = _data(estimator_orig)
    X_arrays = [np.array(c.frames, copy=True) for c in X[:4]]
    for data in (X, X_arrays):
        before = _snapshot(data)
        y_before = y.copy()
        est = clone(estimator_orig)
        _fit(est, data, y[:len(data)])
        _outputs(est, data)
        after = _snapshot(data)
        for i, ((f0, m0), (f1, m1)) in enumerate(zip(before, after)):
            np.testing.assert_array_equal(
                f0, f1, err_msg=f"{name} modified the frames of clip {i}.")
            assert f0.dtype == f1.dtype, f"{name} changed the dtype of clip {i}."
            assert _meta_equal(m0, m1), (
                f"{name} modified the metadata of clip {i}: {m0} -> {m1}")
        np.testing.assert_array_equal(y, y_before, err_msg=f"{name} modified y.")


def _meta_equal(a, b):
    if a is None or b is None:
        return a is b
    return Clip(np.zeros((1, 1, 1)), **a) == Clip(np.zeros((1, 1, 1)), **b)


def check_clip_fit_idempotent(name, estimator_orig):
    """Check that refitting on the same data (after other data) gives the same."""
    X, y = _data(estimator_orig)
    est = _fitted_clone(estimator_orig, X, y)
    first = _outputs(est, X)
    X_other, y_other = make_check_clips(random_state=1,
                                        n_frames=X[0].n_frames)
    _fit(est, X_other, y_other)
    _fit(est, X, y)
    _assert_same(first, _outputs(est, X), f"{name}: fit is not idempotent")


def check_clip_sample_order_invariance(name, estimator_orig):
    """Check that outputs of a subset / permutation are the subset / permutation."""
    X, y = _data(estimator_orig)
    est = _fitted_clone(estimator_orig, X, y)
    full = _outputs(est, X)
    perm = np.random.default_rng(0).permutation(len(X))
    permuted = _outputs(est, [X[i] for i in perm])
    _assert_same({k: v[perm] for k, v in full.items()}, permuted,
                 f"{name}: outputs depend on the sample order")
    subset = [1, 4, 5]
    _assert_same({k: v[subset] for k, v in full.items()},
                 _outputs(est, [X[i] for i in subset]),
                 f"{name}: outputs of a subset differ from the subset of outputs")
    _assert_same({k: v[[7]] for k, v in full.items()}, _outputs(est, [X[7]]),
                 f"{name}: output of a single clip differs")


def check_clip_input_containers(name, estimator_orig):
    """Check that a list, 1-D object array and ClipSequence of clips agree."""
    X, y = _data(estimator_orig)
    est = _fitted_clone(estimator_orig, X, y)
    ref = _outputs(est, X)
    as_object = np.empty(len(X), dtype=object)
    as_object[:] = X
    for container in (ClipSequence(X), as_object):
        _assert_same(ref, _outputs(est, container),
                     f"{name}: {type(container).__name__} input gives other outputs")
    est2 = clone(est)
    _fit(est2, ClipSequence(X), y)
    _assert_same(ref, _outputs(est2, X),
                 f"{name}: fitting on a ClipSequence gives other outputs")


def check_clip_ragged_lengths(name, estimator_orig):
    """Check that ragged clips are accepted (unless tagged ``allow_ragged=False``).

    An estimator tagged ``allow_ragged=False`` must reject them with ``ValueError``.
    """
    X, y = _data(estimator_orig, ragged=True)
    assert len({c.n_frames for c in X}) > 1
    est = clone(estimator_orig)
    if not get_skmer_tags(est).allow_ragged:
        try:
            _fit(est, X, y)
            _outputs(est, X)
        except ValueError:
            return
        raise AssertionError(
            f"{name} is tagged allow_ragged=False but accepted clips of different "
            "lengths without a ValueError."
        )
    _fit(est, X, y)
    out = _outputs(est, X)
    for key, value in out.items():
        assert len(value) == len(X), (
            f"{name}.{key} returned {len(value)} rows for {len(X)} ragged clips.")


def check_clip_pickle(name, estimator_orig):
    """Check that a pickle round-trip of a fitted estimator keeps its outputs."""
    X, y = _data(estimator_orig)
    est = _fitted_clone(estimator_orig, X, y)
    ref = _outputs(est, X)
    est2 = pickle.loads(pickle.dumps(est))
    _assert_same(ref, _outputs(est2, X), f"{name}: pickle round-trip changes outputs",
                 exact=True)


def check_clip_n_jobs_invariance(name, estimator_orig):
    """Check that ``n_jobs=1`` and ``n_jobs=2`` give the same outputs."""
    X, y = _data(estimator_orig)
    results = []
    for n_jobs in (1, 2):
        est = _fitted_clone(estimator_orig, X, y, n_jobs=n_jobs)
        results.append(_outputs(est, X))
    _assert_same(results[0], results[1], f"{name}: outputs depend on n_jobs",
                 exact=True)


def check_clip_random_state(name, estimator_orig):
    """Check that the same ``random_state`` gives the same outputs."""
    X, y = _data(estimator_orig)
    results = []
    for _ in range(2):
        est = clone(estimator_orig).set_params(random_state=42)
        _fit(est, X, y)
        results.append(_outputs(est, X))
    _assert_same(results[0], results[1],
                 f"{name}: random_state=42 twice gives different outputs")


def check_clip_bad_input(name, estimator_orig):
    """Check that empty X, wrong ndim, NaN and other frame shapes raise ValueError."""
    X, y = _data(estimator_orig)
    frames = X[0].frames

    def expect_value_error(what, func):
        try:
            func()
        except ValueError:
            return
        except Exception as exc:  # pragma: no cover - reported below
            raise AssertionError(
                f"{name} raised {type(exc).__name__} instead of ValueError for "
                f"{what}: {exc}") from exc
        raise AssertionError(f"{name} did not raise ValueError for {what}.")

    nan_clip = frames.astype(np.float64) / 255.0
    nan_clip[1, 2, 3] = np.nan
    bad_fit = {
        "an empty X": [],
        "a clip of wrong ndim (2-D)": [frames[0]] + list(X[1:]),
        "a clip of wrong ndim (5-D)": [frames[None, ..., None]] + list(X[1:]),
        "NaN frames": [nan_clip] + list(X[1:]),
    }
    for what, data in bad_fit.items():
        expect_value_error(f"{what} in fit",
                           lambda d=data: _fit(clone(estimator_orig), d, y[:len(d)]))
    est = _fit(clone(estimator_orig), X, y)
    other_shape = [np.pad(c.frames, ((0, 0), (0, 2), (0, 2))) for c in X[:3]]
    bad_predict = {
        "an empty X": [],
        "a clip of wrong ndim (2-D)": [frames[0]],
        "NaN frames": [nan_clip],
    }
    fixed_shape = get_skmer_tags(est).fixed_frame_shape
    if fixed_shape:
        bad_predict["a frame shape other than in fit"] = other_shape
    for method in _OUTPUT_METHODS:
        if not hasattr(est, method):
            continue
        if not fixed_shape:
            getattr(est, method)(other_shape)  # must be accepted
        for what, data in bad_predict.items():
            expect_value_error(f"{what} in {method}",
                               lambda d=data, m=method: getattr(est, m)(d))


_SKMER_CHECKS = (
    check_clip_fit_returns_self,
    check_clip_not_fitted,
    check_clip_no_input_mutation,
    check_clip_fit_idempotent,
    check_clip_sample_order_invariance,
    check_clip_input_containers,
    check_clip_ragged_lengths,
    check_clip_pickle,
    check_clip_n_jobs_invariance,
    check_clip_random_state,
    check_clip_bad_input,
)


# --------------------------------------------------------------------------------------
# array checks: estimators on fixed-shape arrays that scikit-learn's generic checks
# cannot feed (flow images (n, C, H, W), video arrays (n, C, T, H, W), a fixed column
# layout); each takes (name, estimator_orig, X, y) and the data come from the caller
# --------------------------------------------------------------------------------------
def _take(X, idx):
    return None if X is None else X[np.asarray(idx)]


def check_array_fit_returns_self(name, estimator_orig, X, y):
    """Check that ``fit`` returns the estimator itself."""
    est = clone(estimator_orig)
    assert _fit(est, X, y) is est, f"{name}.fit must return self."


def check_array_not_fitted(name, estimator_orig, X, y):
    """Check that output methods raise ``NotFittedError`` before ``fit``."""
    est = clone(estimator_orig)
    for method in _OUTPUT_METHODS:
        if hasattr(est, method):
            try:
                getattr(est, method)(X)
            except NotFittedError:
                continue
            raise AssertionError(
                f"{name}.{method} did not raise NotFittedError before fit.")


def check_array_no_input_mutation(name, estimator_orig, X, y):
    """Check that ``fit`` and output methods leave ``X`` and ``y`` unchanged."""
    X_before, y_before = np.array(X, copy=True), np.array(y, copy=True)
    est = clone(estimator_orig)
    _fit(est, X, y)
    _outputs(est, X)
    np.testing.assert_array_equal(X, X_before, err_msg=f"{name} modified X.")
    np.testing.assert_array_equal(y, y_before, err_msg=f"{name} modified y.")


def check_array_fit_idempotent(name, estimator_orig, X, y):
    """Check that refitting on the same data (after other data) gives the same."""
    est = _fitted_clone(estimator_orig, X, y)
    first = _outputs(est, X)
    perm = np.random.default_rng(1).permutation(len(X))
    _fit(est, _take(X, perm[: max(len(X) // 2, 6)]),
         _take(y, perm[: max(len(X) // 2, 6)]))
    _fit(est, X, y)
    _assert_same(first, _outputs(est, X), f"{name}: fit is not idempotent")


def check_array_sample_order_invariance(name, estimator_orig, X, y):
    """Check that outputs of a subset / permutation are the subset / permutation."""
    est = _fitted_clone(estimator_orig, X, y)
    full = _outputs(est, X)
    perm = np.random.default_rng(0).permutation(len(X))
    _assert_same({k: v[perm] for k, v in full.items()}, _outputs(est, _take(X, perm)),
                 f"{name}: outputs depend on the sample order")
    subset = [1, len(X) // 2, len(X) - 1]
    _assert_same({k: v[subset] for k, v in full.items()},
                 _outputs(est, _take(X, subset)),
                 f"{name}: outputs of a subset differ from the subset of outputs")


def check_array_pickle(name, estimator_orig, X, y):
    """Check that a pickle round-trip of a fitted estimator keeps its outputs."""
    est = _fitted_clone(estimator_orig, X, y)
    ref = _outputs(est, X)
    est2 = pickle.loads(pickle.dumps(est))
    _assert_same(ref, _outputs(est2, X), f"{name}: pickle round-trip changes outputs",
                 exact=True)


def check_array_random_state(name, estimator_orig, X, y):
    """Check that the same ``random_state`` gives the same outputs."""
    results = []
    for _ in range(2):
        est = clone(estimator_orig).set_params(random_state=42)
        _fit(est, X, y)
        results.append(_outputs(est, X))
    _assert_same(results[0], results[1],
                 f"{name}: random_state=42 twice gives different outputs")


_ARRAY_CHECKS = (
    check_array_fit_returns_self,
    check_array_not_fitted,
    check_array_no_input_mutation,
    check_array_fit_idempotent,
    check_array_sample_order_invariance,
    check_array_pickle,
    check_array_random_state,
)


def array_estimator_checks(estimator, X, y):
    """Yield ``(estimator, check)`` pairs of the fixed-shape-array check suite.

    For estimators whose ``X`` is an array that scikit-learn's generic checks
    cannot generate: flow images ``(n, C, H, W)``, videos ``(n, C, T, H, W)``, or a
    fixed column layout (:func:`skmer.recipes.make_composite_X`).  scikit-learn's
    data-free API checks come first, then checks on the given ``X`` and ``y``:
    ``fit`` returns ``self``, ``NotFittedError`` before ``fit``, no mutation of the
    input, idempotent ``fit``, invariance to sample order and subsets, pickle
    round-trip, and (with a ``random_state`` parameter) reproducibility.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check.
    X : ndarray of shape (n_samples, ...)
        Valid input, at least 6 samples.
    y : ndarray of shape (n_samples,)
        Labels (every class at least twice for a classifier).

    Yields
    ------
    estimator : estimator instance
        The estimator (the checks clone it).
    check : callable
        ``functools.partial(check_function, name, X=X, y=y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.preprocessing import OpticalStrain
    >>> from skmer.utils.estimator_checks import array_estimator_checks
    >>> X = np.random.default_rng(0).random((6, 2, 8, 8))
    >>> checks = list(array_estimator_checks(OpticalStrain(), X, np.zeros(6)))
    >>> checks[-1][1].func.__name__
    'check_array_pickle'
    """
    name = type(estimator).__name__
    for check_name in SKLEARN_API_CHECKS:
        yield estimator, functools.partial(getattr(_skchecks, check_name), name)
    params = estimator.get_params()
    for check in _ARRAY_CHECKS:
        if check is check_array_random_state and "random_state" not in params:
            continue
        yield estimator, functools.partial(check, name, X=X, y=y)


# --------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------
def clip_estimator_checks(estimator):
    """Yield ``(estimator, check)`` pairs of the clip-estimator check suite.

    Every ``check`` is a callable taking the estimator (``check(estimator)``), named
    like the underlying check function.  scikit-learn's data-free API checks come
    first, then skmer's checks on synthetic clips; the ``n_jobs`` and
    ``random_state`` checks are yielded only if the estimator has that parameter.

    Parameters
    ----------
    estimator : estimator instance
        A clip estimator (``X`` is a sequence of clips).

    Yields
    ------
    estimator : estimator instance
        The estimator (the checks clone it).
    check : callable
        ``functools.partial(check_function, name)``.

    Examples
    --------
    >>> from skmer.preprocessing import FlowExtractor
    >>> from skmer.utils.estimator_checks import clip_estimator_checks
    >>> checks = [c.func.__name__ for _, c in clip_estimator_checks(FlowExtractor())]
    >>> checks[0], "check_clip_no_input_mutation" in checks, len(checks)
    ('check_estimator_cloneable', True, 20)
    """
    name = type(estimator).__name__
    params = estimator.get_params()
    for check_name in SKLEARN_API_CHECKS:
        check = getattr(_skchecks, check_name)
        yield estimator, functools.partial(check, name)
    for check in _SKMER_CHECKS:
        if check is check_clip_n_jobs_invariance and "n_jobs" not in params:
            continue
        if check is check_clip_random_state and "random_state" not in params:
            continue
        yield estimator, functools.partial(check, name)


def _check_id(obj):
    if isinstance(obj, functools.partial):
        return obj.func.__name__
    if hasattr(obj, "get_params"):
        return re.sub(r"\s+", "", str(obj))
    return None


def parametrize_with_clip_checks(estimators):
    """Pytest decorator running the clip-estimator checks of each estimator.

    The clip counterpart of :func:`sklearn.utils.estimator_checks.
    parametrize_with_checks`; test ids are ``<estimator repr>-<check name>``.

    Parameters
    ----------
    estimators : list of estimator instances
        Clip estimators to check.

    Returns
    -------
    decorator : ``pytest.mark.parametrize``
        Parametrizes the test over ``estimator`` and ``check``.

    Examples
    --------
    >>> from skmer.preprocessing import FlowExtractor
    >>> from skmer.utils.estimator_checks import parametrize_with_clip_checks
    >>> @parametrize_with_clip_checks([FlowExtractor()])
    ... def test_clip_estimator(estimator, check):
    ...     check(estimator)
    """
    import pytest

    if any(isinstance(est, type) for est in estimators):
        raise TypeError("Pass estimator instances, not classes.")
    pairs = [pair for est in estimators for pair in clip_estimator_checks(est)]
    return pytest.mark.parametrize("estimator, check", pairs, ids=_check_id)


def check_clip_estimator(estimator):
    """Run every clip-estimator check on ``estimator``; raise on the first failure.

    Parameters
    ----------
    estimator : estimator instance
        A clip estimator.

    Raises
    ------
    AssertionError
        A check failed or raised (the message names the check).

    Examples
    --------
    >>> from skmer.preprocessing import FlowExtractor
    >>> from skmer.utils.estimator_checks import check_clip_estimator
    >>> check_clip_estimator(FlowExtractor(method="dis"))
    """
    for est, check in clip_estimator_checks(estimator):
        try:
            check(est)
        except Exception as exc:
            raise AssertionError(
                f"{check.func.__name__} failed: {type(exc).__name__}: {exc}"
            ) from exc

"""The clip-estimator check suite passes on good estimators and fails on broken ones."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import Tags as SklearnTags
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from skmer.preprocessing import FlowExtractor
from skmer.utils import SkmerTags, with_skmer_tags
from skmer.utils.estimator_checks import (
    check_clip_estimator,
    clip_estimator_checks,
    get_skmer_tags,
    make_check_clips,
    parametrize_with_clip_checks,
)
from skmer.utils.validation import check_clips


# --------------------------------------------------------------------------------------
# good toy estimators
# --------------------------------------------------------------------------------------
class MeanFrame(TransformerMixin, BaseEstimator):
    """Mean frame of every clip, flattened (a minimal correct clip transformer)."""

    def __init__(self, scale=1.0, n_jobs=None):
        self.scale = scale
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        X = check_clips(X, estimator=self)
        self.frame_shape_ = X[0].frames.shape[1:]
        return self

    def _features(self, clip):
        return clip.frames.astype(np.float64).mean(axis=0).ravel() * self.scale

    def transform(self, X):
        check_is_fitted(self)
        X = check_clips(X, frame_shape=self.frame_shape_, estimator=self)
        return np.stack([self._features(c) for c in X])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class NearestMeanClassifier(ClassifierMixin, BaseEstimator):
    """Nearest class mean of randomly projected mean frames (uses y, random_state)."""

    def __init__(self, n_components=5, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def _project(self, X):
        return np.stack([c.frames.astype(float).mean(axis=0).ravel() for c in X]) \
            @ self.projection_

    def fit(self, X, y):
        X = check_clips(X, estimator=self)
        self.frame_shape_ = X[0].frames.shape[1:]
        rng = np.random.default_rng(
            None if self.random_state is None else self.random_state)
        self.projection_ = rng.normal(size=(int(np.prod(self.frame_shape_)),
                                            self.n_components))
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        Z = self._project(X)
        self.means_ = np.stack([Z[y == k].mean(axis=0) for k in self.classes_])
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = check_clips(X, frame_shape=self.frame_shape_, estimator=self)
        Z = self._project(X)
        return -((Z[:, None, :] - self.means_[None]) ** 2).sum(-1)

    def predict(self, X):
        check_is_fitted(self)
        return self.classes_[self.decision_function(X).argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


CLIP_ESTIMATORS = [
    FlowExtractor(),
    FlowExtractor(mode="sequence", method="dis", output_size=(12, 12)),
    FlowExtractor(method="farneback", scale="minmax", magnitude=True),
    MeanFrame(),
    NearestMeanClassifier(random_state=0),
]


@parametrize_with_clip_checks(CLIP_ESTIMATORS)
def test_clip_estimators_pass(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------
# broken toy estimators: each must fail the check named next to it
# --------------------------------------------------------------------------------------
class MutatesInput(MeanFrame):
    def transform(self, X):
        out = super().transform(X)
        for c in check_clips(X):
            c.frames[0] = 0  # in-place edit of the caller's pixels
        return out


class MutatesMetadata(MeanFrame):
    def fit(self, X, y=None):
        for c in X:
            if hasattr(c, "apex"):
                c.apex = 0
        return super().fit(X, y)


class ValidatesInInit(MeanFrame):
    def __init__(self, scale=1.0, n_jobs=None):
        if not isinstance(scale, float):
            raise ValueError("scale must be a float")
        super().__init__(scale=scale, n_jobs=n_jobs)


class FitReturnsNone(MeanFrame):
    def fit(self, X, y=None):
        super().fit(X, y)


class NoValidation(MeanFrame):
    def fit(self, X, y=None):
        self.frame_shape_ = np.asarray(X[0]).shape[1:] if len(X) else ()
        return self

    def transform(self, X):
        check_is_fitted(self)
        return np.stack([np.asarray(c, dtype=float).mean(axis=0).ravel()[:4]
                         for c in X])


class OrderDependent(MeanFrame):
    def transform(self, X):
        out = super().transform(X)
        return out + np.arange(len(out))[:, None]


class NJobsDependent(MeanFrame):
    def transform(self, X):
        return super().transform(X) + (self.n_jobs or 0)


class IgnoresRandomState(NearestMeanClassifier):
    def fit(self, X, y):
        super().fit(X, y)
        self.projection_ = np.random.default_rng().normal(size=self.projection_.shape)
        Z = self._project(check_clips(X))
        y = np.asarray(y)
        self.means_ = np.stack([Z[y == k].mean(axis=0) for k in self.classes_])
        return self


class RejectsRagged(MeanFrame):
    def fit(self, X, y=None):
        X = check_clips(X)
        if len({c.n_frames for c in X}) > 1:
            raise ValueError("clips must have equal length")
        return super().fit(X, y)


class ClaimsNoRaggedButAccepts(MeanFrame):
    def __sklearn_tags__(self):
        return with_skmer_tags(super().__sklearn_tags__(), allow_ragged=False)


class NotIdempotent(MeanFrame):
    def fit(self, X, y=None):
        super().fit(X, y)
        self.n_fits_ = getattr(self, "n_fits_", 0) + 1
        return self

    def transform(self, X):
        return super().transform(X) + self.n_fits_


class PickleLoses(MeanFrame):
    def __getstate__(self):
        state = super().__getstate__()
        state["scale"] = 2.0
        return state


BROKEN = [
    (MutatesInput(), "check_clip_no_input_mutation"),
    (MutatesMetadata(), "check_clip_no_input_mutation"),
    (ValidatesInInit(), "check_do_not_raise_errors_in_init_or_set_params"),
    (FitReturnsNone(), "check_clip_fit_returns_self"),
    (NoValidation(), "check_clip_bad_input"),
    (OrderDependent(), "check_clip_sample_order_invariance"),
    (NJobsDependent(), "check_clip_n_jobs_invariance"),
    (IgnoresRandomState(random_state=0), "check_clip_random_state"),
    (RejectsRagged(), "check_clip_ragged_lengths"),
    (ClaimsNoRaggedButAccepts(), "check_clip_ragged_lengths"),
    (NotIdempotent(), "check_clip_fit_idempotent"),
    (PickleLoses(), "check_clip_pickle"),
]


@pytest.mark.parametrize("estimator, check_name", BROKEN,
                         ids=[type(e).__name__ for e, _ in BROKEN])
def test_broken_estimator_fails_its_check(estimator, check_name):
    checks = {c.func.__name__: (e, c) for e, c in clip_estimator_checks(estimator)}
    est, check = checks[check_name]
    with pytest.raises((AssertionError, ValueError, TypeError)):
        check(est)
    with pytest.raises(AssertionError, match="check_clip|check_do_not"):
        check_clip_estimator(estimator)


def test_check_selection():
    names = [c.func.__name__ for _, c in clip_estimator_checks(MeanFrame())]
    assert "check_clip_n_jobs_invariance" in names
    assert "check_clip_random_state" not in names
    names = [c.func.__name__ for _, c in
             clip_estimator_checks(NearestMeanClassifier())]
    assert "check_clip_random_state" in names
    assert "check_clip_n_jobs_invariance" not in names
    assert names[:2] == ["check_estimator_cloneable", "check_estimator_repr"]


def test_get_skmer_tags():
    assert get_skmer_tags(MeanFrame()) == SkmerTags(
        allow_ragged=True, min_frames=1, requires_y=False, fixed_frame_shape=True,
        fold_batching=False)
    assert get_skmer_tags(NearestMeanClassifier()).requires_y
    assert not get_skmer_tags(FlowExtractor(mode="sequence")).allow_ragged
    assert not get_skmer_tags(ClaimsNoRaggedButAccepts()).allow_ragged
    # the tags survive clone and are the sklearn tags' ``skmer`` field
    est = clone(ClaimsNoRaggedButAccepts())
    assert get_tags(est).skmer.allow_ragged is False
    assert get_tags(est).skmer.requires_y is None  # resolved by get_skmer_tags
    assert isinstance(get_tags(est), SklearnTags)
    # a plain scikit-learn estimator gets the defaults
    assert get_skmer_tags(StandardScaler()) == SkmerTags(requires_y=False)
    assert get_skmer_tags(SVC()).requires_y
    # a Pipeline: the first step's input tags, requires_y from any step
    pipe = make_pipeline(FlowExtractor(mode="sequence"), StandardScaler(), SVC())
    tags = get_skmer_tags(pipe)
    assert not tags.allow_ragged and tags.min_frames == 2 and tags.requires_y
    assert not tags.fold_batching
    with pytest.raises(TypeError):
        with_skmer_tags(MeanFrame().__sklearn_tags__(), ragged=True)


def test_with_skmer_tags_keeps_parent_tags():
    class Child(ClaimsNoRaggedButAccepts):
        def __sklearn_tags__(self):
            return with_skmer_tags(super().__sklearn_tags__(), min_frames=3)

    tags = Child().__sklearn_tags__()
    assert tags.skmer == SkmerTags(allow_ragged=False, min_frames=3)
    assert tags.input_tags.two_d_array is False  # MeanFrame's own tag is kept


def test_make_check_clips():
    X, y = make_check_clips()
    assert len(X) == 12 and X[0].shape == (8, 24, 24) and X[0].dtype == np.uint8
    assert set(y) == {"a", "b", "c"}
    assert all(0 <= c.onset < c.apex < c.n_frames for c in X)
    X2, _ = make_check_clips()
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(X, X2))
    ragged, _ = make_check_clips(ragged=True)
    assert len({c.n_frames for c in ragged}) > 1


def test_parametrize_rejects_classes():
    with pytest.raises(TypeError, match="instances"):
        parametrize_with_clip_checks([FlowExtractor])

"""Fixed, honest recipes for standard benchmarks.

:func:`megc2019_composite` is the recipe for the MEGC2019 composite (442 onset-apex
flow images of CASME II, SAMM and SMIC, 68 subjects, 3 classes) evaluated with
:func:`skmer.model_selection.evaluate_loso`.  Every choice in it is either fixed a
priori or selected by a subject-grouped inner cross-validation on the training
subjects of each fold.

The recipe works on a flat feature matrix ``X`` of shape ``(n_samples, 2489)``, the
*composite layout* built by :func:`make_composite_X`:

* columns ``0 .. 2351``: the flow image ``(3, 28, 28)`` flattened in C order,
  channels (u, v, optical strain) scaled to [0, 1] (as
  :func:`skmer.datasets.load_flow_images` returns them);
* columns ``2352 .. 2487``: the 68 dlib landmarks ``(x, y)`` of the apex face, in
  the flow image's pixel coordinates (the apex crops are 224x224 crops of the same
  face, so landmarks scale by 28 / 224), NaN where no face was found;
* column ``2488``: the corpus code (0 = casme2, 1 = samm, 2 = smic, -1 = other).

Landmarks are computed per image without labels (nothing is learnt), so they can be
computed once for all samples outside the cross-validation.
"""

from __future__ import annotations

import logging
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.utils.validation import check_array

from skmer.utils._compat import (
    StrOptions,
    _fit_context,
    check_is_fitted,
)

__all__ = [
    "CORPUS_CODES",
    "FlowAligner",
    "FlowRecentre",
    "FlipAugmentedClassifier",
    "GroupScaler",
    "composite_layout",
    "compute_apex_landmarks",
    "flip_flow",
    "make_composite_X",
    "megc2019_composite",
]

logger = logging.getLogger(__name__)

CORPUS_CODES = {"casme2": 0, "samm": 1, "smic": 2}
_SIDE = 28
_N_FLOW = 3 * _SIDE * _SIDE
_N_LM = 136
_N_COLS = _N_FLOW + _N_LM + 1
# dlib 68-point markup: index of each point's mirror image (left <-> right)
_MIRROR = np.array(
    list(range(16, -1, -1))                      # jaw 0..16
    + list(range(26, 16, -1))                    # brows 17..26
    + [27, 28, 29, 30]                           # nose bridge
    + [35, 34, 33, 32, 31]                       # nose base
    + [45, 44, 43, 42, 47, 46]                   # right eye -> left eye
    + [39, 38, 37, 36, 41, 40]                   # left eye -> right eye
    + [54, 53, 52, 51, 50, 49, 48]               # outer lip top
    + [59, 58, 57, 56, 55]                       # outer lip bottom
    + [64, 63, 62, 61, 60]                       # inner lip top
    + [67, 66, 65]                               # inner lip bottom
)


def composite_layout(side=_SIDE):
    """Column slices of the composite layout: ``(flow, landmarks, corpus)``.

    Examples
    --------
    >>> from skmer.recipes import composite_layout
    >>> composite_layout()
    (slice(0, 2352, None), slice(2352, 2488, None), slice(2488, 2489, None))
    """
    n_flow = 3 * side * side
    return (slice(0, n_flow), slice(n_flow, n_flow + _N_LM),
            slice(n_flow + _N_LM, n_flow + _N_LM + 1))


def _check_layout(X, where, side=_SIDE, any_channels=False):
    X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
    n_cols = 3 * side * side + _N_LM + 1
    n_ch = (X.shape[1] - _N_LM - 1) / (side * side)
    if any_channels and n_ch >= 1 and n_ch == int(n_ch):
        n_cols = X.shape[1]
    if X.shape[1] != n_cols:
        raise ValueError(
            f"{where}: X must have the composite layout of {n_cols} columns (flow "
            f"3x{side}x{side}, 136 landmark coordinates, corpus code; see "
            f"skmer.recipes.make_composite_X); got {X.shape[1]} columns.")
    flow = X[:, :n_cols - _N_LM - 1]
    if not np.isfinite(flow).all():
        raise ValueError(f"{where}: the flow columns of X contain NaN or infinity.")
    return X


def compute_apex_landmarks(images, *, n_jobs=None):
    """dlib 68-point landmarks of each apex face image (NaN where none is found).

    Parameters
    ----------
    images : iterable of ndarray or str
        Apex face images (grey or RGB) or paths to them.
    n_jobs : int, default=None
        Images in parallel (joblib).

    Returns
    -------
    landmarks : ndarray of shape (n_images, 68, 2)
        ``(x, y)`` in each image's pixel coordinates; all-NaN rows for images in
        which dlib finds no face (also after one upsampled retry).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import compute_apex_landmarks
    >>> np.isnan(compute_apex_landmarks([np.zeros((64, 64), np.uint8)])).all()
    np.True_
    """
    from skmer.utils._compat import Parallel, delayed

    return np.stack(Parallel(n_jobs=n_jobs)(
        delayed(_landmarks_one)(im) for im in images))


def _landmarks_one(image):
    from skmer.preprocessing._face import face_landmarks

    if isinstance(image, (str, bytes)) or hasattr(image, "__fspath__"):
        import cv2

        path = str(image)
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"Could not read the apex image {path!r}.")
        image = image[..., ::-1]
    lm = face_landmarks(image)
    if lm is None:
        lm = face_landmarks(image, upsample=1)
    return np.full((68, 2), np.nan) if lm is None else lm


def make_composite_X(flow, landmarks=None, corpora=None, *, landmark_scale=28 / 224):
    """Build the composite-layout feature matrix of :func:`megc2019_composite`.

    Parameters
    ----------
    flow : ndarray of shape (n_samples, 3, 28, 28)
        Flow images, channels (u, v, strain) in [0, 1].
    landmarks : ndarray of shape (n_samples, 68, 2), default=None
        Apex-face landmarks in apex-image pixels (NaN rows where missing); None
        fills NaN (the aligner then leaves every image as it is).
    corpora : array-like of str of shape (n_samples,), default=None
        Corpus of every sample (``casme2``, ``samm``, ``smic``; others get -1).
    landmark_scale : float, default=28/224
        Factor from apex-image pixels to flow pixels (pixel centres scale about
        -0.5).

    Returns
    -------
    X : ndarray of shape (n_samples, 2489)

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import make_composite_X
    >>> make_composite_X(np.zeros((2, 3, 28, 28)), corpora=["samm", "smic"]).shape
    (2, 2489)
    """
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 4 or flow.shape[1:] != (3, _SIDE, _SIDE):
        raise ValueError(
            f"flow must have shape (n_samples, 3, {_SIDE}, {_SIDE}); got "
            f"{flow.shape}.")
    n = len(flow)
    if landmarks is None:
        lm = np.full((n, 68, 2), np.nan)
    else:
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.shape != (n, 68, 2):
            raise ValueError(
                f"landmarks must have shape ({n}, 68, 2); got {lm.shape}.")
        lm = (lm + 0.5) * landmark_scale - 0.5
    codes = np.full(n, -1.0)
    if corpora is not None:
        corpora = np.asarray(corpora, dtype=object)
        if corpora.shape != (n,):
            raise ValueError(f"corpora must have shape ({n},); got {corpora.shape}.")
        codes = np.array([CORPUS_CODES.get(str(c).lower(), -1) for c in corpora],
                         dtype=np.float64)
    return np.hstack([flow.reshape(n, -1), lm.reshape(n, -1), codes[:, None]])


def flip_flow(X, side=_SIDE):
    """Mirror composite-layout samples left-right.

    The flow images are flipped horizontally and the horizontal flow changes sign:
    ``u`` is min-max scaled per image, so the scaled ``-u`` is ``1 - u``; ``v`` and
    the strain are only flipped.  Landmarks are mirrored (``x -> side - 1 - x``) and
    renumbered (the left eye becomes the right eye); the corpus code is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import flip_flow, make_composite_X
    >>> X = make_composite_X(np.random.default_rng(0).random((2, 3, 28, 28)))
    >>> np.allclose(flip_flow(flip_flow(X)), X, equal_nan=True)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    fs, ls, _ = composite_layout(side)
    out = X.copy()
    flow = X[:, fs].reshape(-1, 3, side, side)[..., ::-1].copy()
    flow[:, 0] = 1.0 - flow[:, 0]
    out[:, fs] = flow.reshape(len(X), -1)
    lm = X[:, ls].reshape(-1, 68, 2)[:, _MIRROR].copy()
    lm[..., 0] = side - 1 - lm[..., 0]
    out[:, ls] = lm.reshape(len(X), -1)
    return out


def _similarity(src, dst):
    """Least-squares 2x3 similarity mapping points ``src`` onto ``dst`` (Umeyama)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    a = (s * d).sum()
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()
    norm = (s ** 2).sum()
    ca, sb = a / norm, b / norm
    R = np.array([[ca, -sb], [sb, ca]])
    t = mu_d - R @ mu_s
    return np.hstack([R, t[:, None]])


class FlowAligner(TransformerMixin, BaseEstimator):
    """Warp composite-layout flow images so the apex landmarks match a template.

    ``fit`` sets the template to the mean landmark shape of the training samples
    that have landmarks, made left-right symmetric (the mean of the shape and its
    mirror), so that :func:`flip_flow` commutes with the alignment.  ``transform``
    estimates, per sample, the least-squares similarity from its landmarks to the
    template and warps the three flow channels with it (bilinear, border
    replicated); samples without landmarks are left as they are.  The flow vectors
    themselves are not rotated (the rotations are of a few degrees).  Landmark and
    corpus columns are passed through, the landmarks mapped onto the template frame.

    Parameters
    ----------
    points : {"all", "inner"}, default="inner"
        Landmarks used to estimate the similarity: all 68, or the 51 inner points
        (brows, eyes, nose, mouth: the jaw line is the least reliable).

    Attributes
    ----------
    template_ : ndarray of shape (68, 2)
        The symmetric mean shape, in flow pixels.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import FlowAligner, make_composite_X
    >>> X = make_composite_X(np.random.default_rng(0).random((3, 3, 28, 28)))
    >>> np.allclose(FlowAligner().fit_transform(X), X, equal_nan=True)  # no faces
    True
    """

    _parameter_constraints = {"points": [StrOptions({"all", "inner"})]}

    def __init__(self, points="inner"):
        self.points = points

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        X = _check_layout(X, "FlowAligner.fit")
        _, ls, _ = composite_layout()
        lm = X[:, ls].reshape(-1, 68, 2)
        ok = np.isfinite(lm).all(axis=(1, 2))
        if ok.any():
            mean = lm[ok].mean(0)
        else:
            mean = np.full((68, 2), np.nan)
        mirrored = mean[_MIRROR].copy()
        mirrored[:, 0] = _SIDE - 1 - mirrored[:, 0]
        self.template_ = (mean + mirrored) / 2
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        import cv2

        check_is_fitted(self)
        X = _check_layout(X, "FlowAligner.transform")
        out = X.copy()
        if not np.isfinite(self.template_).all():
            return out
        fs, ls, _ = composite_layout()
        idx = np.arange(17, 68) if self.points == "inner" else np.arange(68)
        for i in range(len(X)):
            lm = X[i, ls].reshape(68, 2)
            if not np.isfinite(lm).all():
                continue
            M = _similarity(lm[idx], self.template_[idx])
            flow = X[i, fs].reshape(3, _SIDE, _SIDE)
            warped = np.stack([
                cv2.warpAffine(ch.astype(np.float32), M, (_SIDE, _SIDE),
                               flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE) for ch in flow])
            out[i, fs] = warped.reshape(-1)
            out[i, ls] = (lm @ M[:, :2].T + M[:, 2]).reshape(-1)
        return out


class FlowRecentre(TransformerMixin, BaseEstimator):
    """Undo the per-image min-max scaling of the flow: centre ``u`` and ``v`` on
    their median, the flow of the still face.

    The released flow images are min-max scaled per image, so the value of *no
    motion* differs from image to image.  Most of the face does not move between
    onset and apex, so the median of ``u`` (of ``v``) over the image is the zero
    level; ``transform`` subtracts it and divides ``u`` and ``v`` by the same
    per-image scale (the mean magnitude of the centred flow) so their ratio, the
    direction, is kept.  With ``magnitude=True`` a fourth block of columns, the
    magnitude of the centred, scaled flow, is inserted after the strain.  Per
    sample and label-free: nothing is learnt in ``fit``.  Landmark and corpus
    columns pass through.

    Parameters
    ----------
    magnitude : bool, default=False
        Append the flow magnitude as a fourth channel (the output then has
        ``28 * 28`` more columns, before the landmark columns).

    Attributes
    ----------
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import FlowRecentre, make_composite_X
    >>> X = make_composite_X(np.random.default_rng(0).random((2, 3, 28, 28)))
    >>> Z = FlowRecentre().fit_transform(X)
    >>> Z.shape, bool(np.allclose(np.median(Z[:, :784], axis=1), 0))
    ((2, 2489), True)
    """

    _parameter_constraints = {"magnitude": ["boolean"]}

    def __init__(self, magnitude=False):
        self.magnitude = magnitude

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        X = _check_layout(X, "FlowRecentre.fit")
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = _check_layout(X, "FlowRecentre.transform")
        fs, ls, cs = composite_layout()
        n = len(X)
        flow = X[:, fs].reshape(n, 3, -1).copy()
        uv = flow[:, :2] - np.median(flow[:, :2], axis=2, keepdims=True)
        mag = np.sqrt((uv ** 2).sum(1))
        scale = mag.mean(1)
        scale[scale < 1e-12] = 1.0
        uv /= scale[:, None, None]
        flow[:, :2] = uv
        blocks = [flow.reshape(n, -1)]
        if self.magnitude:
            blocks.append(mag / scale[:, None])
        return np.hstack(blocks + [X[:, ls], X[:, cs]])


class GroupScaler(TransformerMixin, BaseEstimator):
    """Standardise the flow columns per corpus, statistics from training samples.

    ``fit`` learns a mean and standard deviation of every flow column for each
    corpus code present in the training samples (and overall); ``transform``
    standardises each sample with its corpus's statistics (the overall ones for a
    corpus absent from training) and returns the flow columns only (landmark and
    corpus columns are dropped).  Nothing is estimated from the samples being
    transformed: the corpus of a test subject is metadata, not a label.

    Parameters
    ----------
    per_corpus : bool, default=True
        False standardises every sample with the overall statistics (a plain
        :class:`~sklearn.preprocessing.StandardScaler` on the flow columns).

    Attributes
    ----------
    stats_ : dict
        ``{code: (mean, scale)}``; code ``None`` holds the overall statistics.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import GroupScaler, make_composite_X
    >>> rng = np.random.default_rng(0)
    >>> X = make_composite_X(rng.random((6, 3, 28, 28)), corpora=["samm", "smic"] * 3)
    >>> Z = GroupScaler().fit_transform(X)
    >>> Z.shape, bool(abs(Z[::2].mean()) < 1e-12)
    ((6, 2352), True)
    """

    _parameter_constraints = {"per_corpus": ["boolean"]}

    def __init__(self, per_corpus=True):
        self.per_corpus = per_corpus

    @staticmethod
    def _moments(F):
        scale = F.std(0)
        scale[scale < 1e-12] = 1.0
        return F.mean(0), scale

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        X = _check_layout(X, "GroupScaler.fit", any_channels=True)
        F, codes = X[:, :-_N_LM - 1], X[:, -1]
        self.stats_ = {None: self._moments(F)}
        if self.per_corpus:
            for c in np.unique(codes):
                if (codes == c).sum() >= 2:
                    self.stats_[float(c)] = self._moments(F[codes == c])
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = _check_layout(X, "GroupScaler.transform", any_channels=True)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"GroupScaler.transform: X has {X.shape[1]} columns, fit saw "
                f"{self.n_features_in_}.")
        F, codes = X[:, :-_N_LM - 1].copy(), X[:, -1]
        for c in np.unique(codes):
            mean, scale = self.stats_.get(float(c), self.stats_[None])
            F[codes == c] = (F[codes == c] - mean) / scale
        return F


class FlipAugmentedClassifier(ClassifierMixin, BaseEstimator):
    """Train on the composite-layout samples and their mirror images.

    ``fit`` fits a clone of ``estimator`` on ``X`` stacked with
    :func:`flip_flow` ``(X)`` (labels and ``groups`` repeated: a mirrored sample
    belongs to the same subject, so a subject-grouped inner CV keeps both copies on
    the same side); with ``tta=True`` the class probabilities are the mean of those
    of ``X`` and of its mirror image.

    Parameters
    ----------
    estimator : classifier
        Works on the composite layout (e.g. a Pipeline starting with
        :class:`GroupScaler`); needs ``predict_proba`` when ``tta``.
    train_flip : bool, default=True
        Add the mirrored samples to the training set.
    tta : bool, default=True
        Test-time augmentation: average the probabilities of a sample and its
        mirror image.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone.
    classes_ : ndarray of shape (n_classes,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skmer.recipes import FlipAugmentedClassifier, make_composite_X
    >>> X = make_composite_X(np.random.default_rng(0).random((4, 3, 28, 28)))
    >>> clf = FlipAugmentedClassifier(DummyClassifier()).fit(X, [0, 1, 1, 1])
    >>> clf.predict(X).tolist()
    [1, 1, 1, 1]
    """

    def __init__(self, estimator, *, train_flip=True, tta=True):
        self.estimator = estimator
        self.train_flip = train_flip
        self.tta = tta

    def fit(self, X, y, groups=None, **fit_params):
        """Fit on ``X`` and (if ``train_flip``) its mirror image.

        ``groups`` (training subjects) are repeated for the mirrored copies and
        passed on to ``estimator.fit`` when it takes them.
        """
        for name in ("train_flip", "tta"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be a bool; got "
                                 f"{getattr(self, name)!r}.")
        X = _check_layout(X, "FlipAugmentedClassifier.fit")
        y = np.asarray(y)
        if self.train_flip:
            X = np.vstack([X, flip_flow(X)])
            y = np.concatenate([y, y])
            if groups is not None:
                groups = np.concatenate([np.asarray(groups), np.asarray(groups)])
        if groups is not None:
            from skmer.model_selection import _groups_routes

            for route in _groups_routes(self.estimator):
                fit_params[route] = groups
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X):
        check_is_fitted(self)
        X = _check_layout(X, "FlipAugmentedClassifier.predict_proba")
        p = self.estimator_.predict_proba(X)
        if self.tta:
            p = (p + self.estimator_.predict_proba(flip_flow(X))) / 2
        return p

    def predict(self, X):
        check_is_fitted(self)
        if not self.tta and not hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict(
                _check_layout(X, "FlipAugmentedClassifier.predict"))
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


_MEMBERS = ("lr", "svm", "lr_mag")


def megc2019_composite(*, models=_MEMBERS, flip=False, align=False, per_corpus=False,
                       lr_C=0.01, svm_C=10.0, grid=None, inner_cv=3,
                       random_state=None):
    """The MEGC2019-composite recipe: a soft vote of three classifiers on the
    standardised flow pixels.

    Members (``models``):

    * ``"lr"``: class-balanced logistic regression (``C=lr_C``) on the
      standardised flow pixels;
    * ``"svm"``: class-balanced RBF SVM (``C=svm_C``) on the same pixels, with
      sigmoid probabilities fitted on 3 internal folds of the training set;
    * ``"lr_mag"``: the logistic regression on the flow re-centred on its
      per-image median with the flow magnitude added as a fourth channel
      (:class:`FlowRecentre` ``(magnitude=True)``), standardised.

    With several members their class probabilities are averaged (soft voting,
    equal weights).  Input: the composite layout of :func:`make_composite_X`.
    Every step is fitted on the training samples only; ``docs/composite_sota.md``
    gives the measured ablations and the full search log (how this default was
    reached, including what was looked at on the LOSO result).

    Parameters
    ----------
    models : sequence of {"lr", "svm", "lr_mag"}, default=("lr", "svm", "lr_mag")
        The members of the vote (one member: that classifier alone).
    flip : bool, default=False
        Train on the mirror images too and average the probabilities of a test
        sample and its mirror (:class:`FlipAugmentedClassifier`).
    align : bool, default=False
        Warp the flow so the apex landmarks match the training mean shape
        (:class:`FlowAligner`) before everything else.
    per_corpus : bool, default=False
        Standardise per corpus (statistics of the training samples of each corpus)
        instead of globally.
    lr_C, svm_C : float, default=0.01, 10.0
        Regularisation of the logistic regressions and of the SVM.
    grid : dict or None, default=None
        If given, a parameter grid over the voting Pipeline's parameters (with a
        single member, e.g. ``{"clf__C": [0.003, 0.01, 0.03]}``) selected by a
        :class:`~sklearn.model_selection.GridSearchCV` with
        :class:`~sklearn.model_selection.GroupKFold` over the *training*
        subjects, scored by macro F1 (the UF1);
        :func:`~skmer.model_selection.evaluate_loso` routes the training groups
        to it.
    inner_cv : int or cross-validation splitter, default=3
        Folds of the inner subject-grouped CV (used with ``grid``).
    random_state : int or None, default=None
        Seed of the SVM (the recipe is deterministic given the data).

    Returns
    -------
    estimator : Pipeline, GridSearchCV or FlipAugmentedClassifier
        Unfitted; ``fit(X, y, groups=...)`` takes the training subjects when
        ``grid`` is set (``evaluate_loso`` passes them automatically).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import make_composite_X, megc2019_composite
    >>> rng = np.random.default_rng(0)
    >>> X = make_composite_X(rng.random((30, 3, 28, 28)), corpora=["smic"] * 30)
    >>> y = np.arange(30) % 3
    >>> megc2019_composite(random_state=0).fit(X, y).predict(X[:4]).shape
    (4,)
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    models = tuple(models)
    if not models or any(m not in _MEMBERS for m in models) or len(
            set(models)) != len(models):
        raise ValueError(
            f"models must be a non-empty sequence of distinct {_MEMBERS}; got "
            f"{models!r}.")

    def lr():
        return LogisticRegression(C=lr_C, class_weight="balanced", max_iter=2000)

    def member(name):
        if name == "svm":
            clf = CalibratedClassifierCV(
                SVC(C=svm_C, class_weight="balanced", random_state=random_state),
                method="sigmoid", cv=3, ensemble=False)
        else:
            clf = lr()
        steps = [("recentre", FlowRecentre(magnitude=True))] if (
            name == "lr_mag") else []
        return Pipeline(steps + [("scale", GroupScaler(per_corpus=per_corpus)),
                                 ("clf", clf)])

    if len(models) == 1:
        est = member(models[0])
    else:
        est = Pipeline([("vote", VotingClassifier(
            [(m, member(m)) for m in models], voting="soft"))])
    if align:
        est = Pipeline([("align", FlowAligner()), *est.steps])
    if grid is not None:
        cv = GroupKFold(inner_cv) if isinstance(inner_cv, Integral) else inner_cv
        est = GridSearchCV(est, grid, cv=cv, scoring="f1_macro")
    if flip:
        est = FlipAugmentedClassifier(est)
    return est

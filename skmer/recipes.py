"""Fixed, honest recipes for standard benchmarks.

:func:`megc2019_composite` is the recipe for the MEGC2019 composite (442 onset-apex
flow images of CASME II, SAMM and SMIC, 68 subjects, 3 classes) evaluated with
:func:`skmer.model_selection.evaluate_loso`.  Every choice in it is either fixed a
priori or selected by a subject-grouped inner cross-validation on the training
subjects of each fold.

The recipe works on a flat feature matrix ``X`` of shape ``(n_samples, 2488)``, the
*composite layout* built by :func:`make_composite_X`:

* columns ``0 .. 2351``: the flow image ``(3, 28, 28)`` flattened in C order,
  channels (u, v, optical strain) scaled to [0, 1] (as
  :func:`skmer.datasets.load_flow_images` returns them);
* columns ``2352 .. 2487``: the 68 dlib landmarks ``(x, y)`` of the apex face, in
  the flow image's pixel coordinates (the apex crops are 224x224 crops of the same
  face, so landmarks scale by 28 / 224), NaN where no face was found.

The corpus of each sample is not a column of ``X``: it is sample metadata, passed as
``datasets=`` (as ``groups`` are) to the estimators that use it (:class:`GroupScaler`
with ``per_corpus=True``).  It travels through scikit-learn's metadata routing:
with ``sklearn.set_config(enable_metadata_routing=True)`` (or inside a
``sklearn.config_context``), ``evaluate_loso(recipe, X, y, groups,
datasets=corpora)`` passes the training corpora to ``fit`` and the test corpora to
``predict`` / ``predict_proba``; :class:`GroupScaler` requests them by default.
With routing off (scikit-learn's default) no corpus reaches the recipe and every
sample is standardised with the statistics of all training samples: the default
recipe (``per_corpus=False``) does not use the corpus at all, so its results do not
depend on the routing setting.

Landmarks are computed per image without labels (nothing is learnt), so they can be
computed once for all samples outside the cross-validation.
"""

from __future__ import annotations

import logging
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    OneToOneFeatureMixin,
    TransformerMixin,
    clone,
)
from sklearn.ensemble import VotingClassifier
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array

from skmer.utils._compat import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "FlowAligner",
    "FlowRecentre",
    "FlipAugmentedClassifier",
    "GroupScaler",
    "SeedEnsembleClassifier",
    "composite_layout",
    "compute_apex_landmarks",
    "flip_flow",
    "flow_columns",
    "flow_images",
    "make_composite_X",
    "megc2019_composite",
    "megc2019_ensemble",
    "member_seeds",
]

logger = logging.getLogger(__name__)


def _routing_enabled():
    import sklearn

    return bool(sklearn.get_config().get("enable_metadata_routing", False))

_SIDE = 28
_N_FLOW = 3 * _SIDE * _SIDE
_N_LM = 136
_N_COLS = _N_FLOW + _N_LM
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
    """Return the column slices of the composite layout: ``(flow, landmarks)``.

    Parameters
    ----------
    side : int, default=28
        Side of the square flow images.

    Returns
    -------
    flow : slice
        The ``3 * side * side`` flow columns.
    landmarks : slice
        The 136 landmark columns.

    Examples
    --------
    >>> from skmer.recipes import composite_layout
    >>> composite_layout()
    (slice(0, 2352, None), slice(2352, 2488, None))
    """
    n_flow = 3 * side * side
    return slice(0, n_flow), slice(n_flow, n_flow + _N_LM)


def flow_columns(X):
    """Return the flow columns of composite-layout samples (the landmarks dropped).

    Works on any number of flow channels (e.g. after :class:`FlowRecentre` with
    ``magnitude=True``): the last 136 columns, the landmarks, are dropped.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_flow_columns + 136)
        Composite-layout samples.

    Returns
    -------
    F : ndarray of shape (n_samples, n_flow_columns)
        A view of the flow columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import flow_columns, make_composite_X
    >>> flow_columns(make_composite_X(np.zeros((2, 3, 28, 28)))).shape
    (2, 2352)
    """
    X = np.asarray(X)
    return X[:, :X.shape[1] - _N_LM]


def _check_layout(X, where, side=_SIDE, any_channels=False):
    X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
    n_cols = 3 * side * side + _N_LM
    n_ch = (X.shape[1] - _N_LM) / (side * side)
    if any_channels and n_ch >= 1 and n_ch == int(n_ch):
        n_cols = X.shape[1]
    if X.shape[1] != n_cols:
        raise ValueError(
            f"{where}: X must have the composite layout of {n_cols} columns (flow "
            f"3x{side}x{side} and 136 landmark coordinates; see "
            f"skmer.recipes.make_composite_X); got {X.shape[1]} columns.")
    flow = X[:, :n_cols - _N_LM]
    if not np.isfinite(flow).all():
        raise ValueError(f"{where}: the flow columns of X contain NaN or infinity.")
    return X


def _check_datasets(datasets, n, where):
    datasets = np.asarray(datasets, dtype=object)
    if datasets.shape != (n,):
        raise ValueError(
            f"{where}: datasets must have shape ({n},) (one corpus per sample); got "
            f"{datasets.shape}.")
    return np.array([str(d) for d in datasets], dtype=object)


def _repeat_samples(value, n):
    """Repeat sample-aligned metadata (length ``n``) for the mirrored copies."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") \
            or len(value) != n:
        return value
    return np.concatenate([np.asarray(value), np.asarray(value)])


def compute_apex_landmarks(images, *, n_jobs=None):
    """Return the dlib 68-point landmarks of each apex face (NaN where none is found).

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


def make_composite_X(flow, landmarks=None, *, landmark_scale=28 / 224):
    """Build the composite-layout feature matrix of :func:`megc2019_composite`.

    Parameters
    ----------
    flow : ndarray of shape (n_samples, 3, 28, 28)
        Flow images, channels (u, v, strain) in [0, 1].
    landmarks : ndarray of shape (n_samples, 68, 2), default=None
        Apex-face landmarks in apex-image pixels (NaN rows where missing); None
        fills NaN (the aligner then leaves every image as it is).
    landmark_scale : float, default=28/224
        Factor from apex-image pixels to flow pixels (pixel centres scale about
        -0.5).

    Returns
    -------
    X : ndarray of shape (n_samples, 2488)
        The flow columns, then the landmark columns.  The corpus of each sample is
        not a column: pass it as ``datasets=`` metadata (see the module
        docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import make_composite_X
    >>> make_composite_X(np.zeros((2, 3, 28, 28))).shape
    (2, 2488)
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
    return np.hstack([flow.reshape(n, -1), lm.reshape(n, -1)])


def flip_flow(X, side=_SIDE):
    """Mirror composite-layout samples left-right.

    The flow images are flipped horizontally and the horizontal flow changes sign:
    ``u`` is min-max scaled per image, so the scaled ``-u`` is ``1 - u``; ``v`` and
    the strain are only flipped.  Landmarks are mirrored (``x -> side - 1 - x``) and
    renumbered (the left eye becomes the right eye).

    Parameters
    ----------
    X : array-like of shape (n_samples, 3 * side * side + 136)
        Composite-layout samples.
    side : int, default=28
        Side of the square flow images.

    Returns
    -------
    X_flipped : ndarray of shape (n_samples, 3 * side * side + 136)
        The mirror images, in the same layout.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import flip_flow, make_composite_X
    >>> X = make_composite_X(np.random.default_rng(0).random((2, 3, 28, 28)))
    >>> np.allclose(flip_flow(flip_flow(X)), X, equal_nan=True)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    fs, ls = composite_layout(side)
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
    themselves are not rotated (the rotations are of a few degrees).  The landmark
    columns are passed through, mapped onto the template frame.

    Parameters
    ----------
    points : {"all", "inner"}, default="inner"
        Landmarks used to estimate the similarity: all 68, or the 51 inner points
        (brows, eyes, nose, mouth: the jaw line is the least reliable).

    Attributes
    ----------
    template_ : ndarray of shape (68, 2)
        The symmetric mean shape, in flow pixels (NaN when no training sample has
        landmarks: ``transform`` then returns its input unchanged).
    n_features_in_ : int
        Number of columns seen during :term:`fit` (2488).

    See Also
    --------
    make_composite_X : Builds the input layout.
    flip_flow : The mirror image the template is symmetric under.

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
        """Learn the symmetric mean landmark shape of the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples (see :func:`make_composite_X`).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted aligner.
        """
        X = _check_layout(X, "FlowAligner.fit")
        _, ls = composite_layout()
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
        """Warp every sample's flow onto the template.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples.

        Returns
        -------
        X_aligned : ndarray of shape (n_samples, 2488)
            The warped flow and the mapped landmarks (unchanged for samples
            without landmarks).
        """
        import cv2

        check_is_fitted(self)
        X = _check_layout(X, "FlowAligner.transform")
        out = X.copy()
        if not np.isfinite(self.template_).all():
            return out
        fs, ls = composite_layout()
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
    """Undo the per-image min-max scaling of the flow by centring it on its median.

    The released flow images are min-max scaled per image, so the value of *no
    motion* differs from image to image.  Most of the face does not move between
    onset and apex, so the median of ``u`` (of ``v``) over the image is the zero
    level; ``transform`` subtracts it and divides ``u`` and ``v`` by the same
    per-image scale (the mean magnitude of the centred flow) so their ratio, the
    direction, is kept.  With ``magnitude=True`` a fourth block of columns, the
    magnitude of the centred, scaled flow, is inserted after the strain.  Per
    sample and label-free: nothing is learnt in ``fit``.  The landmark columns
    pass through.

    Parameters
    ----------
    magnitude : bool, default=False
        Append the flow magnitude as a fourth channel (the output then has
        ``28 * 28`` more columns, before the landmark columns).

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen during :term:`fit` (2488).

    See Also
    --------
    make_composite_X : Builds the input layout.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import FlowRecentre, make_composite_X
    >>> X = make_composite_X(np.random.default_rng(0).random((2, 3, 28, 28)))
    >>> Z = FlowRecentre().fit_transform(X)
    >>> Z.shape, bool(np.allclose(np.median(Z[:, :784], axis=1), 0))
    ((2, 2488), True)
    """

    _parameter_constraints = {"magnitude": ["boolean"]}

    def __init__(self, magnitude=False):
        self.magnitude = magnitude

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input layout (nothing is learnt).

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples (see :func:`make_composite_X`).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = _check_layout(X, "FlowRecentre.fit")
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """Centre and scale ``u`` and ``v`` of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples.

        Returns
        -------
        X_recentred : ndarray of shape (n_samples, 2488) or (n_samples, 3272)
            Centred ``u``, ``v``, the strain unchanged, the magnitude block when
            ``magnitude=True``, then the landmark columns.
        """
        check_is_fitted(self)
        X = _check_layout(X, "FlowRecentre.transform")
        fs, ls = composite_layout()
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
        return np.hstack(blocks + [X[:, ls]])


class GroupScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features per corpus, with statistics of the training samples.

    ``fit`` learns the mean and standard deviation of every column over all
    training samples and, with ``per_corpus=True``, over the training samples of
    each corpus in ``datasets`` (corpora with at least two samples); ``transform``
    standardises each sample with its corpus's statistics (the overall ones for a
    corpus absent from training).  Nothing is estimated from the samples being
    transformed: the corpus of a test subject is metadata, not a label.

    The corpus comes as sample metadata, ``datasets``, never as a column of ``X``.
    ``fit`` and ``transform`` request it from scikit-learn's metadata routing by
    default, so with ``sklearn.set_config(enable_metadata_routing=True)`` a
    Pipeline (or :func:`~skmer.model_selection.evaluate_loso`) passes it on.
    Without ``datasets`` all samples form one corpus (the overall statistics).

    Parameters
    ----------
    per_corpus : bool, default=True
        False standardises every sample with the overall statistics (a plain
        :class:`~sklearn.preprocessing.StandardScaler`; ``datasets`` is ignored).

    Attributes
    ----------
    stats_ : dict
        ``{corpus: (mean, scale)}``, each an ndarray of shape (n_features,); key
        ``None`` holds the overall statistics.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during :term:`fit`, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same without corpora.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import GroupScaler
    >>> X = np.random.default_rng(0).random((6, 3))
    >>> corpora = ["samm", "smic"] * 3
    >>> Z = GroupScaler().fit_transform(X, datasets=corpora)
    >>> Z.shape, bool(abs(Z[::2].mean()) < 1e-12)
    ((6, 3), True)
    """

    __metadata_request__fit = {"datasets": True}
    __metadata_request__transform = {"datasets": True}

    _parameter_constraints = {"per_corpus": ["boolean"]}

    def __init__(self, per_corpus=True):
        self.per_corpus = per_corpus

    @staticmethod
    def _moments(F):
        scale = F.std(0)
        scale[scale < 1e-12] = 1.0
        return F.mean(0), scale

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, datasets=None):
        """Learn the overall and per-corpus means and standard deviations.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : None
            Ignored.
        datasets : array-like of str of shape (n_samples,), default=None
            Corpus of every training sample; None: one corpus.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        X = validate_data(self, X, dtype=np.float64)
        stats = {None: self._moments(X)}
        if self.per_corpus and datasets is not None:
            datasets = _check_datasets(datasets, len(X), "GroupScaler.fit")
            for c in np.unique(datasets):
                if (datasets == c).sum() >= 2:
                    stats[c] = self._moments(X[datasets == c])
        self.stats_ = stats
        return self

    def transform(self, X, datasets=None):
        """Standardise every sample with the statistics of its corpus.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to standardise.
        datasets : array-like of str of shape (n_samples,), default=None
            Corpus of every sample.  Required when ``fit`` learnt per-corpus
            statistics.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features)
            The standardised samples.

        Raises
        ------
        ValueError
            ``datasets`` is None but ``fit`` learnt per-corpus statistics (with
            metadata routing off, a Pipeline cannot pass it on).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False, copy=True)
        if datasets is None:
            if len(self.stats_) > 1:
                raise ValueError(
                    "GroupScaler.transform: fit learnt per-corpus statistics "
                    f"({sorted(k for k in self.stats_ if k is not None)}) but "
                    "transform got no datasets; pass datasets= (with "
                    "sklearn.set_config(enable_metadata_routing=True) a Pipeline "
                    "routes it).")
            mean, scale = self.stats_[None]
            return (X - mean) / scale
        datasets = _check_datasets(datasets, len(X), "GroupScaler.transform")
        for c in np.unique(datasets):
            mean, scale = self.stats_.get(c, self.stats_[None])
            X[datasets == c] = (X[datasets == c] - mean) / scale
        return X

    def fit_transform(self, X, y=None, datasets=None):
        """Fit, then standardise the training samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training samples.
        y : None
            Ignored.
        datasets : array-like of str of shape (n_samples,), default=None
            Corpus of every training sample; None: one corpus.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features)
            The standardised training samples.
        """
        return self.fit(X, y, datasets=datasets).transform(X, datasets=datasets)


class FlipAugmentedClassifier(ClassifierMixin, BaseEstimator):
    """Train on the composite-layout samples and their mirror images.

    ``fit`` fits a clone of ``estimator`` on ``X`` stacked with
    :func:`flip_flow` ``(X)`` (labels, ``groups`` and every other sample-aligned
    metadata, such as ``datasets``, repeated: a mirrored sample belongs to the same
    subject and corpus, so a subject-grouped inner CV keeps both copies on the same
    side); with ``tta=True`` the class probabilities are the mean of those of ``X``
    and of its mirror image.

    Metadata (``groups``, ``datasets``) reach ``estimator`` through
    scikit-learn's metadata routing when it is enabled.  With routing off, the
    training ``groups`` go to ``estimator.fit`` as ``groups`` (or
    ``<step>__groups`` for the Pipeline steps that take them) and other fit
    parameters are passed on unchanged.

    Parameters
    ----------
    estimator : classifier
        Works on the composite layout (e.g. a Pipeline starting with
        :class:`FlowRecentre` or :func:`flow_columns`); needs ``predict_proba``
        when ``tta``.
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
        The class labels.
    n_features_in_ : int
        Number of columns seen during :term:`fit` (2488).

    See Also
    --------
    flip_flow : The mirror image.

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

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "train_flip": ["boolean"],
        "tta": ["boolean"],
    }

    def __init__(self, estimator, *, train_flip=True, tta=True):
        self.estimator = estimator
        self.train_flip = train_flip
        self.tta = tta

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, groups=None, **fit_params):
        """Fit on ``X`` and (if ``train_flip``) its mirror image.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples (see :func:`make_composite_X`).
        y : array-like of shape (n_samples,)
            Labels.
        groups : array-like of shape (n_samples,), default=None
            Subject of every sample, for an inner subject-grouped CV of
            ``estimator``; repeated for the mirrored copies.
        **fit_params : dict
            Other metadata (e.g. ``datasets``) for ``estimator.fit``; sample-aligned
            ones are repeated for the mirrored copies.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        X = _check_layout(X, "FlipAugmentedClassifier.fit")
        y = np.asarray(y)
        n = len(X)
        if _routing_enabled():
            metadata = dict(fit_params)
            if groups is not None:
                metadata["groups"] = groups
            params = dict(process_routing(self, "fit", **metadata).estimator.fit)
        else:
            params = dict(fit_params)
            if groups is not None:
                from skmer.model_selection import _groups_routes

                routes = _groups_routes(self.estimator)
                params.update({route: groups for route in routes})
        if self.train_flip:
            X = np.vstack([X, flip_flow(X)])
            y = np.concatenate([y, y])
            params = {k: _repeat_samples(v, n) for k, v in params.items()}
        self.estimator_ = clone(self.estimator).fit(X, y, **params)
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def _method_params(self, method, params):
        """Metadata for ``estimator_`` (routed when routing is on)."""
        if _routing_enabled():
            return process_routing(self, method, **params).estimator
        if params:
            raise ValueError(
                f"FlipAugmentedClassifier.{method} got metadata "
                f"{sorted(params)}; passing metadata to predict needs "
                "sklearn.set_config(enable_metadata_routing=True).")
        return {"predict": {}, "predict_proba": {}}

    def _proba(self, X, params):
        p = self.estimator_.predict_proba(X, **params)
        if self.tta:
            p = (p + self.estimator_.predict_proba(flip_flow(X), **params)) / 2
        return p

    def predict_proba(self, X, **params):
        """Class probabilities (averaged with the mirror image's if ``tta``).

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples.
        **params : dict
            Metadata for ``estimator.predict_proba`` (e.g. ``datasets``), with
            metadata routing on.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = _check_layout(X, "FlipAugmentedClassifier.predict_proba")
        routed = self._method_params("predict_proba", params)
        return self._proba(X, routed["predict_proba"])

    def predict(self, X, **params):
        """Predict the class of every sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, 2488)
            Composite-layout samples.
        **params : dict
            Metadata for ``estimator`` (e.g. ``datasets``), with metadata routing
            on.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The class of highest (averaged) probability, or ``estimator.predict``
            when ``tta=False`` and it has no ``predict_proba``.
        """
        check_is_fitted(self)
        X = _check_layout(X, "FlipAugmentedClassifier.predict")
        routed = self._method_params("predict", params)
        if not self.tta and not hasattr(self.estimator_, "predict_proba"):
            return self.estimator_.predict(X, **routed["predict"])
        return self.classes_[np.argmax(self._proba(X, routed["predict_proba"]),
                                       axis=1)]

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            ``fit`` routes to ``estimator.fit``, ``predict_proba`` to
            ``estimator.predict_proba``, ``predict`` to both ``estimator.predict``
            and ``estimator.predict_proba``.
        """
        return MetadataRouter(owner=self).add(
            estimator=self.estimator,
            method_mapping=MethodMapping()
            .add(caller="fit", callee="fit")
            .add(caller="predict", callee="predict")
            .add(caller="predict", callee="predict_proba")
            .add(caller="predict_proba", callee="predict_proba"))


class _RoutedVotingClassifier(VotingClassifier):
    """A soft :class:`~sklearn.ensemble.VotingClassifier` that routes predict metadata.

    scikit-learn's voting classifier routes metadata to its members' ``fit`` only;
    this one also routes ``predict`` / ``predict_proba`` metadata (e.g. the
    ``datasets`` of :class:`GroupScaler`) to the members' ``predict_proba``.
    Without metadata it is scikit-learn's voting classifier, bit for bit.
    """

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            ``fit`` routes to every member's ``fit``, ``predict`` and
            ``predict_proba`` to every member's ``predict_proba``.
        """
        router = MetadataRouter(owner=self)
        for name, est in self.estimators:
            router.add(**{name: est}, method_mapping=MethodMapping()
                       .add(caller="fit", callee="fit")
                       .add(caller="predict", callee="predict_proba")
                       .add(caller="predict_proba", callee="predict_proba"))
        return router

    def _routed_probas(self, X, method, params):
        routed = process_routing(self, method, **params)
        return np.asarray([
            self.named_estimators_[name].predict_proba(
                X, **routed[name].predict_proba)
            for name, est in self.estimators if est != "drop"])

    @available_if(VotingClassifier._check_voting)
    def predict_proba(self, X, **params):
        """Average the members' class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.
        **params : dict
            Metadata routed to the members' ``predict_proba`` (routing on).

        Returns
        -------
        avg : ndarray of shape (n_samples, n_classes)
            Weighted average probability of every class.
        """
        check_is_fitted(self)
        if not params:
            return super().predict_proba(X)
        probas = self._routed_probas(X, "predict_proba", params)
        return np.average(probas, axis=0, weights=self._weights_not_none)

    def predict(self, X, **params):
        """Predict class labels (the class of highest average probability).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.
        **params : dict
            Metadata routed to the members' ``predict_proba`` (routing on; soft
            voting only).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        if not params:
            return super().predict(X)
        if self.voting != "soft":
            raise ValueError("Metadata at predict time needs voting='soft'.")
        probas = self._routed_probas(X, "predict", params)
        avg = np.average(probas, axis=0, weights=self._weights_not_none)
        return self.le_.inverse_transform(np.argmax(avg, axis=1))


_MEMBERS = ("lr", "svm", "lr_mag")


def megc2019_composite(*, models=_MEMBERS, flip=False, align=False, per_corpus=False,
                       lr_C=0.01, svm_C=10.0, grid=None, inner_cv=3,
                       random_state=None):
    """Build the MEGC2019-composite recipe: a soft vote on standardised flow pixels.

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
        instead of globally.  The corpora are sample metadata, ``datasets``, that
        reach the :class:`GroupScaler` steps through scikit-learn's metadata
        routing only: enable it (``sklearn.set_config(enable_metadata_routing=True)``
        or a ``sklearn.config_context``) and pass ``datasets=`` to ``fit`` and
        ``predict`` / ``predict_proba``, or to
        :func:`~skmer.model_selection.evaluate_loso`.  With routing off, no corpus
        arrives and every sample gets the overall statistics (a warning says so
        when the recipe is built).
    lr_C, svm_C : float, default=0.01, 10.0
        Regularisation of the logistic regressions and of the SVM.
    grid : dict or None, default=None
        If given, a parameter grid over the voting Pipeline's parameters (with a
        single member, e.g. ``{"clf__C": [0.003, 0.01, 0.03]}``) selected by a
        :class:`~sklearn.model_selection.GridSearchCV` with
        :class:`~sklearn.model_selection.GroupKFold` over the *training*
        subjects, scored by macro F1 (the UF1);
        :func:`~skmer.model_selection.evaluate_loso` routes the training groups
        to it.  Not with ``per_corpus=True`` (the grid search's inner scoring
        passes no corpora to ``predict``).
    inner_cv : int or cross-validation splitter, default=3
        Folds of the inner subject-grouped CV (used with ``grid``).
    random_state : int or None, default=None
        Seed of the SVM (the recipe is deterministic given the data).

    Returns
    -------
    estimator : Pipeline, GridSearchCV or FlipAugmentedClassifier
        Unfitted; ``fit(X, y, groups=...)`` takes the training subjects when
        ``grid`` is set (``evaluate_loso`` passes them automatically).

    Raises
    ------
    ValueError
        An unknown or repeated member, or ``per_corpus=True`` with ``grid``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import make_composite_X, megc2019_composite
    >>> rng = np.random.default_rng(0)
    >>> X = make_composite_X(rng.random((30, 3, 28, 28)))
    >>> y = np.arange(30) % 3
    >>> megc2019_composite(random_state=0).fit(X, y).predict(X[:4]).shape
    (4,)

    Per-corpus standardisation, the corpora passed as metadata:

    >>> import sklearn
    >>> corpora = np.array(["casme2", "samm", "smic"] * 10)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     est = megc2019_composite(per_corpus=True, random_state=0)
    ...     est = est.fit(X, y, datasets=corpora)
    ...     est.predict_proba(X[:4], datasets=corpora[:4]).shape
    (4, 3)
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import SVC

    models = tuple(models)
    if not models or any(m not in _MEMBERS for m in models) or len(
            set(models)) != len(models):
        raise ValueError(
            f"models must be a non-empty sequence of distinct {_MEMBERS}; got "
            f"{models!r}.")
    if per_corpus and grid is not None:
        raise ValueError(
            "per_corpus=True cannot be combined with grid: GridSearchCV's inner "
            "scoring calls predict without the corpora (datasets).")
    if per_corpus and not _routing_enabled():
        warnings.warn(
            "megc2019_composite(per_corpus=True) needs scikit-learn's metadata "
            "routing (sklearn.set_config(enable_metadata_routing=True)) to receive "
            "the corpora (datasets=); with routing off every sample is "
            "standardised with the overall statistics.", UserWarning, stacklevel=2)

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
        return Pipeline(steps + [("flow", FunctionTransformer(flow_columns)),
                                 ("scale", GroupScaler(per_corpus=per_corpus)),
                                 ("clf", clf)])

    if len(models) == 1:
        est = member(models[0])
    else:
        est = Pipeline([("vote", _RoutedVotingClassifier(
            [(m, member(m)) for m in models], voting="soft"))])
    if align:
        est = Pipeline([("align", FlowAligner()), *est.steps])
    if grid is not None:
        cv = GroupKFold(inner_cv) if isinstance(inner_cv, Integral) else inner_cv
        est = GridSearchCV(est, grid, cv=cv, scoring="f1_macro")
    if flip:
        est = FlipAugmentedClassifier(est)
    return est


# ------------------------------------------------------------------ ensembles
def flow_images(X):
    """Return the flow images of composite-layout samples, ``(n, 3, 28, 28)`` float32.

    The input of the flow networks (e.g. STSTNet) inside a composite recipe: the
    flow columns of :func:`make_composite_X`, reshaped, as C-contiguous float32.
    The images :func:`skmer.datasets.load_flow_images` returns come back exactly
    (they are float32 values, which float64 holds without rounding).

    Parameters
    ----------
    X : array-like of shape (n_samples, 2488)
        Composite-layout samples.

    Returns
    -------
    images : ndarray of shape (n_samples, 3, 28, 28), float32
        The flow images.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import flow_images, make_composite_X
    >>> flow = np.random.default_rng(0).random((2, 3, 28, 28)).astype(np.float32)
    >>> bool(np.array_equal(flow_images(make_composite_X(flow)), flow))
    True
    """
    X = _check_layout(X, "flow_images")
    F = flow_columns(X)
    return np.ascontiguousarray(F.reshape(len(F), 3, _SIDE, _SIDE), dtype=np.float32)


def member_seeds(random_state, n_seeds):
    """Return the ``random_state`` of each of ``n_seeds`` ensemble members.

    Derived with :class:`numpy.random.SeedSequence` from ``(random_state, i)``, so
    members get independent, reproducible streams, and member ``i`` keeps its seed
    whatever ``n_seeds``.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState or None
        Seed of the ensemble (None: fresh entropy, not reproducible).
    n_seeds : int
        Number of members.

    Returns
    -------
    seeds : list of int
        One seed in ``[0, 2**31 - 1)`` per member.

    Examples
    --------
    >>> from skmer.recipes import member_seeds
    >>> member_seeds(0, 3) == member_seeds(0, 5)[:3]
    True
    """
    from sklearn.utils import check_random_state

    if random_state is None or not isinstance(random_state, Integral):
        random_state = int(check_random_state(random_state).randint(2**31 - 1))
    return [int(np.random.SeedSequence([int(random_state), i]).generate_state(1)[0]
                % (2**31 - 1)) for i in range(int(n_seeds))]


class SeedEnsembleClassifier(ClassifierMixin, BaseEstimator):
    """A deep ensemble: copies of one classifier with different seeds, soft-voted.

    ``fit`` trains ``n_seeds`` clones of ``estimator``, clone ``i`` with
    ``random_state=member_seeds(random_state, n_seeds)[i]``; ``predict_proba``
    averages their class probabilities with equal weights (Lakshminarayanan et
    al. 2017). For a network trained from random initial weights this is the
    cheapest ensemble there is: the members differ only in their initialisation and
    their mini-batch order.

    Parameters
    ----------
    estimator : classifier
        Unfitted; needs ``fit``, ``predict_proba`` and a ``random_state``
        parameter.
    n_seeds : int, default=5
        Number of members.
    random_state : int, RandomState instance or None, default=None
        Seed of the ensemble, from which the members' seeds derive.
        :func:`~skmer.model_selection.evaluate_loso` sets it per fold; the members'
        own ``random_state`` is always replaced by theirs.

    Attributes
    ----------
    estimators_ : list of classifiers
        The fitted members.
    seeds_ : list of int
        Their ``random_state``.
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the ``predict_proba`` columns.
    n_features_in_ : int
        Number of features seen in ``fit``, when the estimator records it.

    See Also
    --------
    megc2019_ensemble : the composite recipe built from such ensembles.

    References
    ----------
    .. [1] B. Lakshminarayanan, A. Pritzel and C. Blundell, "Simple and scalable
       predictive uncertainty estimation using deep ensembles", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skmer.recipes import SeedEnsembleClassifier
    >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0)
    >>> ens = SeedEnsembleClassifier(SGDClassifier(loss="log_loss"), n_seeds=3,
    ...                              random_state=0).fit(X, y)
    >>> len(set(ens.seeds_)), ens.predict_proba(X[:2]).shape
    (3, (2, 2))
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, n_seeds=5, random_state=None):
        self.estimator = estimator
        self.n_seeds = n_seeds
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit ``n_seeds`` clones of the estimator, each with its own seed.

        Parameters
        ----------
        X : array-like
            Training samples, in the format the estimator takes.
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        if "random_state" not in self.estimator.get_params():
            raise ValueError(
                f"SeedEnsembleClassifier needs an estimator with a random_state "
                f"parameter; {type(self.estimator).__name__} has none.")
        self.seeds_ = member_seeds(self.random_state, self.n_seeds)
        self.estimators_ = [clone(self.estimator).set_params(random_state=s).fit(X, y)
                            for s in self.seeds_]
        first = self.estimators_[0]
        self.classes_ = np.asarray(first.classes_)
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_
        return self

    def predict_proba(self, X):
        """Average the members' class probabilities.

        Parameters
        ----------
        X : array-like
            Samples, in the format the estimator takes.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Mean of the members' probabilities.
        """
        check_is_fitted(self)
        return np.mean([e.predict_proba(X) for e in self.estimators_], axis=0)

    def predict(self, X):
        """Predict the class of highest mean probability.

        Parameters
        ----------
        X : array-like
            Samples, in the format the estimator takes.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        """Tags: a classifier whose input is that of its estimator."""
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        return tags


def megc2019_ensemble(networks, *, n_seeds=5, linear=True, weights=None,
                      random_state=None):
    """Build an ensemble recipe for the composite: seed-ensembled networks + the recipe.

    A soft vote, with equal weights by default, of:

    * for each network of ``networks``: a :class:`SeedEnsembleClassifier` of
      ``n_seeds`` copies, fed the flow images (:func:`flow_images`);
    * with ``linear=True``: :func:`megc2019_composite` (the linear recipe), one
      vote.

    skmer.recipes does not import the networks (they live in ``skmer.models``,
    behind the torch wall): pass them, e.g.
    ``megc2019_ensemble({"ststnet": STSTNetClassifier()})``; ``skmer evaluate
    --recipe megc2019-ensemble`` builds them for you. ``benchmarks/
    composite_ensemble.py`` scores the same ensembles by running each member
    through :func:`~skmer.model_selection.evaluate_loso` and voting their
    out-of-fold probabilities (:meth:`~skmer.model_selection.LOSOReport.soft_vote`),
    which lets members be cached and reused; the members' seeds then come from
    :func:`~skmer.model_selection.fold_seed` rather than :func:`member_seeds`, so
    the numbers are draws of the same ensemble, not the same draws.

    Parameters
    ----------
    networks : mapping of str to classifier
        Unfitted classifiers of ``(n, 3, 28, 28)`` flow images with a
        ``random_state`` parameter; their keys name the votes.
    n_seeds : int, default=5
        Seeds per network.
    linear : bool, default=True
        Add the linear recipe as one vote.
    weights : sequence of float or None, default=None
        Weight of each vote (networks in the order given, then the linear recipe);
        None: equal weights. Fix them before looking at any LOSO score.
    random_state : int or None, default=None
        Seed of the members (``evaluate_loso`` sets it per fold).

    Returns
    -------
    estimator : Pipeline
        Unfitted; input: the composite layout of :func:`make_composite_X`.

    Raises
    ------
    ValueError
        No vote at all, or a vote named ``"linear"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmer.recipes import make_composite_X, megc2019_ensemble
    >>> rng = np.random.default_rng(0)
    >>> X = make_composite_X(rng.random((30, 3, 28, 28)))
    >>> y = np.arange(30) % 3
    >>> est = megc2019_ensemble({}, random_state=0)   # the linear recipe alone
    >>> est.fit(X, y).predict_proba(X[:2]).shape
    (2, 3)
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    networks = dict(networks)
    if "linear" in networks:
        raise ValueError("'linear' names the linear recipe's vote; rename the "
                         "network.")
    votes = [(name, Pipeline([
        ("images", FunctionTransformer(flow_images)),
        ("seeds", SeedEnsembleClassifier(net, n_seeds=n_seeds,
                                         random_state=random_state))]))
        for name, net in networks.items()]
    if linear:
        votes.append(("linear", megc2019_composite(random_state=random_state)))
    if not votes:
        raise ValueError("megc2019_ensemble needs at least one vote: give networks "
                         "or keep linear=True.")
    return Pipeline([("vote", _RoutedVotingClassifier(votes, voting="soft",
                                                      weights=weights))])

"""Protocol guards and behaviour of skmer.recipes (the MEGC2019-composite recipe)."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

from skmer.model_selection import evaluate_loso
from skmer.recipes import (
    FlipAugmentedClassifier,
    FlowAligner,
    FlowRecentre,
    GroupScaler,
    composite_layout,
    flip_flow,
    make_composite_X,
    megc2019_composite,
)

FIT_LOG = []  # rows (as bytes) every spy fit received, appended across clones
SPLIT_LOG = []  # groups every inner CV split received


class SpyEstimator(ClassifierMixin, BaseEstimator):
    """Records the raw rows its ``fit`` receives, then fits the wrapped recipe."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, groups=None):
        FIT_LOG.append({bytes(np.asarray(r, np.float64)) for r in X})
        kw = {} if groups is None else {"groups": groups}
        self.estimator_ = clone(self.estimator).fit(X, y, **kw)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


class SpyGroupKFold(GroupKFold):
    def split(self, X, y=None, groups=None):
        SPLIT_LOG.append(np.asarray(groups).copy())
        return super().split(X, y, groups)


def _data(n_subjects=5, per_subject=6, seed=0):
    rng = np.random.default_rng(seed)
    n = n_subjects * per_subject
    y = np.tile(np.arange(3), n // 3 + 1)[:n]
    flow = rng.random((n, 3, 28, 28)) * 0.5
    flow[:, 1, 10:18, 10:18] += 0.3 * y[:, None, None]  # v: flip-invariant signal
    base = np.array([[x, 8 + 0.1 * x] for x in np.linspace(20, 200, 68)])
    lm = base[None] + rng.normal(0, 2, (n, 68, 2))
    groups = np.repeat([f"d/s{i}" for i in range(n_subjects)], per_subject)
    return make_composite_X(flow, lm), y, groups


def _corpora(n):
    return np.array(["casme2", "samm", "smic"])[np.arange(n) % 3]


def test_recipe_fit_never_sees_test_subject():
    X, y, groups = _data()
    FIT_LOG.clear()
    SPLIT_LOG.clear()
    recipe = megc2019_composite(models=("lr",), flip=True,
                                grid={"clf__C": [0.01, 0.1]},
                                inner_cv=SpyGroupKFold(2))
    # in-process folds: the spies log in this process
    evaluate_loso(SpyEstimator(recipe), X, y, groups, n_jobs=1)
    folds = list(LeaveOneGroupOut().split(X, y, groups))
    assert len(FIT_LOG) == len(folds)
    all_rows = [bytes(r) for r in X]
    for (train, test), seen in zip(folds, FIT_LOG):
        assert seen == {all_rows[i] for i in train}
        assert not seen & {all_rows[i] for i in test}
    # the inner selection saw the training subjects only (mirrored copies included)
    assert len(SPLIT_LOG) == len(folds)
    for (train, test), inner in zip(folds, SPLIT_LOG):
        assert set(inner) == set(groups[train])
        assert groups[test[0]] not in set(inner)
        assert len(inner) == 2 * len(train)  # flip keeps the subject of a mirror


def test_groups_routed_to_inner_cv():
    X, y, groups = _data()
    SPLIT_LOG.clear()
    est = megc2019_composite(models=("lr",), flip=False, grid={"clf__C": [0.1]},
                             inner_cv=SpyGroupKFold(2))
    report = evaluate_loso(est, X, y, groups, n_jobs=1)
    assert report.n_folds == 5 and len(SPLIT_LOG) == 5
    assert all(len(set(g)) == 4 for g in SPLIT_LOG)


def test_recipe_learns_and_is_deterministic():
    X, y, groups = _data(n_subjects=6)
    est = megc2019_composite(flip=True, random_state=0)
    p1 = est.fit(X[:24], y[:24]).predict_proba(X[24:])
    p2 = clone(est).fit(X[:24], y[:24]).predict_proba(X[24:])
    np.testing.assert_allclose(p1, p2)
    assert (p1.argmax(1) == y[24:]).mean() >= 0.8


def test_flip_flow_golden():
    flow = np.zeros((1, 3, 28, 28))
    flow[0, 0, 3, 0] = 0.25  # u at column 0
    flow[0, 2, 5, 1] = 0.7
    lm = np.zeros((1, 68, 2))
    lm[0, 36] = (0.5, 10.5)  # an eye corner, apex-image pixels
    X = make_composite_X(flow, lm * 8)
    F = flip_flow(X)
    ff = F[:, :2352].reshape(3, 28, 28)
    assert ff[0, 3, 27] == pytest.approx(0.75)  # mirrored and 1 - u
    assert ff[0, 0, 0] == 1.0  # zero (min) u becomes the max
    assert ff[2, 5, 26] == pytest.approx(0.7)  # strain mirrored only
    lmf = F[0, 2352:2488].reshape(68, 2)
    # point 36 (right eye outer corner) becomes point 45 at x -> 27 - x
    x36 = (0.5 * 8 + 0.5) * 28 / 224 - 0.5
    assert lmf[45, 0] == pytest.approx(27 - x36)
    assert F.shape == X.shape == (1, 2488)


def test_group_scaler_uses_training_statistics_only():
    X, _, _ = _data()
    F, corpora = X[:, :2352], _corpora(len(X))
    gs = GroupScaler(per_corpus=True).fit(F[:15], datasets=corpora[:15])
    assert set(gs.stats_) == {None, "casme2", "samm", "smic"}
    Z1 = gs.transform(F[15:], datasets=corpora[15:])
    # no dependence on the other test samples
    Z2 = gs.transform(F[15:20], datasets=corpora[15:20])
    np.testing.assert_allclose(Z1[:5], Z2)
    Ztr = gs.transform(F[:15], datasets=corpora[:15])
    for c in np.unique(corpora):
        np.testing.assert_allclose(Ztr[corpora[:15] == c].mean(0), 0, atol=1e-10)
    # a corpus absent from training falls back to the overall statistics
    mean, scale = gs.stats_[None]
    np.testing.assert_allclose(gs.transform(F[:3], datasets=["mmew"] * 3),
                               (F[:3] - mean) / scale)
    # fitted per corpus, transform must be told the corpora
    with pytest.raises(ValueError, match="no datasets"):
        gs.transform(F[:3])
    with pytest.raises(ValueError, match="datasets must have shape"):
        gs.transform(F[:3], datasets=["smic"])
    # no corpora at fit (or per_corpus=False): one set of statistics
    one = GroupScaler().fit(F[:15])
    assert list(one.stats_) == [None]
    np.testing.assert_allclose(one.transform(F[:3]), (F[:3] - mean) / scale)
    glob = GroupScaler(per_corpus=False).fit(F[:15], datasets=corpora[:15])
    np.testing.assert_allclose(glob.transform(F[:3], datasets=corpora[:3]),
                               (F[:3] - mean) / scale)
    # X is never modified
    F0 = F.copy()
    gs.transform(F, datasets=corpora)
    np.testing.assert_array_equal(F, F0)


def test_corpus_is_metadata_routed_through_the_recipe():
    """With routing on, the corpora reach every GroupScaler in fit and predict."""
    X, y, groups = _data(n_subjects=6)
    corpora = _corpora(len(X))
    with sklearn.config_context(enable_metadata_routing=True):
        est = megc2019_composite(per_corpus=True, flip=True, random_state=0)
        est.fit(X[:24], y[:24], datasets=corpora[:24])
        p = est.predict_proba(X[24:], datasets=corpora[24:])
        assert p.shape == (12, 3)
        assert (est.predict(X[24:], datasets=corpora[24:]) == p.argmax(1)).all()
        vote = est.estimator_.named_steps["vote"]
        for member in vote.named_estimators_.values():
            assert set(member.named_steps["scale"].stats_) == {
                None, "casme2", "samm", "smic"}
        # the training part to fit, the test part to predict_proba
        report = evaluate_loso(megc2019_composite(per_corpus=True, random_state=0),
                               X, y, groups, datasets=corpora)
        assert report.n_folds == 6
        with pytest.raises(ValueError, match="no datasets"):
            est.predict_proba(X[24:])
    # the default recipe does not use the corpora: same result with routing off
    plain = megc2019_composite(random_state=0).fit(X[:24], y[:24])
    with sklearn.config_context(enable_metadata_routing=True):
        routed = megc2019_composite(random_state=0).fit(
            X[:24], y[:24], datasets=corpora[:24])
        p_routed = routed.predict_proba(X[24:], datasets=corpora[24:])
    np.testing.assert_array_equal(plain.predict_proba(X[24:]), p_routed)


def test_per_corpus_recipe_warns_without_routing_and_refuses_grid():
    with pytest.warns(UserWarning, match="metadata routing"):
        megc2019_composite(per_corpus=True)
    with pytest.raises(ValueError, match="per_corpus=True cannot"):
        with sklearn.config_context(enable_metadata_routing=True):
            megc2019_composite(per_corpus=True, grid={"clf__C": [0.1]},
                               models=("lr",))


def test_recentre_centres_and_keeps_direction():
    flow = np.full((1, 3, 28, 28), 0.5)
    flow[0, 0, :4, :4] = 0.9
    flow[0, 1, :4, :4] = 0.7
    X = make_composite_X(flow)
    Z = FlowRecentre(magnitude=True).fit_transform(X)
    u = Z[0, :784].reshape(28, 28)
    v = Z[0, 784:1568].reshape(28, 28)
    assert u[10, 10] == 0 and v[10, 10] == 0
    assert u[0, 0] / v[0, 0] == pytest.approx(2.0)
    assert Z.shape == (1, 4 * 784 + 136)
    mag = Z[0, 2352:3136].reshape(28, 28)
    assert mag.mean() == pytest.approx(1.0)


def test_aligner_identity_on_template_and_moves_shifted_faces():
    X, _, _ = _data()
    al = FlowAligner().fit(X)
    _, ls = composite_layout()
    Xt = X[:1].copy()
    Xt[0, ls] = al.template_.ravel()
    np.testing.assert_allclose(al.transform(Xt)[0, :2352], Xt[0, :2352], atol=1e-6)
    Xs = Xt.copy()
    Xs[0, ls] = (al.template_ + [2.0, 0.0]).ravel()  # face 2 px to the right
    img = np.zeros((3, 28, 28))
    img[:, :, 14] = 1.0
    Xs[0, :2352] = img.ravel()
    out = al.transform(Xs)[0, :2352].reshape(3, 28, 28)
    assert out[0, 10, 12] == pytest.approx(1.0, abs=1e-5)


def test_flip_augmented_doubles_training_and_averages():
    from sklearn.dummy import DummyClassifier

    X, y, _ = _data()
    clf = FlipAugmentedClassifier(DummyClassifier(strategy="prior")).fit(X, y)
    assert clf.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(clf.predict_proba(X[:2]).sum(1), 1.0)


@pytest.mark.parametrize("kw, msg", [
    ({"models": ("lr", "knn")}, "models must"),
    ({"models": ()}, "models must"),
])
def test_recipe_bad_params(kw, msg):
    with pytest.raises(ValueError, match=msg):
        megc2019_composite(**kw)


def test_bad_layout_is_a_clear_error():
    with pytest.raises(ValueError, match="composite layout"):
        FlowRecentre().fit(np.zeros((4, 10)))
    with pytest.raises(ValueError, match="composite layout"):
        FlowAligner().fit(np.zeros((4, 2489)))  # the old layout's corpus column
    with pytest.raises(ValueError, match="shape"):
        make_composite_X(np.zeros((2, 3, 14, 14)))


# ------------------------------------------------------------ ensemble recipe
class SpyNet(ClassifierMixin, BaseEstimator):
    """A stand-in network on (n, 3, 28, 28) images: records what fit sees."""

    log = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        X = np.asarray(X)
        assert X.ndim == 4 and X.shape[1:] == (3, 28, 28) and X.dtype == np.float32
        SpyNet.log.append(({bytes(np.asarray(r, np.float64).ravel()) for r in X},
                           self.random_state))
        self.classes_ = np.unique(y)
        rng = np.random.default_rng(self.random_state)
        self.w_ = rng.normal(size=(X[0].size, len(self.classes_)))
        return self

    def predict_proba(self, X):
        z = np.asarray(X).reshape(len(X), -1) @ self.w_
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


def test_seed_ensemble_members_differ_and_reproduce():
    from sklearn.linear_model import SGDClassifier

    from skmer.recipes import SeedEnsembleClassifier, member_seeds

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    ens = SeedEnsembleClassifier(SGDClassifier(loss="log_loss"), n_seeds=4,
                                 random_state=3).fit(X, y)
    assert ens.seeds_ == member_seeds(3, 4) and len(set(ens.seeds_)) == 4
    probas = [e.predict_proba(X) for e in ens.estimators_]
    assert not np.allclose(probas[0], probas[1])  # the seeds matter
    np.testing.assert_array_equal(ens.predict_proba(X), np.mean(probas, axis=0))
    again = clone(ens).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), ens.predict_proba(X))
    assert set(ens.predict(X)) <= {0, 1}
    with pytest.raises(ValueError, match="random_state parameter"):
        SeedEnsembleClassifier(GroupScalerClassifier()).fit(X, y)


class GroupScalerClassifier(ClassifierMixin, BaseEstimator):
    """A classifier without random_state (for the error message)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


class SpyNoGroups(SpyEstimator):
    def fit(self, X, y):
        return super().fit(X, y)


def test_ensemble_recipe_never_sees_test_subject():
    from skmer.recipes import megc2019_ensemble

    X, y, groups = _data()
    FIT_LOG.clear()
    SpyNet.log.clear()
    est = megc2019_ensemble({"spy": SpyNet()}, n_seeds=2)
    report = evaluate_loso(SpyNoGroups(est), X, y, groups, n_jobs=1)
    folds = list(LeaveOneGroupOut().split(X, y, groups))
    assert report.n_folds == len(folds) == len(FIT_LOG)
    images = [bytes(r.astype(np.float32).astype(np.float64))
              for r in X[:, :3 * 28 * 28]]
    assert len(SpyNet.log) == 2 * len(folds)  # two seeds per fold
    for f, (train, test) in enumerate(folds):
        assert not FIT_LOG[f] & {bytes(r) for r in X[test]}
        for seen, _ in SpyNet.log[2 * f: 2 * f + 2]:
            assert seen == {images[i] for i in train}
            assert not seen & {images[i] for i in test}
        # the two members of a fold have different seeds
        assert SpyNet.log[2 * f][1] != SpyNet.log[2 * f + 1][1]


def test_ensemble_recipe_is_the_vote_of_its_members():
    from skmer.recipes import flow_images, megc2019_ensemble, member_seeds

    X, y, groups = _data(n_subjects=6)
    est = megc2019_ensemble({"a": SpyNet(), "b": SpyNet()}, n_seeds=3,
                            random_state=1).fit(X[:24], y[:24])
    seeds = member_seeds(1, 3)
    nets = [SpyNet(random_state=s).fit(flow_images(X[:24]), y[:24]) for s in seeds]
    net_p = np.mean([n.predict_proba(flow_images(X[24:])) for n in nets], axis=0)
    lin_p = megc2019_composite(random_state=1).fit(X[:24], y[:24]).predict_proba(
        X[24:])
    np.testing.assert_allclose(est.predict_proba(X[24:]),
                               (net_p + net_p + lin_p) / 3, rtol=1e-12)
    with pytest.raises(ValueError, match="at least one vote"):
        megc2019_ensemble({}, linear=False).fit(X, y)
    with pytest.raises(ValueError, match="'linear' names"):
        megc2019_ensemble({"linear": SpyNet()})


def test_ensemble_recipe_trains_ststnet_on_the_flow_images():
    pytest.importorskip("torch")
    from skmer.models import STSTNetClassifier
    from skmer.recipes import flow_images, megc2019_ensemble, member_seeds

    X, y, _ = _data(n_subjects=4)
    net = STSTNetClassifier(max_epochs=2, batch_size=8, device="cpu")
    est = megc2019_ensemble({"ststnet": net}, n_seeds=1, linear=False,
                            random_state=5).fit(X, y)
    alone = clone(net).set_params(random_state=member_seeds(5, 1)[0]).fit(
        flow_images(X), y)
    np.testing.assert_array_equal(est.predict_proba(X), alone.predict_proba(
        flow_images(X)))

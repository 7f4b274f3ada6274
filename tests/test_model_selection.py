import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.neighbors import KNeighborsClassifier

from skmer.metrics import uar_score, uf1_score
from skmer.model_selection import evaluate_loso, fold_seed

sys.path.insert(0, str(Path(__file__).parent))
from loso_helpers import SlowNearestMean, make_data  # noqa: E402


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Records the sample ids (column 0 of X) every fit receives."""

    seen = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y):
        type(self).seen.append(set(np.asarray(X)[:, 0].astype(int)))
        self.classes_ = np.unique(y)
        self.rs_ = self.random_state
        return self

    def predict(self, X):
        rng = np.random.RandomState(self.rs_)
        return rng.choice(self.classes_, size=len(X))


def test_training_never_sees_the_test_fold():
    X, y, groups, _ = make_data()
    ids = np.arange(len(y))[:, None]
    SpyClassifier.seen = []
    evaluate_loso(SpyClassifier(), ids, y, groups, n_jobs=1)
    tests = [set(t) for _, t in LeaveOneGroupOut().split(ids, y, groups)]
    assert len(SpyClassifier.seen) == len(tests) == 10
    for seen, test in zip(SpyClassifier.seen, tests):
        assert not (seen & test)
        assert seen | test == set(range(len(y)))


def test_scores_are_pooled_not_averaged_per_fold():
    X, y, groups, datasets = make_data()
    rep = evaluate_loso(SlowNearestMean(), X, y, groups, datasets=datasets)
    p = rep.predictions
    assert len(p) == len(y) and (p["sample"].to_numpy() == np.arange(len(y))).all()
    assert rep.uf1 == pytest.approx(uf1_score(p["y_true"], p["y_pred"]))
    assert rep.uar == pytest.approx(uar_score(p["y_true"], p["y_pred"]))
    per_fold = np.mean([f1_score(d["y_true"], d["y_pred"], average="macro")
                        for _, d in p.groupby("fold")])
    assert rep.uf1 != pytest.approx(per_fold)
    frame = rep.to_frame()
    assert list(frame.index) == ["overall", "d0", "d1"]
    d0 = p[p["dataset"] == "d0"]
    assert frame.loc["d0", "uf1_mean"] == pytest.approx(
        uf1_score(d0["y_true"], d0["y_pred"]))
    assert frame.loc["overall", "n"] == len(y)
    cm = rep.confusion_matrix()
    assert cm.sum() == len(y) and np.trace(cm) == (p["y_true"] == p["y_pred"]).sum()


def test_seeds_reseed_every_fold_and_are_reproducible():
    X, y, groups, _ = make_data()
    ids = np.arange(len(y))[:, None]
    rep = evaluate_loso(SpyClassifier(), ids, y, groups, seeds=(0, 1))
    again = evaluate_loso(SpyClassifier(), ids, y, groups, seeds=(0, 1), n_jobs=2)
    assert rep.predictions.equals(again.predictions)
    p0 = rep.predictions[rep.predictions.seed == 0]["y_pred"].to_numpy()
    p1 = rep.predictions[rep.predictions.seed == 1]["y_pred"].to_numpy()
    assert not np.array_equal(p0, p1)
    assert len(rep.scores) == 2
    frame = rep.to_frame()
    uf1s = rep.scores["uf1"].to_numpy()
    assert frame.loc["overall", "uf1_std"] == pytest.approx(np.std(uf1s, ddof=1))
    assert "±" in rep.to_markdown()
    assert fold_seed(0, 1) != fold_seed(0, 2)


def test_warns_when_seeds_cannot_change_anything():
    X, y, groups, _ = make_data()
    with pytest.warns(UserWarning, match="no random_state"):
        evaluate_loso(KNeighborsClassifier(3), X, y, groups, seeds=(0, 1))


def test_string_labels_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    X, y, groups, _ = make_data()
    names = np.array(["negative", "positive"])[y]
    rep = evaluate_loso(SlowNearestMean(), X, names, groups, results_dir=tmp_path)
    assert set(rep.predictions["y_pred"]) <= {"negative", "positive"}
    ax = rep.plot()
    ax.figure.savefig(tmp_path / "cm.png")
    assert (tmp_path / "cm.png").stat().st_size > 1000
    again = evaluate_loso(SlowNearestMean(), X, names, groups, results_dir=tmp_path)
    assert again.n_reused == 10
    assert again.predictions.equals(rep.predictions)
    d = rep.to_dict()
    assert d["labels"] == ["negative", "positive"] and d["n_folds"] == 10


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y": [0, 1]}, "same length"),
        ({"groups": ["a"] * 40}, "at least 2 distinct groups"),
        ({"seeds": ()}, "at least one seed"),
        ({"seeds": (1, 1)}, "distinct"),
    ],
)
def test_bad_input(kwargs, match):
    X, y, groups, _ = make_data()
    args = {"X": X, "y": y, "groups": groups, **kwargs}
    with pytest.raises(ValueError, match=match):
        evaluate_loso(SlowNearestMean(), args.pop("X"), args.pop("y"),
                      args.pop("groups"), **args)


def test_empty_x():
    with pytest.raises(ValueError, match="X is empty"):
        evaluate_loso(SlowNearestMean(), [], [], [])


_SCRIPT = """
import sys
from skmer.model_selection import evaluate_loso
from loso_helpers import SlowNearestMean, make_data
X, y, groups, _ = make_data()
evaluate_loso(SlowNearestMean(), X, y, groups, results_dir=sys.argv[1], n_jobs=1)
"""


def test_interrupted_run_resumes_without_recomputing(tmp_path):
    results = tmp_path / "results"
    env = dict(os.environ, SKMER_TEST_FIT_DELAY="0.4",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).parent),
                                           os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(results)], env=env)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if len(list(results.glob("*/seed0_fold*.json"))) >= 3:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    n_done = len(list(results.glob("*/seed0_fold*.json")))
    assert 3 <= n_done < 10, n_done

    log = tmp_path / "fits.log"
    os.environ["SKMER_TEST_FIT_LOG"] = str(log)
    try:
        X, y, groups, _ = make_data()
        # n_jobs=1: the fits are counted through an environment variable, which
        # worker processes started by an earlier test would not see
        rep = evaluate_loso(SlowNearestMean(), X, y, groups, results_dir=results,
                            n_jobs=1)
    finally:
        del os.environ["SKMER_TEST_FIT_LOG"]
    assert rep.n_reused == n_done
    assert len(log.read_text().splitlines()) == 10 - n_done
    fresh = evaluate_loso(SlowNearestMean(), X, y, groups)
    np.testing.assert_array_equal(rep.predictions["y_pred"],
                                  fresh.predictions["y_pred"])
    assert rep.uf1 == fresh.uf1


def test_fewer_seeds_reuse_a_folder_with_more_seeds(tmp_path):
    X, y, groups, _ = make_data()
    knn = KNeighborsClassifier(n_neighbors=3)
    three = evaluate_loso(knn, X, y, groups, seeds=(0, 1, 2), results_dir=tmp_path,
                          n_jobs=1)
    one = evaluate_loso(knn, X, y, groups, seeds=(1,), results_dir=tmp_path,
                        n_jobs=1)
    assert one.seeds == (1,) and one.n_reused == one.n_folds
    assert len(one.predictions) == len(y)
    np.testing.assert_array_equal(
        one.predictions["y_pred"],
        three.predictions.query("seed == 1")["y_pred"].to_numpy())


def test_changed_estimator_does_not_reuse_results(tmp_path):
    X, y, groups, _ = make_data()
    evaluate_loso(SlowNearestMean(), X, y, groups, results_dir=tmp_path)
    rep = evaluate_loso(DummyClassifier(), X, y, groups, results_dir=tmp_path)
    assert rep.n_reused == 0
    assert len(list(tmp_path.iterdir())) == 2


def test_training_groups_reach_an_inner_grouped_grid_search():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, groups, _ = make_data()
    seen = []

    class SpyGroupKFold(GroupKFold):
        def split(self, X, y=None, groups=None):
            seen.append(set(groups))
            return super().split(X, y, groups)

    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]},
                          cv=SpyGroupKFold(3))
    # n_jobs=1: the spy records in this process
    rep = evaluate_loso(search, X, y, groups, n_jobs=1)
    assert len(seen) == 10
    all_groups = set(groups)
    for inner, test_group in zip(seen, sorted(all_groups)):
        assert inner == all_groups - {test_group}
    # inside a Pipeline, the step that takes groups gets them as <step>__groups
    seen.clear()
    pipe = Pipeline([("scale", StandardScaler()), ("search", search)])
    rep2 = evaluate_loso(pipe, X, y, groups, n_jobs=1)
    assert len(seen) == 10 and rep2.n_folds == rep.n_folds == 10
    with pytest.raises(ValueError, match="route_groups"):
        evaluate_loso(search, X, y, groups, route_groups="groups")


def test_groups_are_not_sent_to_estimators_that_forward_fit_params():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    X, y, groups, _ = make_data()
    rep = evaluate_loso(CalibratedClassifierCV(SVC(), cv=3), X, y, groups)
    assert rep.n_folds == 10


def test_run_key_is_the_same_in_another_process():
    """A network's resume files are found again by a new process.

    skorch's default callbacks are parameters whose repr holds their memory
    address, and skorch's ``_params_to_validate`` is a set whose repr order follows
    the process's hash seed; the key must depend on neither (it did: every new
    process recomputed).
    """
    pytest.importorskip("torch")
    code = (
        "import numpy as np\n"
        "from sklearn.model_selection import LeaveOneGroupOut\n"
        "from skmer.model_selection._storage import _run_key\n"
        "from skmer.models import SSSNetClassifier, STSTNetClassifier\n"
        "y = np.arange(6) % 3; g = np.repeat(['a', 'b', 'c'], 2)\n"
        "s = list(LeaveOneGroupOut().split(y, y, g))\n"
        "print([_run_key(c(), y, g, s, engine='per-fold', routes=None)\n"
        "       for c in (STSTNetClassifier, SSSNetClassifier)])\n")
    keys = {subprocess.run([sys.executable, "-c", code], capture_output=True,
                           text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}
                           ).stdout.strip() for seed in (1, 2, 3)}
    assert len(keys) == 1

import json

import numpy as np
import pandas as pd
import pytest

from skmer.cli import main


def test_demo_runs_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "demo"
    rc = main(["demo", "--n-clips", "24", "--n-subjects", "3", "--epochs", "2",
               "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "FlowExtractor -> STSTNetClassifier" in text
    assert "| overall | 24 |" in text and "3-fold LOSO" in text
    assert (out / "confusion_matrix.png").stat().st_size > 5000
    report = json.loads((out / "report.json").read_text())
    assert report["n_folds"] == 3 and 0 <= report["summary"]["overall"]["uf1_mean"] <= 1


def test_evaluate_lbptop_on_synthetic_clips(tmp_path, capsys):
    rc = main(["evaluate", "--synthetic", "24", "--n-subjects", "4", "--model",
               "lbptop", "--quiet", "--json", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n_folds"] == 4
    assert report["summary"]["overall"]["n"] == 24
    assert "lbptop on 24 synthetic clips" in capsys.readouterr().out


def test_evaluate_flow_images(tmp_path, megc2019_dir, capsys):
    labels = pd.read_csv(megc2019_dir / "labels_3class.csv", dtype=str)
    subset = labels[labels["sub"].isin(["sub01", "sub02", "s01", "006"])]
    subset.to_csv(tmp_path / "labels.csv", index=False)
    rc = main(["evaluate", "--flow-images", str(megc2019_dir / "flow_uvos_28"),
               "--labels", str(tmp_path / "labels.csv"), "--model", "ststnet",
               "--epochs", "2", "--quiet", "--json", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n_folds"] == 4
    assert report["summary"]["overall"]["n"] == len(subset)
    # per-dataset rows of the pooled predictions
    assert {"casme2", "smic", "samm"} <= set(report["summary"])


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--model", "ststnet"], "exactly one of --flow-images"),
    (["evaluate", "--flow-images", "/nonexistent", "--model", "ststnet"],
     "does not exist"),
])
def test_evaluate_errors_are_clear(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_lbptop_needs_clips(megc2019_dir, capsys):
    rc = main(["evaluate", "--flow-images", str(megc2019_dir / "flow_uvos_28"),
               "--model", "lbptop"])
    assert rc == 2
    assert "needs clips" in capsys.readouterr().err


def test_evaluate_recipe_on_flow_images(tmp_path, megc2019_dir):
    labels = pd.read_csv(megc2019_dir / "labels_3class.csv", dtype=str)
    # subjects whose training folds hold >= 3 samples of every class (the SVM's
    # probabilities are calibrated on 3 internal folds)
    subset = labels[labels["sub"].isin(["s03", "sub17", "s20", "s04"])]
    subset.to_csv(tmp_path / "labels.csv", index=False)
    rc = main(["evaluate", "--flow-images", str(megc2019_dir / "flow_uvos_28"),
               "--labels", str(tmp_path / "labels.csv"), "--recipe", "megc2019",
               "--quiet", "--json", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n_folds"] == 4 and report["summary"]["overall"]["n"] == len(subset)
    assert main(["evaluate", "--synthetic", "12", "--recipe", "megc2019"]) == 2


def test_evaluate_ensemble_recipe_on_flow_images(tmp_path, megc2019_dir):
    """``--recipe megc2019-ensemble``: STSTNet x5 + the linear recipe, per fold."""
    labels = pd.read_csv(megc2019_dir / "labels_3class.csv", dtype=str)
    subset = labels[labels["sub"].isin(["s03", "sub17", "s20", "s04"])]
    subset.to_csv(tmp_path / "labels.csv", index=False)
    rc = main(["evaluate", "--flow-images", str(megc2019_dir / "flow_uvos_28"),
               "--labels", str(tmp_path / "labels.csv"), "--recipe",
               "megc2019-ensemble", "--epochs", "1", "--quiet", "--n-jobs", "1",
               "--json", str(tmp_path / "r.json")])
    assert rc == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["n_folds"] == 4 and report["summary"]["overall"]["n"] == len(subset)


@pytest.mark.parametrize("command", ["evaluate", "demo"])
@pytest.mark.parametrize("value", ["-1", "0", "two"])
def test_seeds_must_be_positive_before_any_loading(command, value, capsys,
                                                   monkeypatch):
    import skmer.datasets

    def no_loading(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("data loaded before --seeds was checked")

    monkeypatch.setattr(skmer.datasets, "load_flow_images", no_loading)
    monkeypatch.setattr(skmer.datasets, "make_micro_expressions", no_loading)
    argv = [command, "--seeds", value]
    if command == "evaluate":
        argv += ["--flow-images", "/nonexistent"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seeds: must be a positive integer" in err and value in err


def test_flow_images_file_and_empty_folder(tmp_path, megc2019_dir, capsys):
    labels = megc2019_dir / "labels_3class.csv"
    for command in (["evaluate"], ["train", "--out", str(tmp_path / "m.joblib")]):
        assert main([*command, "--flow-images", str(labels)]) == 2
        err = capsys.readouterr().err
        assert "labels_3class.csv' is a file" in err and "folder" in err
        empty = tmp_path / "empty"
        empty.mkdir(exist_ok=True)
        assert main([*command, "--flow-images", str(empty), "--labels",
                     str(labels)]) == 2
        err = capsys.readouterr().err
        assert "holds no PNG image" in err and "Labels CSV" not in err
    assert not (tmp_path / "m.joblib").exists()


def test_train_exclude_subject_errors(tmp_path, megc2019_dir, capsys):
    flow = str(megc2019_dir / "flow_uvos_28")
    out = tmp_path / "m.joblib"
    assert main(["train", "--flow-images", flow, "--classifier", "svm",
                 "--exclude-subject", "sub01", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--exclude-subject: no sample of ['sub01']" in err
    assert "dataset-qualified" in err
    assert main(["train", "--exclude-subject", "casme2/sub01", "--out",
                 str(out)]) == 2
    assert "selects subjects of --flow-images" in capsys.readouterr().err
    assert not out.exists()


def test_train_recipe_on_flow_images(tmp_path, megc2019_dir, capsys):
    """``--recipe megc2019`` saves a model that reads one onset-apex pair."""
    from skmer.datasets import Clip
    from skmer.io import model_info

    labels = pd.read_csv(megc2019_dir / "labels_3class.csv", dtype=str)
    labels[labels["dataset"] == "casme2"].to_csv(tmp_path / "l.csv", index=False)
    out = tmp_path / "recipe.joblib"
    assert main(["train", "--flow-images", str(megc2019_dir / "flow_uvos_28"),
                 "--labels", str(tmp_path / "l.csv"), "--recipe", "megc2019",
                 "--out", str(out)]) == 0
    assert "recipe:megc2019 on 145 flow images" in capsys.readouterr().out
    info = model_info(out)
    assert info["metadata"]["classifier"] == "recipe:megc2019"
    rng = np.random.default_rng(0)
    pair = Clip(rng.integers(0, 256, (2, 128, 128), dtype=np.uint8), onset=0,
                apex=1)
    proba = info["model"].predict_proba([pair])
    assert proba.shape == (1, 3) and proba.sum() == pytest.approx(1.0)

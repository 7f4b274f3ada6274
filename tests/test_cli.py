import json

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

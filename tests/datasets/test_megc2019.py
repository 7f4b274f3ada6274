"""The MEGC2019 composite loader on the real sheets with generated frame trees."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest

from skmer.datasets import ClipSequence, load_megc2019, megc2019_composite_ids
from skmer.datasets._corpora import _make_fake_tree

SHEETS = {"casme2": "CASME2-coding-20140508.xlsx", "samm": "SAMM.xlsx",
          "smic": "smic_apex.xlsx"}
CLASS_COUNTS = {"casme2": [88, 32, 25], "samm": [92, 26, 15], "smic": [70, 51, 43]}
N_SUBJECTS = {"casme2": 24, "samm": 28, "smic": 16}


@pytest.fixture(scope="module")
def annotations(shared_data):
    path = shared_data / "annotations"
    if not all((path / f).is_file() for f in SHEETS.values()):
        pytest.skip(f"corpus annotation sheets absent under {path}")
    return path


@pytest.fixture(scope="module")
def roots(annotations, tmp_path_factory):
    base = tmp_path_factory.mktemp("megc2019")
    return {name: _make_fake_tree(name, base / name, annotations / sheet)
            for name, sheet in SHEETS.items()}


@pytest.fixture(scope="module")
def megc(roots):
    with pytest.warns(UserWarning, match="smic"):
        return load_megc2019(roots["casme2"], roots["samm"], roots["smic"])


def test_shipped_list():
    ids = megc2019_composite_ids()
    assert list(ids.columns) == ["dataset", "subject", "clip", "label"]
    assert len(ids) == 442 and not ids.duplicated(["dataset", "subject",
                                                   "clip"]).any()
    for name, counts in CLASS_COUNTS.items():
        sub = ids[ids["dataset"] == name]
        assert np.bincount(sub["label"]).tolist() == counts
        assert sub["subject"].nunique() == N_SUBJECTS[name]


def test_shipped_list_matches_shared_labels(shared_data):
    path = shared_data / "megc2019" / "labels_3class.csv"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    ref = pd.read_csv(path, dtype=str)
    ids = megc2019_composite_ids()
    assert (ids["dataset"].to_numpy() == ref["dataset"].to_numpy()).all()
    assert (ids["subject"].to_numpy() == ref["sub"].to_numpy()).all()
    assert (ids["label"].to_numpy() == ref["label"].astype(int).to_numpy()).all()
    # SMIC's MEGC names are s01_ne_01; the corpus' own clip names are s1_ne_01
    expected = np.where(ref["dataset"] == "smic",
                        ref["imagename"].str.split("_", n=1).str[1].str[:-4],
                        ref["filename_o"])
    assert (ids["clip"].to_numpy() == expected).all()


def test_composite_counts(megc):
    assert len(megc.data) == 442 and isinstance(megc.data, ClipSequence)
    assert len(np.unique(megc.groups)) == 68
    assert megc.target_names == ["negative", "positive", "surprise"]
    assert megc.target.dtype.kind == "i"
    for name, counts in CLASS_COUNTS.items():
        mask = megc.datasets == name
        assert np.bincount(megc.target[mask], minlength=3).tolist() == counts
        assert all(g.startswith(name + "/") for g in megc.groups[mask])
        assert len(np.unique(megc.groups[mask])) == N_SUBJECTS[name]
    assert {"casme2/sub01", "samm/006", "smic/s01"} <= set(megc.groups)
    for key in ("onset", "apex", "offset", "paths", "datasets", "groups"):
        assert len(megc[key]) == 442
    assert len(megc.frame) == 442 and "MEGC2019" in megc.DESCR


def test_composite_order_labels_and_clips(megc):
    ids = megc2019_composite_ids()
    assert (megc.frame["clip"].to_numpy() == ids["clip"].to_numpy()).all()
    assert (megc.target == ids["label"].to_numpy()).all()
    assert [c.label for c in megc.data] == megc.target.tolist()
    assert [c.subject for c in megc.data] == megc.groups.tolist()
    clip = megc.data[0]  # casme2 sub01/EP02_01f, the tree holds its frames
    assert clip.id == "casme2/sub01/EP02_01f" and clip.fps == 200
    assert clip.shape == (41, 8, 8) and clip.apex == 13
    assert not megc.data[1].is_loaded


def test_lazy_and_return_X_y(roots, megc):
    size = len(pickle.dumps(megc.data))
    assert size < 2000 * len(megc.data)  # paths and names, no pixels
    with pytest.warns(UserWarning):
        X, y, groups = load_megc2019(roots["casme2"], roots["samm"], roots["smic"],
                                     return_X_y=True)
    assert len(X) == len(y) == len(groups) == 442
    assert (y == megc.target).all() and (groups == megc.groups).all()


def test_missing_clip_folder_is_named(roots):
    folder = roots["samm"] / "SAMM" / "006" / "006_1_2"
    hidden = folder.with_name("_hidden")
    os.rename(folder, hidden)
    try:
        with pytest.raises(FileNotFoundError, match="samm/006/006_1_2"):
            load_megc2019(roots["casme2"], roots["samm"], roots["smic"])
    finally:
        os.rename(hidden, folder)


def test_clip_missing_from_sheet_is_named(roots, tmp_path):
    sheet = pd.read_excel(roots["samm"] / "SAMM.xlsx", dtype=str)
    sheet = sheet[sheet["Filename"] != "006_1_3"]
    path = tmp_path / "SAMM.xlsx"
    sheet.to_excel(path, index=False, sheet_name="MICRO_ONLY")
    with pytest.raises(ValueError, match="samm/006/006_1_3"):
        load_megc2019(roots["casme2"], roots["samm"], roots["smic"],
                      annotations={"samm": path})


def test_missing_root(roots, tmp_path):
    with pytest.raises(FileNotFoundError, match="no_smic"):
        load_megc2019(roots["casme2"], roots["samm"], tmp_path / "no_smic")
    with pytest.raises(ValueError, match="annotations keys"):
        load_megc2019(roots["casme2"], roots["samm"], roots["smic"],
                      annotations={"casme3": "x"})

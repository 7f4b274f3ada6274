"""Corpus loaders on the real annotation sheets with generated frame trees."""

import os
import pickle
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from skmer.datasets import Clip, ClipSequence
from skmer.datasets._corpora import (
    _make_fake_tree,
    load_casme2,
    load_casme3,
    load_mmew,
    load_samm,
    load_smic,
)

SHEETS = {
    "casme2": "CASME2-coding-20140508.xlsx",
    "samm": "SAMM.xlsx",
    "smic": "smic_apex.xlsx",
    "casme3": "casme3_partA_edited.csv",
    "mmew": "mmew_micro_delete_others.csv",
}
LOADERS = {"casme2": load_casme2, "samm": load_samm, "smic": load_smic,
           "casme3": load_casme3, "mmew": load_mmew}
# clips, subjects, fps of the real sheets
COUNTS = {"casme2": (255, 26, 200), "samm": (159, 29, 200), "smic": (164, 16, 100),
          "casme3": (687, 87, 30), "mmew": (234, 30, 90)}
# MEGC2019 3-class rule: negative/positive/surprise counts
MEGC_COUNTS = {"casme2": (90, 32, 25), "samm": (92, 26, 15), "smic": (70, 51, 43),
               "casme3": (449, 54, 184), "mmew": (109, 36, 89)}
# warnings each loader must emit on the real sheet
EXPECTED_WARNINGS = {
    "casme2": [], "samm": [], "mmew": [],
    "smic": ["4 sheet row(s) whose apex_frame_path disagrees",
             "7 sheet row(s) without a valid offset"],
    "casme3": ["1 sheet row(s) with a missing apex or an apex outside"],
}


@pytest.fixture(scope="module")
def annotations(shared_data):
    path = shared_data / "annotations"
    if not all((path / f).is_file() for f in SHEETS.values()):
        pytest.skip(f"corpus annotation sheets absent under {path}")
    return path


@pytest.fixture(scope="module")
def trees(annotations, tmp_path_factory):
    base = tmp_path_factory.mktemp("corpora")
    return {name: _make_fake_tree(name, base / name, annotations / sheet)
            for name, sheet in SHEETS.items()}


def _load(name, root, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = LOADERS[name](root, **kwargs)
    return out, [str(w.message) for w in record]


@pytest.mark.parametrize("name", SHEETS)
def test_real_sheet_counts_and_bunch(trees, name):
    bunch, messages = _load(name, trees[name])
    n_clips, n_subjects, fps = COUNTS[name]
    assert len(bunch.data) == n_clips
    assert len(np.unique(bunch.groups)) == n_subjects
    assert isinstance(bunch.data, ClipSequence)
    for key in ("target", "groups", "datasets", "onset", "apex", "offset", "paths"):
        assert len(bunch[key]) == n_clips, key
    assert len(bunch.frame) == n_clips
    assert set(bunch.datasets) == {name}
    assert all(g.startswith(name + "/") for g in bunch.groups)
    assert bunch.target_names == sorted(set(bunch.target))
    assert (bunch.onset <= bunch.apex).all() and (bunch.apex <= bunch.offset).all()
    assert bunch.DESCR
    clip = bunch.data[0]
    assert clip.fps == fps and clip.dataset == name and clip.onset == 0
    assert clip.apex == bunch.apex[0] - bunch.onset[0]
    assert clip.offset == clip.n_frames - 1 == bunch.offset[0] - bunch.onset[0]
    assert clip.subject == bunch.groups[0] and clip.label == bunch.target[0]
    assert not any(c.is_loaded for c in bunch.data)  # lazy
    assert len(messages) == len(EXPECTED_WARNINGS[name]), messages
    for expected, message in zip(EXPECTED_WARNINGS[name], messages):
        assert expected in message


@pytest.mark.parametrize("name", SHEETS)
def test_megc2019_mapping_counts(trees, name):
    bunch, _ = _load(name, trees[name], labels="megc2019")
    assert bunch.target_names == ["negative", "positive", "surprise"]
    assert bunch.target.dtype.kind == "i"
    assert tuple(np.bincount(bunch.target, minlength=3)) == MEGC_COUNTS[name]


def test_megc_rule_vs_composite(trees, shared_data):
    """The CASME II rule gives 2 disgust clips more than the composite list."""
    ids = pd.read_csv(shared_data / "megc2019" / "labels_3class.csv", dtype=str)
    ids = ids[ids["dataset"] == "casme2"]
    bunch, _ = _load("casme2", trees["casme2"], labels="megc2019")
    keys = set(zip(ids["sub"], ids["filename_o"]))
    extra = sorted(f"{s}/{c}" for s, c in zip(bunch.frame["subject"],
                                              bunch.frame["clip"])
                   if (s, c) not in keys)
    assert extra == ["sub04/EP12_01f", "sub05/EP09_05f"]
    assert len(bunch.data) - len(extra) == len(ids) == 145


def test_loaded_clip_frames(trees):
    bunch, _ = _load("casme2", trees["casme2"])
    clip = bunch.data[0]  # sub01/EP02_01f: onset 46, apex 59, offset 86
    assert clip.id == "casme2/sub01/EP02_01f"
    assert clip.frame_files[0] == "img46.jpg" and clip.frame_files[-1] == "img86.jpg"
    assert clip.shape == (41, 8, 8) and clip.apex == 13 and clip.dtype == np.uint8
    rgb = load_casme2(trees["casme2"], color="rgb").data[0]
    assert rgb.shape == (41, 8, 8, 3)
    samm = _load("samm", trees["samm"])[0].data[0]
    assert samm.frame_files[0] == "006_05562.jpg" and samm.shape == (71, 8, 8)
    assert samm.apex == 26


def test_lazy_pickle_is_small(trees):
    bunch, _ = _load("mmew", trees["mmew"])
    before = len(pickle.dumps(bunch.data))
    bunch.data[0].load()
    assert bunch.data[0].is_loaded
    after = len(pickle.dumps(bunch.data))
    assert after == before < 2000 * len(bunch.data)  # paths and names, no pixels
    clone = pickle.loads(pickle.dumps(bunch.data[0]))
    assert not clone.is_loaded and clone.shape == bunch.data[0].shape


def test_return_X_y(trees):
    X, y, groups = load_mmew(trees["mmew"], return_X_y=True, emotions=["surprise"])
    assert isinstance(X, ClipSequence) and len(X) == len(y) == len(groups) == 89
    assert set(y) == {"surprise"} and groups[0] == "mmew/S01"
    assert isinstance(X[0], Clip) and X[0].id == "mmew/S01/S01-02-001"


def test_default_root_from_data_home(trees, monkeypatch):
    monkeypatch.setenv("SKMER_DATA", str(trees["mmew"].parent))
    assert len(load_mmew().data) == 234


def test_missing_root_sheet_frames_and_bad_options(trees, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_samm(missing)
    with pytest.raises(FileNotFoundError, match="no_sheet.xlsx"):
        load_samm(trees["samm"], annotation=tmp_path / "no_sheet.xlsx")
    (tmp_path / "empty").mkdir()
    shutil.copyfile(trees["smic"] / "smic_apex.xlsx", tmp_path / "empty" /
                    "smic_apex.xlsx")
    with pytest.raises(FileNotFoundError, match="SMIC_HS_E"):
        load_smic(tmp_path / "empty")
    with pytest.raises(ValueError, match=r"allowed: \['anger', 'contempt'"):
        load_samm(trees["samm"], emotions=["joy"])
    with pytest.raises(ValueError, match="allowed.*negative"):
        load_samm(trees["samm"], labels="megc2019", emotions="anger")
    with pytest.raises(ValueError, match="labels must be one of"):
        load_samm(trees["samm"], labels="7class")
    with pytest.raises(ValueError, match="color must be one of"):
        load_samm(trees["samm"], color="bgr")


def test_missing_frame_folder(annotations, tmp_path):
    root = _make_fake_tree("mmew", tmp_path / "mmew", annotations / SHEETS["mmew"],
                           n_frame_clips=0)
    gone = root / "Micro_Expression" / "surprise" / "S01-02-001"
    shutil.rmtree(gone)
    with pytest.raises(FileNotFoundError, match="S01-02-001"):
        load_mmew(root)
    with pytest.warns(UserWarning, match="1 clip folder"):
        bunch = load_mmew(root, on_missing="skip")
    assert len(bunch.data) == 233


def test_missing_frame_file_is_clear_on_access(annotations, tmp_path):
    root = _make_fake_tree("mmew", tmp_path / "mmew", annotations / SHEETS["mmew"],
                           n_frame_clips=1)
    os.remove(root / "Micro_Expression" / "happiness" / "S01-01-001" / "3.jpg")
    clip = load_mmew(root).data[0]
    with pytest.raises(FileNotFoundError, match="3.jpg"):
        clip.load()


def test_smic_missing_offset_from_folder(trees):
    bunch, _ = _load("smic", trees["smic"])
    frame = bunch.frame
    derived = frame[frame["offset_source"] == "folder"]
    assert len(derived) == 7
    # the generated folders hold frames up to apex + 5
    assert (derived["offset"] == derived["apex"] + 5).all()
    assert bunch.groups[0] == "smic/s20"
    i = int(np.flatnonzero(frame["clip"] == "s1_ne_02")[0])
    clip = bunch.data[i]
    assert clip.offset == 35 and clip.apex == 30 and clip.shape == (36, 8, 8)


def test_smic_original_hs_layout(annotations, tmp_path):
    root = _make_fake_tree("smic", tmp_path / "smic", annotations / SHEETS["smic"],
                           base="HS", ext=".bmp", n_frame_clips=1)
    bunch, _ = _load("smic", root)
    assert len(bunch.data) == 164
    assert bunch.paths[0].endswith(os.path.join("HS", "s20", "micro", "negative",
                                                "s20_ne_01"))
    assert bunch.data[0].frame_files[0] == "image17581039.bmp"
    assert bunch.data[0].shape == (17, 8, 8)


def test_casme2_cropped_and_apex_slash(annotations, tmp_path):
    sheet = pd.read_excel(annotations / SHEETS["casme2"], dtype=str)
    sheet.loc[0, "ApexFrame"] = "/"
    sheet = pd.concat([sheet, sheet.iloc[[5]]], ignore_index=True)  # a duplicate
    path = tmp_path / "CASME2-coding-20140508.xlsx"
    sheet.to_excel(path, index=False)
    root = _make_fake_tree("casme2", tmp_path / "casme2", path, base="Cropped",
                           n_frame_clips=1)
    bunch, messages = _load("casme2", root)
    assert len(bunch.data) == 255
    assert any("1 duplicated sheet row" in m for m in messages)
    assert any("1 sheet row(s) with a missing apex" in m for m in messages)
    assert bunch.frame["apex_source"].iloc[0] == "midpoint"
    assert bunch.apex[0] == (46 + 86) // 2
    assert bunch.data[0].frame_files[0] == "reg_img46.jpg"
    assert bunch.data[0].shape == (41, 8, 8)


def test_casme3_apex_repaired_from_table(trees, annotations):
    bunch, _ = _load("casme3", trees["casme3"])
    row = bunch.frame["id"] == "casme3/spNO.149/d/112"
    assert bunch.frame.loc[row, "apex_source"].item() == "midpoint"
    assert bunch.apex[row.to_numpy()][0] == (112 + 358) // 2
    bunch, messages = _load("casme3", trees["casme3"],
                            table=annotations / "casme3_table.xlsx")
    assert bunch.frame.loc[row, "apex_source"].item() == "casme3_table"
    assert bunch.apex[row.to_numpy()][0] == 160
    assert len(messages) == 1 and "casme3_table.xlsx" in messages[0]


def test_casme3_full_table(annotations, tmp_path):
    table = annotations / "casme3_table.xlsx"
    if not table.is_file():
        pytest.skip(f"{table} absent")
    root = _make_fake_tree("casme3", tmp_path / "casme3", table, n_frame_clips=0)
    bunch, messages = _load("casme3", root, annotation=root / table.name)
    # 860 rows; two "others" rows of spNO.40/e have offset 0 and are dropped
    assert len(bunch.data) == 858
    assert any("2 sheet row(s) with a missing, zero or pre-onset offset" in m
               for m in messages)
    assert "Others" not in set(bunch.target) and "others" in set(bunch.target)

"""Spotting corpora: CAS(ME)^2 and SAMM Long Videos annotation sheets."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skmer.datasets import (
    annotation_intervals,
    load_casme_sq_annotations,
    load_samm_long_annotations,
)
from skmer.metrics import spotting_scores

CASME_SQ = "casme_sq_code_final.xlsx"
SAMM_LONG = "SAMM_LongVideos_V2_Release.xlsx"
STANDARD = ["dataset", "subject", "group", "video", "movement", "onset", "apex",
            "offset", "type", "fps", "duration_s"]


def _load(loader, *args, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        out = loader(*args, **kwargs)
    return out, [str(w.message) for w in record]


@pytest.fixture(scope="module")
def sheets(shared_data):
    path = shared_data / "annotations"
    if not ((path / CASME_SQ).is_file() and (path / SAMM_LONG).is_file()):
        pytest.skip(f"long-video annotation sheets ({CASME_SQ}, {SAMM_LONG}) absent "
                    f"under {path}")
    return path


def _check_common(ann, dataset, fps):
    assert list(ann.columns[:len(STANDARD)]) == STANDARD
    assert set(ann["dataset"]) == {dataset}
    assert (ann["fps"] == fps).all()
    for col in ("onset", "apex", "offset"):
        assert ann[col].dtype == np.int64, col
    assert (ann["onset"] >= 0).all() and (ann["onset"] <= ann["offset"]).all()
    known = ann["apex"] != -1
    assert ((ann.loc[known, "apex"] >= ann.loc[known, "onset"])
            & (ann.loc[known, "apex"] <= ann.loc[known, "offset"])).all()
    assert set(ann["type"]) == {"micro", "macro"}
    np.testing.assert_allclose(ann["duration_s"],
                               (ann["offset"] - ann["onset"] + 1) / fps)
    assert (ann["group"] == dataset + "/" + ann["subject"]).all()


# -- CAS(ME)^2 on the real sheet -------------------------------------------------------
def test_casme_sq_real_sheet_counts(sheets):
    ann, messages = _load(load_casme_sq_annotations, sheets / CASME_SQ)
    _check_common(ann, "casme_sq", 30)
    assert len(ann) == 357
    assert ann["type"].value_counts().to_dict() == {"macro": 300, "micro": 57}
    assert ann["subject"].nunique() == 22 and ann["video"].nunique() == 95
    micro = ann[ann["type"] == "micro"]
    assert micro["video"].nunique() == 33 and micro["subject"].nunique() == 14
    n_frames = micro["offset"] - micro["onset"] + 1
    assert (n_frames.min(), n_frames.max()) == (9, 17)
    assert int((micro["duration_s"] > 0.5).sum()) == 10
    assert ann["offset_source"].value_counts().to_dict() == {"sheet": 313,
                                                             "apex": 44}
    assert set(ann.loc[ann["offset_source"] == "apex", "type"]) == {"macro"}
    assert int((ann["apex"] == -1).sum()) == 4
    assert ann["emotion"].value_counts().to_dict() == {
        "negative": 126, "positive": 124, "others": 82, "surprise": 25}
    assert "happyiness" not in set(ann["self_report"])
    assert ann["self_report"].value_counts()["happiness"] == 147
    assert len(messages) == 3, messages
    assert "1 row(s) with apex 0" in messages[0]
    assert "44 row(s) with offset 0" in messages[1]
    assert "3 row(s) with an apex outside" in messages[2]


def test_casme_sq_naming_rules(sheets):
    ann, _ = _load(load_casme_sq_annotations, sheets / CASME_SQ)
    first = ann.iloc[0]
    assert (first["subject"], first["video"], first["movement"]) == (
        "s15", "15_0401", "anger1_1")
    assert (first["onset"], first["apex"], first["offset"]) == (557, 572, 608)
    assert first["action_units"] == "4+10+14+15"
    # subject index 11 -> s27; disgust1 -> 0101; apex 1230 after offset 1224
    row = ann[(ann["subject"] == "s27") & (ann["movement"] == "disgust1_5")].iloc[0]
    assert (row["video"], row["onset"], row["apex"], row["offset"]) == (
        "27_0101", 1221, -1, 1224)
    assert sorted(ann["subject"].unique())[:3] == ["s15", "s16", "s19"]
    assert ann["video"].str.fullmatch(r"\d{2}_0[1-5]0\d").all()


def test_casme_sq_drop_missing_offsets(sheets):
    ann, messages = _load(load_casme_sq_annotations, sheets / CASME_SQ,
                          missing_offset="drop")
    assert len(ann) == 313
    assert ann["type"].value_counts().to_dict() == {"macro": 256, "micro": 57}
    assert (ann["offset_source"] == "sheet").all()
    assert any("44 row(s) with offset 0 (not annotated) dropped" in m
               for m in messages)


def test_casme_sq_root_argument(sheets):
    ann, _ = _load(load_casme_sq_annotations, root=sheets)
    assert len(ann) == 357


# -- SAMM Long Videos on the real sheet ------------------------------------------------
def test_samm_long_real_sheet_counts(sheets):
    ann, messages = _load(load_samm_long_annotations, sheets / SAMM_LONG)
    _check_common(ann, "samm_long", 200)
    assert len(ann) == 502
    assert ann["type"].value_counts().to_dict() == {"macro": 343, "micro": 159}
    assert ann["subject"].nunique() == 30 and ann["video"].nunique() == 147
    micro = ann[ann["type"] == "micro"]
    assert micro["video"].nunique() == 79 and micro["subject"].nunique() == 29
    n_frames = micro["offset"] - micro["onset"] + 1
    assert (n_frames.min(), n_frames.max()) == (30, 101)
    assert int((micro["duration_s"] > 0.5).sum()) == 1
    assert int((ann["apex"] == -1).sum()) == 6
    assert ann["movement"].duplicated().sum() == 1  # 037_4_1, micro and macro
    assert set(ann.loc[ann["movement"] == "037_4_1", "type"]) == {"micro", "macro"}
    assert messages == ["samm_long: 178 row(s) with fractional frame numbers "
                        "rounded to the nearest frame."]


def test_samm_long_rows(sheets):
    ann, _ = _load(load_samm_long_annotations, sheets / SAMM_LONG)
    first = ann.iloc[0]  # 566.4 / 647.6 / 743.2 in the sheet
    assert (first["subject"], first["video"], first["movement"]) == (
        "006", "006_1", "006_1_1")
    assert (first["onset"], first["apex"], first["offset"]) == (566, 648, 743)
    assert first["type"] == "macro" and first["inducement"] == 1
    second = ann.iloc[1]
    assert (second["onset"], second["apex"], second["offset"], second["type"]) == (
        3562, 3588, 3632, "micro")
    assert second["action_units"] == "4+7"
    assert ann.iloc[2]["notes"] == "While blinking"
    assert (ann["video"] == ann["subject"] + "_" + ann["inducement"].astype(str)).all()


def test_real_ground_truth_scores_itself_perfectly(sheets):
    for loader, sheet in ((load_casme_sq_annotations, CASME_SQ),
                          (load_samm_long_annotations, SAMM_LONG)):
        ann, _ = _load(loader, sheets / sheet)
        truth = annotation_intervals(ann, type="micro")
        assert len(truth) == ann["video"].nunique()
        assert sum(map(len, truth.values())) == int((ann["type"] == "micro").sum())
        s = spotting_scores(truth, truth)
        assert s["f1"] == 1.0 and s["fp"] == 0 and s["fn"] == 0


# -- without the real data: small hand-made sheets -------------------------------------
def _casme_book(path, rows, *, rule1=None, rule2=None, sheets=None):
    code = pd.DataFrame(rows)
    rule1 = pd.DataFrame(rule1 or [(15, "s15", 1), (16, "s16", 2)])
    rule2 = pd.DataFrame(rule2 or [("0101", "disgust1"), ("0502", "happy1")])
    frames = {"CASFEcode_final": code, "naming rule1": rule1, "naming rule2": rule2}
    with pd.ExcelWriter(path) as writer:
        for name in sheets or frames:
            frames[name].to_excel(writer, sheet_name=name, header=False, index=False)
    return path


_CASME_ROWS = [
    (1, "disgust1_1", 100, 104, 112, "4+7", "negative", "micro-expression", "disgust"),
    (1, "happy1_1", 50, 60, 0, 12, "positive", "macro-expression", "happiness"),
    (2, "happy1_1", 70, 0, 90, "6+12", "positive", "macro-expression", "happyiness"),
    (2, "happy1_2", 300, 0, 0, None, "others", "macro-expression", "happiness"),
]


def test_casme_sq_small_sheet_fault_handling(tmp_path):
    path = _casme_book(tmp_path / "code.xlsx", _CASME_ROWS)
    ann, messages = _load(load_casme_sq_annotations, path)
    assert ann["movement"].tolist() == ["disgust1_1", "happy1_1", "happy1_1"]
    assert ann["video"].tolist() == ["15_0101", "15_0502", "16_0502"]
    assert ann[["onset", "apex", "offset"]].to_numpy().tolist() == [
        [100, 104, 112], [50, 60, 60], [70, -1, 90]]
    assert ann["offset_source"].tolist() == ["sheet", "apex", "sheet"]
    assert ann["type"].tolist() == ["micro", "macro", "macro"]
    assert ann["self_report"].tolist() == ["disgust", "happiness", "happiness"]
    assert ann["action_units"].tolist() == ["4+7", "12", "6+12"]
    assert ann["duration_s"].tolist() == pytest.approx([13 / 30, 11 / 30, 21 / 30])
    assert len(messages) == 3
    assert "2 row(s) with apex 0" in messages[0]
    assert "1 row(s) with neither offset nor apex annotated dropped" in messages[1]
    assert "1 row(s) with offset 0" in messages[2]


def test_casme_sq_missing_file_names_path_and_licence(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="licence-gated") as err:
        load_casme_sq_annotations(tmp_path / "nope.xlsx")
    assert str(tmp_path / "nope.xlsx") in str(err.value)
    monkeypatch.setenv("SKMER_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="Institute of Psychology") as err:
        load_casme_sq_annotations()
    assert str(tmp_path / "casme_sq" / CASME_SQ) in str(err.value)


def test_casme_sq_unexpected_sheets_and_columns(tmp_path):
    path = _casme_book(tmp_path / "a.xlsx", [r[:7] for r in _CASME_ROWS])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['type', "
                                         r"'self-reported emotion'\]"):
        load_casme_sq_annotations(path)
    path = _casme_book(tmp_path / "b.xlsx", _CASME_ROWS,
                       sheets=["CASFEcode_final", "naming rule2"])
    with pytest.raises(ValueError, match=r"lacks worksheet\(s\) \['naming rule1'\]"):
        load_casme_sq_annotations(path)
    rows = [_CASME_ROWS[0][:7] + ("tiny-expression",) + _CASME_ROWS[0][8:]]
    with pytest.raises(ValueError, match="unknown movement type"):
        load_casme_sq_annotations(_casme_book(tmp_path / "c.xlsx", rows))
    rows = [(3,) + _CASME_ROWS[0][1:]]
    with pytest.raises(ValueError, match=r"subject index\(es\) \[3\]"):
        load_casme_sq_annotations(_casme_book(tmp_path / "d.xlsx", rows))
    rows = [(1, "anger9_1") + _CASME_ROWS[0][2:]]
    with pytest.raises(ValueError, match="'anger9'"):
        load_casme_sq_annotations(_casme_book(tmp_path / "e.xlsx", rows))
    rows = [(1, "disgust1_1", "soon") + _CASME_ROWS[0][3:]]
    with pytest.raises(ValueError, match="numeric onset"):
        load_casme_sq_annotations(_casme_book(tmp_path / "f.xlsx", rows))
    with pytest.raises(ValueError, match="missing_offset"):
        load_casme_sq_annotations(path, missing_offset="guess")


def _samm_book(path, columns, rows, *, notes=3):
    head = [["SAMM Long Videos Dataset - FACS Codes"]] + [[None]] * (notes - 1)
    width = len(columns)
    table = pd.DataFrame([r + [None] * (width - len(r)) for r in head]
                         + [columns] + rows)
    table.to_excel(path, header=False, index=False)
    return path


_SAMM_COLUMNS = ["Subject", "Filename", "Inducement Code", "Onset", "Apex", "Offset",
                 "Duration", "Type", "Action Units", "Notes"]
_SAMM_ROWS = [
    ["006", "006_1_1", 1, 566.4, 647.6, 743.2, 177.8, "Macro", "4(B/C)+7B", None],
    ["006", "006_1_2", 1, 3562, -1, 3632, 71, "Micro - 1/2", 4, "Blinks"],
    ["7", "007_3_1", 3, 10, 20, 40, 31, "Micro - 1/2", "12", None],
]


def test_samm_long_small_sheet(tmp_path):
    path = _samm_book(tmp_path / "samm.xlsx", _SAMM_COLUMNS, _SAMM_ROWS)
    ann, messages = _load(load_samm_long_annotations, path)
    assert ann["subject"].tolist() == ["006", "006", "007"]
    assert ann["video"].tolist() == ["006_1", "006_1", "007_3"]
    assert ann[["onset", "apex", "offset"]].to_numpy().tolist() == [
        [566, 648, 743], [3562, -1, 3632], [10, 20, 40]]
    assert ann["type"].tolist() == ["macro", "micro", "micro"]
    assert ann["action_units"].tolist() == ["4(B/C)+7B", "4", "12"]
    assert messages == ["samm_long: 1 row(s) with fractional frame numbers "
                        "rounded to the nearest frame."]
    assert annotation_intervals(ann, type="macro") == {"006_1": [(566, 743)],
                                                       "007_3": []}


def test_samm_long_missing_file_and_columns(tmp_path):
    with pytest.raises(FileNotFoundError, match="Manchester Metropolitan") as err:
        load_samm_long_annotations(root=tmp_path)
    assert str(tmp_path / SAMM_LONG) in str(err.value)
    cols = [c for c in _SAMM_COLUMNS if c != "Type"]
    rows = [r[:7] + r[8:] for r in _SAMM_ROWS]
    path = _samm_book(tmp_path / "a.xlsx", cols, rows)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['Type'\]"):
        load_samm_long_annotations(path)
    path = tmp_path / "b.xlsx"
    pd.DataFrame(_SAMM_ROWS).to_excel(path, header=False, index=False)
    with pytest.raises(ValueError, match="no header row"):
        load_samm_long_annotations(path)
    rows = [r[:3] + [50, 60, 40] + r[6:] for r in _SAMM_ROWS[:1]]
    with pytest.raises(ValueError, match="offset < onset"):
        load_samm_long_annotations(_samm_book(tmp_path / "c.xlsx", _SAMM_COLUMNS,
                                              rows))


def test_annotation_intervals_checks():
    ann = pd.DataFrame({"video": ["b", "a", "a"], "onset": [5, 30, 10],
                        "offset": [9, 40, 14], "type": ["micro", "macro", "micro"]})
    assert annotation_intervals(ann) == {"a": [(10, 14), (30, 40)], "b": [(5, 9)]}
    with pytest.raises(ValueError, match="type must be one of"):
        annotation_intervals(ann, type="Micro")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['type'\]"):
        annotation_intervals(ann.drop(columns="type"), type="micro")

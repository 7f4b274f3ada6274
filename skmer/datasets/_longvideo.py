"""Annotation sheets of the long-video spotting corpora: CAS(ME)^2 and SAMM-LV.

Spotting corpora hold long recordings in which micro- and macro-expressions were
labelled as frame intervals.  These loaders read the corpora's own annotation sheets
(the videos themselves are licence-gated and never downloaded) and return one table
row per labelled movement, with integer frame numbers, so that the intervals can be
scored with :func:`skmer.metrics.spotting_scores`.  The counts measured on the real
sheets and every fault handled here are listed in ``docs/long_videos.md``.

CAS(ME)^2 is not CASME II (:func:`~skmer.datasets.load_casme2`): the corpus name is
"CAS(ME) squared", hence ``casme_sq`` (the release's own sheet is
``casme_sq_code_final.xlsx`` in skmer's development data).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from skmer.utils._data import get_data_home

__all__ = [
    "load_casme_sq_annotations",
    "load_samm_long_annotations",
    "annotation_intervals",
]

CASME_SQ_FPS = 30
SAMM_LONG_FPS = 200

# The CAS(ME)^2 code sheet has no header row: its columns, by position.
_CASME_SQ_COLUMNS = ["subject index", "movement", "onset", "apex", "offset",
                     "action units", "emotion", "type", "self-reported emotion"]
_CASME_SQ_SHEETS = ("CASFEcode_final", "naming rule1", "naming rule2")
_CASME_SQ_TYPES = {"micro-expression": "micro", "macro-expression": "macro"}

_SAMM_LONG_REQUIRED = ["Subject", "Filename", "Onset", "Apex", "Offset", "Type"]
_SAMM_LONG_TYPES = {"micro - 1/2": "micro", "micro": "micro", "macro": "macro"}

_STANDARD = ["dataset", "subject", "group", "video", "movement", "onset", "apex",
             "offset", "type", "fps", "duration_s"]

_SOURCES = {
    "casme_sq": ("CAS(ME)^2", "its owners at the Institute of Psychology, Chinese "
                 "Academy of Sciences (Qu et al. 2018), under their licence agreement"),
    "samm_long": ("SAMM Long Videos", "its owners at Manchester Metropolitan "
                  "University (Yap et al. 2020), under their licence agreement"),
}


# -- helpers ---------------------------------------------------------------------------
def _resolve_annotation(annotation, root, corpus, default):
    if annotation is None:
        root = get_data_home() / corpus if root is None else Path(root).expanduser()
        path = root / default
    else:
        path = Path(annotation).expanduser()
    if not path.is_file():
        title, source = _SOURCES[corpus]
        raise FileNotFoundError(
            f"{title} annotation sheet {str(path)!r} does not exist. {title} is "
            f"licence-gated and skmer never downloads it: obtain it from {source}, "
            f"then pass annotation=<path of {default}> or root=<folder holding it> "
            f"(default root: $SKMER_DATA/{corpus}, else ~/skmer_data/{corpus})."
        )
    return path


def _warn(n, message):
    if n:
        warnings.warn(message.format(n=n), UserWarning, stacklevel=3)


def _frames(values, name, path, rows):
    """Sheet cells as float frame numbers; a non-number is a ValueError."""
    num = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    bad = num.isna()
    if bad.any():
        first = [int(r) for r in rows[bad.to_numpy()][:5]]
        raise ValueError(
            f"Annotation sheet {str(path)!r}: {int(bad.sum())} row(s) without a "
            f"numeric {name} frame (sheet rows {first}).")
    return num.astype(float)


def _types(values, mapping, path):
    kind = values.astype("string").str.strip().str.lower().map(mapping)
    if kind.isna().any():
        unknown = sorted(set(values[kind.isna()].astype(str)))
        raise ValueError(
            f"Annotation sheet {str(path)!r}: unknown movement type(s) {unknown}; "
            f"expected {sorted(mapping)}.")
    return kind.astype(object)


def _text(values):
    """Cells as stripped strings (None where blank); AU codes like 4 stay '4'."""
    out = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return out.astype(object).where(out.notna(), None)


def _finish(df, corpus, fps):
    df.insert(0, "dataset", corpus)
    df.insert(2, "group", corpus + "/" + df["subject"])
    for col in ("onset", "apex", "offset"):
        df[col] = df[col].astype(np.int64)
    df["fps"] = fps
    df["duration_s"] = (df["offset"] - df["onset"] + 1) / fps
    extra = [c for c in df.columns if c not in _STANDARD]
    return df[_STANDARD + extra].reset_index(drop=True)


# -- CAS(ME)^2 -------------------------------------------------------------------------
def load_casme_sq_annotations(
    annotation: str | os.PathLike | None = None,
    *,
    root: str | os.PathLike | None = None,
    missing_offset: str = "apex",
) -> pd.DataFrame:
    """Load the CAS(ME)^2 spotting annotations (357 movements, 30 fps).

    Parses the release's code sheet (``casme_sq_code_final.xlsx``: worksheets
    ``CASFEcode_final``, ``naming rule1`` and ``naming rule2``).  The code sheet has
    no header row; its columns are subject index, movement name (``anger1_1``),
    onset, apex and offset frames, action units, estimated emotion, expression type
    and the participant's self-reported emotion.  The two naming worksheets map the
    subject index to the subject folder (``1 -> s15``) and the video name to its
    code (``disgust1 -> 0101``), so a movement ``disgust1_1`` of subject index 1 is
    in video ``15_0101`` (``rawvideo/s15/15_0101disgustingteeth.avi``).

    Measured on the real sheet: 357 movements (57 micro, 300 macro) of 22 subjects
    in 95 videos (videos with no labelled movement are not in the sheet); the
    micro-expressions lie in 33 videos of 14 subjects and last 9 to 17 frames
    (0.30 to 0.57 s: 10 of them are longer than 0.5 s).

    Faults of the sheet, each reported with a warning that gives the count:

    - an offset of 0 means "offset not annotated" (44 macro rows): with
      ``missing_offset="apex"`` the offset is set to the apex, as the MEGC2020
      spotting baseline does (flagged ``offset_source="apex"``); with ``"drop"``
      those rows are dropped;
    - an apex of 0 means "apex not annotated" (1 row): apex = -1;
    - an apex after the offset (3 rows, e.g. subject index 11 ``disgust1_5``:
      1221/1230/1224): the interval is kept as annotated and the apex set to -1.

    Parameters
    ----------
    annotation : str or path-like, default=None
        The workbook.  Default: ``<root>/casme_sq_code_final.xlsx``.
    root : str or path-like, default=None
        Folder holding the workbook when ``annotation`` is not given; default
        ``$SKMER_DATA/casme_sq``, else ``~/skmer_data/casme_sq``.
    missing_offset : {"apex", "drop"}, default="apex"
        What to do with the rows whose offset is 0 (not annotated).

    Returns
    -------
    annotations : pandas.DataFrame
        One row per labelled movement, in sheet order: ``dataset`` (``"casme_sq"``),
        ``subject`` (``"s15"``), ``group`` (``"casme_sq/s15"``), ``video``
        (``"15_0101"``), ``movement`` (the sheet's name, ``"disgust1_1"``; unique
        only within a subject), ``onset``, ``apex``, ``offset`` (int frame numbers
        of the sheet, counted from 1 as the frame files ``img1.jpg`` ...; apex -1
        where unknown), ``type`` (``"micro"`` or ``"macro"``, as labelled), ``fps``
        (30), ``duration_s`` (``(offset - onset + 1) / fps``), ``offset_source``
        (``"sheet"`` or ``"apex"``), ``action_units``, ``emotion`` (estimated:
        negative, positive, surprise, others) and ``self_report`` (the
        participant's own emotion word; the sheet's typo "happyiness" is read as
        "happiness").

    Raises
    ------
    FileNotFoundError
        If the workbook does not exist (the message names the path).
    ValueError
        If a worksheet or column is missing, or a cell cannot be parsed.

    See Also
    --------
    load_samm_long_annotations : The other spotting corpus.
    annotation_intervals : The ``{video: [(onset, offset), ...]}`` ground truth.

    References
    ----------
    .. [1] Qu, F., Wang, S.-J., Yan, W.-J., Li, H., Wu, S. and Fu, X. "CAS(ME)^2: a
       database for spontaneous macro-expression and micro-expression spotting and
       recognition." IEEE Trans. Affective Computing 9(4), 2018.
       :doi:`10.1109/TAFFC.2017.2654440`
    .. [2] He, Y., Wang, S.-J., Li, J. and Yap, M. H. "Spotting macro- and
       micro-expression intervals in long video sequences." FG 2020.
       :doi:`10.1109/FG47880.2020.00036`

    Examples
    --------
    >>> from skmer.datasets import load_casme_sq_annotations
    >>> ann = load_casme_sq_annotations("casme_sq_code_final.xlsx")  # doctest: +SKIP
    >>> ann["type"].value_counts().to_dict()  # doctest: +SKIP
    {'macro': 300, 'micro': 57}
    """
    if missing_offset not in ("apex", "drop"):
        raise ValueError(f"missing_offset must be one of ['apex', 'drop']; got "
                         f"{missing_offset!r}.")
    path = _resolve_annotation(annotation, root, "casme_sq", "casme_sq_code_final.xlsx")
    book = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    absent = [s for s in _CASME_SQ_SHEETS if s not in book]
    if absent:
        raise ValueError(
            f"Annotation sheet {str(path)!r} lacks worksheet(s) {absent}; found "
            f"{list(book)}. Expected the CAS(ME)^2 code workbook.")
    code, rule1, rule2 = (book[s] for s in _CASME_SQ_SHEETS)
    code = code.dropna(how="all")
    if code.shape[1] < len(_CASME_SQ_COLUMNS):
        raise ValueError(
            f"Annotation sheet {str(path)!r} (CASFEcode_final) lacks column(s) "
            f"{_CASME_SQ_COLUMNS[code.shape[1]:]}: expected the 9 columns "
            f"{_CASME_SQ_COLUMNS} (no header row); found {code.shape[1]}.")
    rows = code.index.to_numpy() + 1  # 1-based sheet rows, for messages
    index = _frames(code[0], "subject index", path, rows).astype(int)
    onset = _frames(code[2], "onset", path, rows)
    apex = _frames(code[3], "apex", path, rows)
    offset = _frames(code[4], "offset", path, rows)

    rule1 = rule1.dropna(how="all")
    subject_of = dict(zip(pd.to_numeric(rule1[2]).astype(int),
                          rule1[1].astype(str).str.strip()))
    missing = sorted(set(index) - set(subject_of))
    if missing:
        raise ValueError(f"Annotation sheet {str(path)!r}: subject index(es) "
                         f"{missing} are not in the worksheet 'naming rule1'.")
    subject = index.map(subject_of).astype(object)

    rule2 = rule2.dropna(how="all")
    code_of = dict(zip(rule2[1].astype(str).str.strip(),
                       pd.to_numeric(rule2[0]).astype(int)))
    movement = code[1].astype(str).str.strip()
    name = movement.str.extract(r"^(.*)_\d+$", expand=False)
    unknown = sorted(set(name[~name.isin(list(code_of))].fillna("?")))
    if unknown:
        raise ValueError(f"Annotation sheet {str(path)!r}: video name(s) {unknown} "
                         f"of the movement names are not in the worksheet 'naming "
                         f"rule2' ({sorted(code_of)}).")
    video = (subject.str.replace(r"^s", "", regex=True) + "_"
             + name.map(code_of).map("{:04d}".format)).astype(object)

    df = pd.DataFrame({
        "subject": subject, "video": video, "movement": movement.astype(object),
        "onset": onset, "apex": apex, "offset": offset,
        "type": _types(code[7], _CASME_SQ_TYPES, path),
        "offset_source": "sheet",
        "action_units": _text(code[5]),
        "emotion": _text(code[6]).str.lower(),
        "self_report": _text(code[8]).str.lower().replace({"happyiness": "happiness"}),
    }, index=code.index)

    no_apex = df["apex"] == 0
    df.loc[no_apex, "apex"] = -1
    _warn(int(no_apex.sum()), "casme_sq: {n} row(s) with apex 0 (not annotated): "
          "apex set to -1.")
    no_offset = df["offset"] == 0
    if missing_offset == "drop":
        _warn(int(no_offset.sum()), "casme_sq: {n} row(s) with offset 0 (not "
              "annotated) dropped (missing_offset='drop').")
        df = df[~no_offset].copy()
    else:
        neither = no_offset & no_apex
        _warn(int(neither.sum()), "casme_sq: {n} row(s) with neither offset nor "
              "apex annotated dropped.")
        df = df[~neither].copy()
        no_offset = df["offset"] == 0
        df.loc[no_offset, "offset"] = df.loc[no_offset, "apex"]
        df.loc[no_offset, "offset_source"] = "apex"
        _warn(int(no_offset.sum()), "casme_sq: {n} row(s) with offset 0 (not "
              "annotated): offset set to the apex (offset_source='apex').")
    outside = (df["apex"] != -1) & ((df["apex"] < df["onset"])
                                    | (df["apex"] > df["offset"]))
    df.loc[outside, "apex"] = -1
    _warn(int(outside.sum()), "casme_sq: {n} row(s) with an apex outside "
          "onset..offset: interval kept as annotated, apex set to -1.")
    bad = df["offset"] < df["onset"]
    if bad.any():
        raise ValueError(f"Annotation sheet {str(path)!r}: {int(bad.sum())} row(s) "
                         f"with offset < onset, e.g. movement "
                         f"{df.loc[bad, 'movement'].iloc[0]!r}.")
    return _finish(df, "casme_sq", CASME_SQ_FPS)


# -- SAMM Long Videos ------------------------------------------------------------------
def load_samm_long_annotations(
    annotation: str | os.PathLike | None = None,
    *,
    root: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Load the SAMM Long Videos spotting annotations (502 movements, 200 fps).

    Parses the release's sheet ``SAMM_LongVideos_V2_Release.xlsx`` (first
    worksheet, ``FACS_Movement_Only``).  The header row (``Subject, Filename,
    Inducement Code, Onset, Apex, Offset, Duration, Type, Action Units, Notes``) is
    found below the sheet's notes (row 10 of the release).  A movement
    ``006_1_2`` is in video ``006_1`` (subject 006, inducement 1).

    Measured on the real sheet: 502 movements (159 micro, 343 macro) of 30
    subjects in 147 videos; the micro-expressions lie in 79 videos of 29 subjects
    and last 30 to 101 frames (0.15 to 0.505 s; one is longer than 0.5 s).

    Sheet conventions and faults:

    - type "Micro - 1/2" (micro, at most about 1/2 s) reads ``"micro"``, "Macro"
      reads ``"macro"``;
    - an apex of -1 means "apex not annotated" (6 rows) and is kept as -1;
    - 178 macro rows have fractional frame numbers (``566.4``): they are rounded
      to the nearest frame, with a warning giving the count;
    - the movement name ``037_4_1`` is used twice (a micro and a macro interval on
      nearly the same frames, AU 24); both rows are kept as annotated;
    - the ``Duration`` column (a formula, offset - onset + 1) is recomputed as
      ``duration_s``.

    Parameters
    ----------
    annotation : str or path-like, default=None
        The workbook.  Default: ``<root>/SAMM_LongVideos_V2_Release.xlsx``.
    root : str or path-like, default=None
        Folder holding the workbook when ``annotation`` is not given; default
        ``$SKMER_DATA/samm_long``, else ``~/skmer_data/samm_long``.

    Returns
    -------
    annotations : pandas.DataFrame
        One row per labelled movement, in sheet order: ``dataset``
        (``"samm_long"``), ``subject`` (``"006"``), ``group`` (``"samm_long/006"``),
        ``video`` (``"006_1"``), ``movement`` (the sheet's Filename), ``onset``,
        ``apex``, ``offset`` (int frame numbers of the sheet, apex -1 where
        unknown), ``type`` (``"micro"`` or ``"macro"``, as labelled), ``fps`` (200),
        ``duration_s`` (``(offset - onset + 1) / fps``), ``inducement`` (the
        stimulus number), ``action_units`` (FACS codes as text) and ``notes``.
        SAMM-LV has no emotion labels.

    Raises
    ------
    FileNotFoundError
        If the workbook does not exist (the message names the path).
    ValueError
        If the header row or a required column is missing, or a cell cannot be
        parsed.

    See Also
    --------
    load_casme_sq_annotations : The other spotting corpus.
    annotation_intervals : The ``{video: [(onset, offset), ...]}`` ground truth.

    References
    ----------
    .. [1] Yap, C. H., Kendrick, C. and Yap, M. H. "SAMM Long Videos: a spontaneous
       facial micro- and macro-expressions dataset." IEEE International Conference
       on Automatic Face and Gesture Recognition (FG), 2020.

    Examples
    --------
    >>> from skmer.datasets import load_samm_long_annotations
    >>> ann = load_samm_long_annotations(  # doctest: +SKIP
    ...     "SAMM_LongVideos_V2_Release.xlsx")
    >>> ann["type"].value_counts().to_dict()  # doctest: +SKIP
    {'macro': 343, 'micro': 159}
    """
    path = _resolve_annotation(annotation, root, "samm_long",
                               "SAMM_LongVideos_V2_Release.xlsx")
    raw = pd.read_excel(path, sheet_name=0, header=None, dtype=object)
    cells = raw.apply(lambda col: col.astype("string").str.strip())
    header = [i for i in range(min(len(raw), 40))
              if {"Subject", "Filename"} <= set(cells.iloc[i].dropna())]
    if not header:
        raise ValueError(
            f"Annotation sheet {str(path)!r}: no header row with the columns "
            f"{_SAMM_LONG_REQUIRED} in its first 40 rows.")
    h = header[0]
    sheet = raw.iloc[h + 1:].copy()
    sheet.columns = [str(c).strip() if pd.notna(c) else f"unnamed_{j}"
                     for j, c in enumerate(raw.iloc[h])]
    missing = [c for c in _SAMM_LONG_REQUIRED if c not in sheet.columns]
    if missing:
        raise ValueError(
            f"Annotation sheet {str(path)!r} lacks column(s) {missing}; found "
            f"{[c for c in sheet.columns if not c.startswith('unnamed_')]}.")
    sheet = sheet.dropna(how="all")
    rows = sheet.index.to_numpy() + 1
    frames = {c.lower(): _frames(sheet[c], c.lower(), path, rows)
              for c in ("Onset", "Apex", "Offset")}
    fractional = np.zeros(len(sheet), bool)
    for col, values in frames.items():
        fractional |= (values % 1 != 0).to_numpy()
        frames[col] = np.floor(values + 0.5)
    _warn(int(fractional.sum()), "samm_long: {n} row(s) with fractional frame "
          "numbers rounded to the nearest frame.")

    subject = pd.to_numeric(sheet["Subject"], errors="coerce")
    subject = (subject.astype("Int64").astype("string").str.zfill(3)
               .fillna(_text(sheet["Subject"]))).astype(object)
    movement = sheet["Filename"].astype("string").str.strip()
    video = movement.str.extract(r"^(.*)_\d+$", expand=False)
    if video.isna().any():
        bad = movement[video.isna()].tolist()[:5]
        raise ValueError(f"Annotation sheet {str(path)!r}: Filename(s) {bad} are not "
                         "<video>_<number>.")
    df = pd.DataFrame({
        "subject": subject, "video": video.astype(object),
        "movement": movement.astype(object), **frames,
        "type": _types(sheet["Type"], _SAMM_LONG_TYPES, path),
    }, index=sheet.index)
    if "Inducement Code" in sheet:
        df["inducement"] = pd.to_numeric(sheet["Inducement Code"],
                                         errors="coerce").astype("Int64")
    for src, dst in (("Action Units", "action_units"), ("Notes", "notes")):
        if src in sheet:
            df[dst] = _text(sheet[src])
    bad = (df["offset"] < df["onset"]) | (df["onset"] < 0)
    if bad.any():
        raise ValueError(f"Annotation sheet {str(path)!r}: {int(bad.sum())} row(s) "
                         f"with offset < onset or a negative onset, e.g. "
                         f"{df.loc[bad, 'movement'].iloc[0]!r}.")
    outside = (df["apex"] != -1) & ((df["apex"] < df["onset"])
                                    | (df["apex"] > df["offset"]))
    df.loc[outside, "apex"] = -1
    _warn(int(outside.sum()), "samm_long: {n} row(s) with an apex outside "
          "onset..offset: apex set to -1.")
    return _finish(df, "samm_long", SAMM_LONG_FPS)


# -- ground truth for the spotting metric ----------------------------------------------
def annotation_intervals(
    annotations: pd.DataFrame, *, type: str | None = None
) -> dict[str, list[tuple[int, int]]]:
    """Ground-truth intervals per video, the input of the spotting metric.

    Parameters
    ----------
    annotations : pandas.DataFrame
        A table with columns ``video``, ``onset``, ``offset`` (and ``type`` when
        ``type`` is given), such as :func:`load_casme_sq_annotations` returns.
    type : {"micro", "macro"}, default=None
        Keep only the movements of this type.  Every video of ``annotations``
        stays a key (with an empty list when it has none of that type), so that
        predictions on it count as false positives rather than being refused.

    Returns
    -------
    intervals : dict of str to list of (int, int)
        ``{video: [(onset, offset), ...]}``, videos and intervals sorted.

    See Also
    --------
    skmer.metrics.spotting_scores : Scores predictions against these intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmer.datasets import annotation_intervals
    >>> ann = pd.DataFrame({"video": ["v1", "v1", "v2"], "onset": [30, 10, 5],
    ...                     "offset": [40, 14, 9],
    ...                     "type": ["macro", "micro", "macro"]})
    >>> annotation_intervals(ann, type="micro")
    {'v1': [(10, 14)], 'v2': []}
    """
    need = ["video", "onset", "offset"] + (["type"] if type is not None else [])
    missing = [c for c in need if c not in annotations.columns]
    if missing:
        raise ValueError(f"annotations lacks column(s) {missing}.")
    if type is not None and type not in ("micro", "macro"):
        raise ValueError(f"type must be one of ['micro', 'macro', None]; got {type!r}.")
    keep = (annotations["type"] == type) if type is not None else \
        pd.Series(True, index=annotations.index)
    out = {str(v): [] for v in sorted(set(annotations["video"].astype(str)))}
    for v, on, off in zip(annotations.loc[keep, "video"],
                          annotations.loc[keep, "onset"],
                          annotations.loc[keep, "offset"]):
        out[str(v)].append((int(on), int(off)))
    return {v: sorted(iv) for v, iv in out.items()}


"""Loaders of the local copies of the micro-expression corpora.

CASME II, SAMM, SMIC-HS, CAS(ME)^3 part A and MMEW are released under signed research
licence agreements: skmer never downloads them.  Each loader reads the user's local
copy: it parses the corpus' own annotation sheet, checks that every clip folder exists
and returns lazy :class:`~skmer.datasets.Clip` objects (nothing is decoded until a
clip's frames are used).  The expected directory trees and every annotation fault
handled here are listed in ``docs/datasets.md``.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skmer._core._clip import IMAGE_EXTENSIONS, Clip, ClipSequence
from skmer.utils._data import get_data_home

__all__ = ["load_casme2", "load_samm", "load_smic", "load_casme3", "load_mmew"]

MEGC2019_CLASSES = ["negative", "positive", "surprise"]

# Native emotion -> MEGC2019 3-class name; emotions not listed are excluded.
_MEGC2019_MAPS = {
    # MEGC2019 (See et al. 2019) used repression + disgust only; fear and sadness
    # are excluded like "others" (the composite holds none of them).
    "casme2": {"repression": "negative", "disgust": "negative",
               "happiness": "positive", "surprise": "surprise"},
    "samm": {"anger": "negative", "contempt": "negative", "disgust": "negative",
             "fear": "negative", "sadness": "negative", "happiness": "positive",
             "surprise": "surprise"},
    "smic": {"negative": "negative", "positive": "positive", "surprise": "surprise"},
    # Not part of MEGC2019: the same rule as SAMM (equals the sheet's label_for_3).
    "casme3": {"anger": "negative", "disgust": "negative", "fear": "negative",
               "sad": "negative", "happy": "positive", "surprise": "surprise"},
    "mmew": {"anger": "negative", "disgust": "negative", "fear": "negative",
             "sadness": "negative", "happiness": "positive", "surprise": "surprise"},
}

_SMIC_NATIVE = {"0": "negative", "1": "positive", "2": "surprise"}
_SMIC_FOLDER = {"ne": "negative", "po": "positive", "sur": "surprise"}


# -- helpers ---------------------------------------------------------------------------
def _resolve_root(root, corpus, layout_doc):
    root = get_data_home() / corpus if root is None else Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"{corpus} root folder {str(root)!r} does not exist. skmer never downloads "
            f"the licence-gated corpora: obtain {corpus} from its owners and place it "
            f"there (or pass root=..., or set $SKMER_DATA). Expected layout: "
            f"{layout_doc}"
        )
    return root


def _resolve_sheet(root, annotation, default, corpus):
    path = root / default if annotation is None else Path(annotation).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"{corpus} annotation sheet {str(path)!r} does not exist (expected "
            f"{default!r} inside the corpus root, or pass annotation=<path>)."
        )
    return path


def _first_dir(root, candidates, corpus, what):
    for rel in candidates:
        path = root / rel
        if path.is_dir():
            return path
    expected = ", ".join(repr(str(root / rel)) for rel in candidates)
    raise FileNotFoundError(
        f"{corpus} {what} folder not found: expected one of {expected}."
    )


def _numeric(series):
    """Sheet cells as float (NaN for blanks, '/', '-', text)."""
    return pd.to_numeric(series.astype("string").str.strip(), errors="coerce")


def _warn(n, message):
    if n:
        warnings.warn(message.format(n=n), UserWarning, stacklevel=4)


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}; got {value!r}.")


def _detect_extension(folders, stems, numbers, pad, default):
    """Extension of the frame files, probed on the first existing clip folder."""
    for folder, stem, n in zip(folders, stems, numbers):
        if os.path.isdir(folder):
            for ext in (default,) + tuple(e for e in IMAGE_EXTENSIONS if e != default):
                for e in (ext, ext.upper()):
                    if os.path.isfile(os.path.join(folder, f"{stem}{n:0{pad}d}{e}")):
                        return e
            break
    return default


def _last_frame_in_folder(folder, stem, ext):
    pattern = re.compile(re.escape(stem) + r"(\d+)" + re.escape(ext) + "$",
                         re.IGNORECASE)
    numbers = [int(m.group(1)) for e in os.scandir(folder)
               if (m := pattern.match(e.name))]
    return max(numbers) if numbers else np.nan


def _assemble(df, *, corpus, fps, base, default_ext, pad, labels, emotions, color,
              on_missing, missing_offset, return_X_y, descr, select=None):
    """Turn normalised sheet rows into the loader's Bunch.

    ``df`` holds the standard columns ``subject, clip, id, onset, apex, offset,
    emotion, folder, stem`` (numbers as float, NaN where the sheet has none) followed
    by the original sheet columns.  ``select`` (a DataFrame with ``subject, clip``)
    restricts the rows before any filesystem access (used by ``load_megc2019``).
    """
    _check_choice("labels", labels, ("native", "megc2019"))
    _check_choice("color", color, ("grey", "rgb"))
    _check_choice("on_missing", on_missing, ("raise", "skip"))
    df = df.copy()
    df.insert(0, "dataset", corpus)
    df.insert(3, "group", corpus + "/" + df["subject"])

    dup = df.duplicated("id", keep="first")
    _warn(int(dup.sum()), f"{corpus}: {{n}} duplicated sheet row(s) (same clip id) "
          "dropped; the first occurrence is kept.")
    df = df[~dup]

    if labels == "megc2019":
        df["target"] = df["emotion"].map(_MEGC2019_MAPS[corpus])
        df = df[df["target"].notna()]
        allowed = MEGC2019_CLASSES
    else:
        df["target"] = df["emotion"]
        allowed = sorted(df["target"].unique())
    if emotions is not None:
        emotions = [emotions] if isinstance(emotions, str) else list(emotions)
        unknown = [e for e in emotions if e not in allowed]
        if unknown:
            raise ValueError(
                f"Unknown {corpus} label(s) {unknown} for labels={labels!r}; allowed: "
                f"{allowed}."
            )
        df = df[df["target"].isin(emotions)]

    if select is not None:
        keys = pd.MultiIndex.from_frame(select[["subject", "clip"]].astype(str))
        have = pd.MultiIndex.from_frame(df[["subject", "clip"]])
        absent = keys[~keys.isin(have)]
        if len(absent):
            raise ValueError(
                f"{corpus}: {len(absent)} clip(s) of the requested list are not in "
                f"the annotation sheet (or not under labels={labels!r}), e.g. "
                f"{corpus}/{absent[0][0]}/{absent[0][1]}."
            )
        df = df[have.isin(keys)]

    no_onset = df["onset"].isna()
    _warn(int(no_onset.sum()), f"{corpus}: {{n}} sheet row(s) without a numeric onset "
          "frame dropped.")
    df = df[~no_onset].copy()

    # one existence check per clip folder
    df["path"] = [os.path.join(base, f) for f in df["folder"]]
    exists = np.fromiter((os.path.isdir(p) for p in df["path"]), bool, len(df))
    if not exists.all():
        missing = df.loc[~exists, "path"].tolist()
        first = df.loc[~exists, "id"].iloc[0]
        if on_missing == "raise":
            hint = ("" if select is not None else " (pass on_missing='skip' to load "
                    "the clips that are present)")
            raise FileNotFoundError(
                f"{corpus}: {len(missing)} clip folder(s) of the annotation sheet are "
                f"missing from the local copy, e.g. clip {first} expected at "
                f"{missing[0]!r}{hint}."
            )
        _warn(len(missing), f"{corpus}: {{n}} clip folder(s) missing from the local "
              f"copy skipped, e.g. {missing[0]!r}.")
        df = df[exists].copy()

    ext = _detect_extension(df["path"], df["stem"], df["onset"].astype(int), pad,
                            default_ext)

    # offsets: missing, zero or before the onset
    bad_off = df["offset"].isna() | (df["offset"] < df["onset"])
    df["offset_source"] = "sheet"
    if bad_off.any():
        if missing_offset == "folder":
            df.loc[bad_off, "offset"] = [
                _last_frame_in_folder(p, s, ext)
                for p, s in zip(df.loc[bad_off, "path"], df.loc[bad_off, "stem"])
            ]
            df.loc[bad_off, "offset_source"] = "folder"
            _warn(int(bad_off.sum()), f"{corpus}: {{n}} sheet row(s) without a valid "
                  "offset frame: offset set to the last frame of the clip folder "
                  "(offset_source='folder').")
            unusable = df["offset"].isna() | (df["offset"] < df["onset"])
        else:
            unusable = bad_off
        _warn(int(unusable.sum()), f"{corpus}: {{n}} sheet row(s) with a missing, "
              "zero or pre-onset offset frame dropped.")
        df = df[~unusable].copy()

    # apex: missing ('/') or outside onset..offset
    if "apex_source" not in df:
        df["apex_source"] = "sheet"
    bad_apex = (df["apex"].isna() | (df["apex"] < df["onset"])
                | (df["apex"] > df["offset"]))
    df.loc[bad_apex, "apex"] = np.floor((df.loc[bad_apex, "onset"]
                                         + df.loc[bad_apex, "offset"]) / 2)
    df.loc[bad_apex, "apex_source"] = "midpoint"
    _warn(int(bad_apex.sum()), f"{corpus}: {{n}} sheet row(s) with a missing apex or "
          "an apex outside onset..offset: apex set to the midpoint of onset and "
          "offset (apex_source='midpoint').")

    for col in ("onset", "apex", "offset"):
        df[col] = df[col].astype(np.int64)
    df = df.reset_index(drop=True)

    if labels == "megc2019":
        target_names = list(MEGC2019_CLASSES)
        target = df["target"].map({n: i for i, n in enumerate(target_names)})
        target = target.to_numpy(dtype=np.int64)
    else:
        target_names = sorted(df["target"].unique())
        target = df["target"].to_numpy(dtype=object)

    onset, apex, offset = (df[c].to_numpy() for c in ("onset", "apex", "offset"))
    clips = []
    for i, (path, stem, o, a, f) in enumerate(
            zip(df["path"], df["stem"], onset, apex, offset)):
        clips.append(Clip(
            source=path,
            frame_files=[f"{stem}{n:0{pad}d}{ext}" for n in range(o, f + 1)],
            color=color, onset=0, apex=int(a - o), offset=int(f - o), fps=fps,
            id=df.at[i, "id"], subject=df.at[i, "group"], dataset=corpus,
            label=target[i],
        ))
    X = ClipSequence(clips)
    groups = df["group"].to_numpy(dtype=object)
    if return_X_y:
        return X, target, groups
    frame = df.drop(columns=["folder", "stem"])
    std = ["dataset", "subject", "clip", "group", "id", "onset", "apex", "offset",
           "apex_source", "offset_source", "emotion", "target", "path"]
    frame = frame[std + [c for c in frame.columns if c not in std]]
    return Bunch(
        data=X, target=target, target_names=target_names, groups=groups,
        datasets=df["dataset"].to_numpy(dtype=object), onset=onset, apex=apex,
        offset=offset, paths=df["path"].to_numpy(dtype=object), DESCR=descr,
        frame=frame,
    )


_ADDED_COLUMNS = ("dataset", "group", "target", "path", "apex_source", "offset_source")


def _standard(sheet, **cols):
    """Put the standard columns first, then the sheet's own (suffix on clash)."""
    std = pd.DataFrame(cols, index=sheet.index)
    reserved = set(std.columns) | set(_ADDED_COLUMNS)
    orig = sheet.rename(columns={c: f"{c}_sheet" for c in sheet.columns
                                 if c in reserved})
    return pd.concat([std, orig], axis=1)


def _read_table(path, **kwargs):
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return pd.read_excel(path, dtype=str, **kwargs)
    return pd.read_csv(path, dtype=str)


def _require_columns(sheet, columns, path):
    missing = [c for c in columns if c not in sheet.columns]
    if missing:
        raise ValueError(
            f"Annotation sheet {str(path)!r} lacks column(s) {missing}; found "
            f"{list(sheet.columns)}."
        )


def _strip(series):
    return series.astype("string").str.strip().astype(object)


_COMMON_PARAMS = """labels : {"native", "megc2019"}, default="native"
        ``"native"``: the sheet's own emotion names (lower-cased).  ``"megc2019"``:
        the MEGC2019 3-class mapping, target ``0/1/2`` for
        ``["negative", "positive", "surprise"]``; emotions outside it are dropped.
    emotions : str or list of str, default=None
        Keep only these labels (names in the chosen ``labels`` scheme).  A name that
        does not exist raises a ``ValueError`` listing the allowed ones.
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of a Bunch.
    color : {"grey", "rgb"}, default="grey"
        How the lazy clips decode their frames.
    on_missing : {"raise", "skip"}, default="raise"
        What to do when a clip folder of the sheet is missing from the local copy:
        raise ``FileNotFoundError`` naming it, or skip it with a warning."""

_RETURNS = """data : Bunch
        ``data`` (:class:`~skmer.datasets.ClipSequence` of lazy clips, frames
        ``onset..offset``, clip ``onset=0``, ``apex`` relative to the onset),
        ``target``, ``target_names``, ``groups`` (dataset-qualified subjects),
        ``datasets``, ``onset``/``apex``/``offset`` (absolute frame numbers of the
        sheet, after fault handling), ``paths`` (clip folders), ``DESCR`` and
        ``frame`` (DataFrame of the parsed sheet rows: standard columns, the flags
        ``apex_source``/``offset_source``, then the original sheet columns).
    (X, y, groups) : tuple
        If ``return_X_y`` is True."""


def _doc(func):
    if func.__doc__ is None:  # python -OO
        return func
    func.__doc__ = func.__doc__.replace("%(common)s", _COMMON_PARAMS).replace(
        "%(returns)s", _RETURNS)
    return func


# -- CASME II --------------------------------------------------------------------------
_CASME2_VERSIONS = {  # version -> (folder, frame file stem)
    "raw_selected": ("CASME2_RAW_selected", "img"),
    "raw": ("CASME2-RAW", "img"),
    "cropped": ("Cropped", "reg_img"),
}
_CASME2_LAYOUT = ("<root>/CASME2-coding-20140508.xlsx and "
                  "<root>/CASME2_RAW_selected/sub01/EP02_01f/img46.jpg (or CASME2-RAW/"
                  "..., or Cropped/sub01/EP02_01f/reg_img46.jpg)")


@_doc
def load_casme2(
    root: str | os.PathLike | None = None,
    *,
    labels: str = "native",
    emotions: str | list[str] | None = None,
    return_X_y: bool = False,
    color: str = "grey",
    on_missing: str = "raise",
    version: str = "auto",
    annotation: str | os.PathLike | None = None,
) -> Bunch | tuple[ClipSequence, np.ndarray, np.ndarray]:
    """Load the local copy of CASME II (255 samples, 26 subjects, 200 fps).

    Expected layout (``root`` defaults to ``get_data_home() / "casme2"``)::

        <root>/CASME2-coding-20140508.xlsx
        <root>/CASME2_RAW_selected/sub01/EP02_01f/img46.jpg ... img86.jpg
        <root>/CASME2-RAW/sub01/EP02_01f/img1.jpg ...            (version="raw")
        <root>/Cropped/sub01/EP02_01f/reg_img46.jpg ...          (version="cropped")

    Frames are named by their absolute frame number, so a clip is the frames
    ``OnsetFrame..OffsetFrame`` of the sheet.

    Parameters
    ----------
    root : str or path-like, default=None
        The corpus root.
    %(common)s
    version : {"auto", "raw_selected", "raw", "cropped"}, default="auto"
        Which frame folder to read; ``"auto"`` takes the first present in that order.
    annotation : str or path-like, default=None
        The coding sheet (default ``<root>/CASME2-coding-20140508.xlsx``).

    Returns
    -------
    %(returns)s

    References
    ----------
    .. [1] Yan, W.-J. et al. "CASME II: An improved spontaneous micro-expression
       database and the baseline evaluation." PLoS ONE 9(1), 2014.
       :doi:`10.1371/journal.pone.0086041`

    Examples
    --------
    >>> from skmer.datasets import load_casme2
    >>> casme2 = load_casme2("~/data/casme2")  # doctest: +SKIP
    >>> len(casme2.data), len(set(casme2.groups))  # doctest: +SKIP
    (255, 26)
    """
    df, spec = _parse_casme2(root, annotation=annotation, version=version)
    return _assemble(df, **spec, labels=labels, emotions=emotions, color=color,
                     on_missing=on_missing, return_X_y=return_X_y)


def _parse_casme2(root, *, version, annotation):
    """Parse the casme2 sheet into standard rows; find the frame tree."""
    root = _resolve_root(root, "casme2", _CASME2_LAYOUT)
    sheet_path = _resolve_sheet(root, annotation, "CASME2-coding-20140508.xlsx",
                                "casme2")
    _check_choice("version", version, ("auto",) + tuple(_CASME2_VERSIONS))
    versions = list(_CASME2_VERSIONS) if version == "auto" else [version]
    base = _first_dir(root, [_CASME2_VERSIONS[v][0] for v in versions], "casme2",
                      "frame")
    stem = {_CASME2_VERSIONS[v][0]: _CASME2_VERSIONS[v][1] for v in versions}[
        base.name]
    sheet = _read_table(sheet_path, sheet_name=0)
    _require_columns(sheet, ["Subject", "Filename", "OnsetFrame", "ApexFrame",
                             "OffsetFrame", "Estimated Emotion"], sheet_path)
    sheet = sheet.dropna(how="all")
    num = _numeric(sheet["Subject"])
    subject = "sub" + num.astype("Int64").astype("string").str.zfill(2)
    subject = subject.fillna(_strip(sheet["Subject"])).astype(object)
    clip = _strip(sheet["Filename"])
    df = _standard(
        sheet, subject=subject, clip=clip, id="casme2/" + subject + "/" + clip,
        onset=_numeric(sheet["OnsetFrame"]), apex=_numeric(sheet["ApexFrame"]),
        offset=_numeric(sheet["OffsetFrame"]),
        emotion=_strip(sheet["Estimated Emotion"]).str.lower(),
        folder=subject + os.sep + clip, stem=stem,
    )
    return df, dict(corpus="casme2", fps=200, base=base, default_ext=".jpg", pad=0,
                    missing_offset="drop", descr=_DESCR["casme2"])


# -- SAMM ------------------------------------------------------------------------------
_SAMM_LAYOUT = ("<root>/SAMM.xlsx (sheet MICRO_ONLY) and "
                "<root>/SAMM/006/006_1_2/006_05562.jpg")


@_doc
def load_samm(
    root: str | os.PathLike | None = None,
    *,
    labels: str = "native",
    emotions: str | list[str] | None = None,
    return_X_y: bool = False,
    color: str = "grey",
    on_missing: str = "raise",
    annotation: str | os.PathLike | None = None,
    sheet_name: str = "MICRO_ONLY",
) -> Bunch | tuple[ClipSequence, np.ndarray, np.ndarray]:
    """Load the local copy of SAMM (159 micro-expressions, 29 subjects, 200 fps).

    Expected layout (``root`` defaults to ``get_data_home() / "samm"``)::

        <root>/SAMM.xlsx                                 (sheet "MICRO_ONLY")
        <root>/SAMM/006/006_1_2/006_05562.jpg ... 006_05632.jpg

    The ``SAMM`` level may be omitted (``<root>/006/006_1_2/...``).  Frame files are
    ``<subject>_<frame number, 5 digits>.jpg``; a clip is ``Onset..Offset Frame``.
    Native labels are the sheet's "Estimated Emotion" (lower-cased); the MEGC2019
    mapping is anger, contempt, disgust, fear, sadness -> negative, happiness ->
    positive, surprise -> surprise, other excluded (it reproduces the composite's
    92/26/15 exactly).

    Parameters
    ----------
    root : str or path-like, default=None
        The corpus root.
    %(common)s
    annotation : str or path-like, default=None
        The sheet (default ``<root>/SAMM.xlsx``).
    sheet_name : str, default="MICRO_ONLY"
        The worksheet to parse.

    Returns
    -------
    %(returns)s

    References
    ----------
    .. [1] Davison, A. K. et al. "SAMM: A spontaneous micro-facial movement
       dataset." IEEE Trans. Affective Computing 9(1), 2018.
       :doi:`10.1109/TAFFC.2016.2573832`

    Examples
    --------
    >>> from skmer.datasets import load_samm
    >>> X, y, groups = load_samm("~/data/samm", return_X_y=True)  # doctest: +SKIP
    >>> len(X)  # doctest: +SKIP
    159
    """
    df, spec = _parse_samm(root, annotation=annotation, sheet_name=sheet_name)
    return _assemble(df, **spec, labels=labels, emotions=emotions, color=color,
                     on_missing=on_missing, return_X_y=return_X_y)


def _parse_samm(root, *, annotation, sheet_name):
    """Parse the samm sheet into standard rows; find the frame tree."""
    root = _resolve_root(root, "samm", _SAMM_LAYOUT)
    sheet_path = _resolve_sheet(root, annotation, "SAMM.xlsx", "samm")
    base = _first_dir(root, ["SAMM", "."], "samm", "frame")
    sheet = _read_table(sheet_path, sheet_name=sheet_name)
    _require_columns(sheet, ["Subject", "Filename", "Onset Frame", "Apex Frame",
                             "Offset Frame", "Estimated Emotion"], sheet_path)
    sheet = sheet.dropna(how="all")
    num = _numeric(sheet["Subject"])
    subject = num.astype("Int64").astype("string").str.zfill(3)
    subject = subject.fillna(_strip(sheet["Subject"])).astype(object)
    clip = _strip(sheet["Filename"])
    df = _standard(
        sheet, subject=subject, clip=clip, id="samm/" + subject + "/" + clip,
        onset=_numeric(sheet["Onset Frame"]), apex=_numeric(sheet["Apex Frame"]),
        offset=_numeric(sheet["Offset Frame"]),
        emotion=_strip(sheet["Estimated Emotion"]).str.lower(),
        folder=subject + os.sep + clip, stem=subject + "_",
    )
    return df, dict(corpus="samm", fps=200, base=base, default_ext=".jpg", pad=5,
                    missing_offset="drop", descr=_DESCR["samm"])


# -- SMIC-HS ---------------------------------------------------------------------------
_SMIC_LAYOUT = ("<root>/smic_apex.xlsx and "
                "<root>/HS_long/SMIC_HS_E/s03/s3_ne_01/image257900.jpg (or the "
                "original <root>/HS/s3/micro/negative/s3_ne_01/image257900.bmp)")


@_doc
def load_smic(
    root: str | os.PathLike | None = None,
    *,
    labels: str = "native",
    emotions: str | list[str] | None = None,
    return_X_y: bool = False,
    color: str = "grey",
    on_missing: str = "raise",
    layout: str = "auto",
    annotation: str | os.PathLike | None = None,
) -> Bunch | tuple[ClipSequence, np.ndarray, np.ndarray]:
    """Load the local copy of SMIC-HS (164 samples, 16 subjects, 100 fps).

    The original SMIC release has no apex annotation; this loader parses
    ``smic_apex.xlsx``, the apex-annotated sheet used by the MEGC2019 composite.
    Expected layout (``root`` defaults to ``get_data_home() / "smic"``)::

        <root>/smic_apex.xlsx
        <root>/HS_long/SMIC_HS_E/s03/s3_ne_01/image257900.jpg       (layout="hs_long")
        <root>/HS/s3/micro/negative/s3_ne_01/image257900.bmp        (layout="hs")

    ``hs_long`` is the layout of the sheet's path columns (subject folders padded to
    two digits); ``hs`` is the original SMIC-HS release.  Frame files are
    ``image<frame number, 6 digits>`` with the extension found on disk.  Native
    labels are negative/positive/surprise (the sheet's 0/1/2), already the MEGC2019
    classes.  Groups are ``"smic/s01"`` ... like the MEGC2019 composite.

    Parameters
    ----------
    root : str or path-like, default=None
        The corpus root.
    %(common)s
    layout : {"auto", "hs_long", "hs"}, default="auto"
        Which frame tree to read; ``"auto"`` takes the first present in that order.
    annotation : str or path-like, default=None
        The sheet (default ``<root>/smic_apex.xlsx``).

    Returns
    -------
    %(returns)s

    References
    ----------
    .. [1] Li, X. et al. "A spontaneous micro-expression database: Inducement,
       collection and baseline." IEEE FG 2013. :doi:`10.1109/FG.2013.6553717`

    Examples
    --------
    >>> from skmer.datasets import load_smic
    >>> smic = load_smic("~/data/smic")  # doctest: +SKIP
    >>> smic.target_names  # doctest: +SKIP
    ['negative', 'positive', 'surprise']
    """
    df, spec = _parse_smic(root, annotation=annotation, layout=layout)
    return _assemble(df, **spec, labels=labels, emotions=emotions, color=color,
                     on_missing=on_missing, return_X_y=return_X_y)


def _parse_smic(root, *, layout, annotation):
    """Parse the smic sheet into standard rows; find the frame tree."""
    root = _resolve_root(root, "smic", _SMIC_LAYOUT)
    sheet_path = _resolve_sheet(root, annotation, "smic_apex.xlsx", "smic")
    _check_choice("layout", layout, ("auto", "hs_long", "hs"))
    cands = {"hs_long": [os.path.join("HS_long", "SMIC_HS_E"), "SMIC_HS_E"],
             "hs": ["HS"]}
    order = ["hs_long", "hs"] if layout == "auto" else [layout]
    base = _first_dir(root, [c for k in order for c in cands[k]], "smic", "frame")
    found = "hs" if base.name == "HS" else "hs_long"
    sheet = _read_table(sheet_path, sheet_name=0)
    _require_columns(sheet, ["subject", "clip", "label", "onset_frame", "apex_frame",
                             "offset_frame"], sheet_path)
    sheet = sheet.dropna(how="all")
    num = _numeric(sheet["subject"]).astype("Int64").astype("string")
    subject = ("s" + num.str.zfill(2)).astype(object)
    clip = _strip(sheet["clip"])
    code = _strip(sheet["label"]).str.replace(r"\.0$", "", regex=True)
    emotion = code.map(_SMIC_NATIVE)
    if emotion.isna().any():
        raise ValueError(f"{str(sheet_path)!r}: unknown SMIC label code(s) "
                         f"{sorted(set(code[emotion.isna()]))}; expected 0, 1, 2.")
    if found == "hs_long":
        folder = ("s" + num.str.zfill(2)).astype(object) + os.sep + clip
    else:
        kind = clip.str.split("_").str[1].map(_SMIC_FOLDER)
        folder = ("s" + num).astype(object) + os.sep + "micro" + os.sep + kind \
            + os.sep + clip
    df = _standard(
        sheet, subject=subject, clip=clip, id="smic/" + subject + "/" + clip,
        onset=_numeric(sheet["onset_frame"]), apex=_numeric(sheet["apex_frame"]),
        offset=_numeric(sheet["offset_frame"]), emotion=emotion, folder=folder,
        stem="image",
    )
    if "apex_frame_path" in sheet:
        # the path column disagrees with the numeric apex in a few rows: we keep the
        # number and say so.
        n_path = pd.to_numeric(sheet["apex_frame_path"].astype("string").str.extract(
            r"(\d+)\.\w+$")[0], errors="coerce")
        disagree = n_path.notna() & (n_path != df["apex"])
        _warn(int(disagree.sum()), "smic: {n} sheet row(s) whose apex_frame_path "
              "disagrees with apex_frame; the numeric apex_frame is used.")
    return df, dict(corpus="smic", fps=100, base=base,
                    default_ext=".jpg" if found == "hs_long" else ".bmp", pad=6,
                    missing_offset="folder", descr=_DESCR["smic"])


# -- CAS(ME)^3 part A ------------------------------------------------------------------
_CASME3_LAYOUT = ("<root>/casme3_partA_edited.csv (optionally <root>/casme3_table.xlsx)"
                  " and <root>/part_A/data/part_A/spNO.1/a/color/355.jpg")


@_doc
def load_casme3(
    root: str | os.PathLike | None = None,
    *,
    labels: str = "native",
    emotions: str | list[str] | None = None,
    return_X_y: bool = False,
    color: str = "grey",
    on_missing: str = "raise",
    annotation: str | os.PathLike | None = None,
    table: str | os.PathLike | None = None,
) -> Bunch | tuple[ClipSequence, np.ndarray, np.ndarray]:
    """Load the local copy of CAS(ME)^3 part A (687 samples, 87 subjects, 30 fps).

    Expected layout (``root`` defaults to ``get_data_home() / "casme3"``)::

        <root>/casme3_partA_edited.csv     (the 7-emotion sheet, "others" removed)
        <root>/casme3_table.xlsx           (optional: the full release table)
        <root>/part_A/data/part_A/spNO.1/a/color/355.jpg ...

    ``part_A/data/part_A`` may also be ``part_A`` or the root itself.  A video
    folder (``spNO.1/a``) holds several micro-expressions, so the clip id is
    ``<subject>/<video>/<onset>``.  Frames are ``<frame number>.jpg``.
    ``annotation`` may also point at ``casme3_table.xlsx`` (860 rows, with
    "others").  If the edited sheet gives an apex outside onset..offset and the
    table is present, the table's apex is used (``apex_source="casme3_table"``).

    Parameters
    ----------
    root : str or path-like, default=None
        The corpus root.
    %(common)s
    annotation : str or path-like, default=None
        The sheet (default ``<root>/casme3_partA_edited.csv``).
    table : str or path-like, default=None
        The release table used to repair faulty apexes (default
        ``<root>/casme3_table.xlsx`` when it exists).

    Returns
    -------
    %(returns)s

    References
    ----------
    .. [1] Li, J. et al. "CAS(ME)^3: A third generation facial spontaneous
       micro-expression database with depth information and high ecological
       validity." IEEE TPAMI 45(3), 2023. :doi:`10.1109/TPAMI.2022.3174895`

    Examples
    --------
    >>> from skmer.datasets import load_casme3
    >>> casme3 = load_casme3("~/data/casme3")  # doctest: +SKIP
    >>> casme3.data[0].fps  # doctest: +SKIP
    30
    """
    df, spec = _parse_casme3(root, annotation=annotation, table=table)
    return _assemble(df, **spec, labels=labels, emotions=emotions, color=color,
                     on_missing=on_missing, return_X_y=return_X_y)


def _parse_casme3(root, *, annotation, table):
    """Parse the casme3 sheet into standard rows; find the frame tree."""
    root = _resolve_root(root, "casme3", _CASME3_LAYOUT)
    sheet_path = _resolve_sheet(root, annotation, "casme3_partA_edited.csv", "casme3")
    base = _first_dir(root, [os.path.join("part_A", "data", "part_A"), "part_A", "."],
                      "casme3", "frame")
    sheet = _read_table(sheet_path, sheet_name="label")
    _require_columns(sheet, ["Subject", "Filename", "Onset", "Apex", "Offset",
                             "emotion"], sheet_path)
    sheet = sheet.dropna(how="all")
    subject, video = _strip(sheet["Subject"]), _strip(sheet["Filename"])
    onset = _numeric(sheet["Onset"])
    clip = video + "/" + onset.astype("Int64").astype("string").fillna("?").astype(
        object)
    df = _standard(
        sheet, subject=subject, clip=clip, id="casme3/" + subject + "/" + clip,
        onset=onset, apex=_numeric(sheet["Apex"]), offset=_numeric(sheet["Offset"]),
        emotion=_strip(sheet["emotion"]).str.lower(),
        folder=subject + os.sep + video + os.sep + "color", stem="",
    )
    table = root / "casme3_table.xlsx" if table is None else Path(table)
    bad = (df["apex"] < df["onset"]) | (df["apex"] > df["offset"])
    if bad.any() and table.is_file() and table.resolve() != sheet_path.resolve():
        ref = _read_table(table, sheet_name="label")
        key = ["Subject", "Filename", "Onset"]
        ref = ref.assign(**{k: _strip(ref[k]) for k in key})
        ref = ref.drop_duplicates(key).set_index(key)["Apex"]
        idx = pd.MultiIndex.from_arrays([subject[bad], video[bad],
                                         _strip(sheet.loc[bad, "Onset"])])
        fix = _numeric(pd.Series(ref.reindex(idx).to_numpy(), index=df.index[bad]))
        ok = (fix >= df.loc[bad, "onset"]) & (fix <= df.loc[bad, "offset"])
        ok_idx = ok[ok].index
        df.loc[ok_idx, "apex"] = fix[ok_idx]
        df["apex_source"] = "sheet"
        df.loc[ok_idx, "apex_source"] = "casme3_table"
        _warn(len(ok_idx), "casme3: {n} sheet row(s) with an apex outside "
              f"onset..offset: apex taken from {table.name} "
              "(apex_source='casme3_table').")
    return df, dict(corpus="casme3", fps=30, base=base, default_ext=".jpg", pad=0,
                    missing_offset="drop", descr=_DESCR["casme3"])


# -- MMEW ------------------------------------------------------------------------------
_MMEW_LAYOUT = ("<root>/mmew_micro_delete_others.csv and "
                "<root>/Micro_Expression/happiness/S01-01-001/1.jpg")


@_doc
def load_mmew(
    root: str | os.PathLike | None = None,
    *,
    labels: str = "native",
    emotions: str | list[str] | None = None,
    return_X_y: bool = False,
    color: str = "grey",
    on_missing: str = "raise",
    annotation: str | os.PathLike | None = None,
) -> Bunch | tuple[ClipSequence, np.ndarray, np.ndarray]:
    """Load the local copy of MMEW micro-expressions (234 samples, 30 subjects, 90 fps).

    Expected layout (``root`` defaults to ``get_data_home() / "mmew"``)::

        <root>/mmew_micro_delete_others.csv
        <root>/Micro_Expression/happiness/S01-01-001/1.jpg ... 31.jpg

    The ``Micro_Expression`` level may be omitted.  Frames are ``<n>.jpg``; the
    emotion folder is the sheet's "Estimated Emotion".  Subjects are ``S01`` ...
    (the sheet's ``Subject`` number, as in the clip names).

    Parameters
    ----------
    root : str or path-like, default=None
        The corpus root.
    %(common)s
    annotation : str or path-like, default=None
        The sheet (default ``<root>/mmew_micro_delete_others.csv``).

    Returns
    -------
    %(returns)s

    References
    ----------
    .. [1] Ben, X. et al. "Video-based facial micro-expression analysis: A survey of
       datasets, features and algorithms." IEEE TPAMI 44(9), 2022.
       :doi:`10.1109/TPAMI.2021.3067464`

    Examples
    --------
    >>> from skmer.datasets import load_mmew
    >>> mmew = load_mmew("~/data/mmew", labels="megc2019")  # doctest: +SKIP
    >>> mmew.target_names  # doctest: +SKIP
    ['negative', 'positive', 'surprise']
    """
    df, spec = _parse_mmew(root, annotation=annotation)
    return _assemble(df, **spec, labels=labels, emotions=emotions, color=color,
                     on_missing=on_missing, return_X_y=return_X_y)


def _parse_mmew(root, *, annotation):
    """Parse the mmew sheet into standard rows; find the frame tree."""
    root = _resolve_root(root, "mmew", _MMEW_LAYOUT)
    sheet_path = _resolve_sheet(root, annotation, "mmew_micro_delete_others.csv",
                                "mmew")
    base = _first_dir(root, ["Micro_Expression", "."], "mmew", "frame")
    sheet = _read_table(sheet_path, sheet_name=0)
    _require_columns(sheet, ["Subject", "Filename", "OnsetFrame", "ApexFrame",
                             "OffsetFrame", "Estimated Emotion"], sheet_path)
    sheet = sheet.dropna(how="all")
    num = _numeric(sheet["Subject"]).astype("Int64").astype("string")
    subject = ("S" + num.str.zfill(2)).fillna(_strip(sheet["Subject"])).astype(object)
    clip = _strip(sheet["Filename"])
    emotion_dir = _strip(sheet["Estimated Emotion"])
    df = _standard(
        sheet, subject=subject, clip=clip, id="mmew/" + subject + "/" + clip,
        onset=_numeric(sheet["OnsetFrame"]), apex=_numeric(sheet["ApexFrame"]),
        offset=_numeric(sheet["OffsetFrame"]), emotion=emotion_dir.str.lower(),
        folder=emotion_dir + os.sep + clip, stem="",
    )
    return df, dict(corpus="mmew", fps=90, base=base, default_ext=".jpg", pad=0,
                    missing_offset="drop", descr=_DESCR["mmew"])


_DESCR = {
    "casme2": "CASME II (Yan et al. 2014): 255 spontaneous micro-expressions of 26 "
              "subjects, 200 fps, 640x480. Labels: Estimated Emotion of "
              "CASME2-coding-20140508.xlsx. Licence-gated: obtain it from its owners.",
    "samm": "SAMM (Davison et al. 2018): 159 micro-movements of 29 subjects, 200 fps, "
            "grey 2040x1088. Labels: Estimated Emotion of SAMM.xlsx (MICRO_ONLY). "
            "Licence-gated: obtain it from its owners.",
    "smic": "SMIC-HS (Li et al. 2013): 164 micro-expressions of 16 subjects, 100 fps; "
            "negative/positive/surprise; apex frames from smic_apex.xlsx (the "
            "original release has none). Licence-gated: obtain it from its owners.",
    "casme3": "CAS(ME)^3 part A (Li et al. 2023): micro-expressions in 30 fps videos; "
              "7 emotions from casme3_partA_edited.csv. Licence-gated: obtain it from "
              "its owners.",
    "mmew": "MMEW (Ben et al. 2022): 234 micro-expressions of 30 subjects "
            "(others removed), 90 fps. Labels: Estimated Emotion of "
            "mmew_micro_delete_others.csv. Licence-gated: obtain it from its owners.",
}




# -- fake trees (tests and docs) -------------------------------------------------------
_PARSERS = {"casme2": _parse_casme2, "samm": _parse_samm, "smic": _parse_smic,
            "casme3": _parse_casme3, "mmew": _parse_mmew}
_DEFAULT_TREE = {  # corpus -> (sheet file name, frame base folder)
    "casme2": ("CASME2-coding-20140508.xlsx", "CASME2_RAW_selected"),
    "samm": ("SAMM.xlsx", "SAMM"),
    "smic": ("smic_apex.xlsx", os.path.join("HS_long", "SMIC_HS_E")),
    "casme3": ("casme3_partA_edited.csv", os.path.join("part_A", "data", "part_A")),
    "mmew": ("mmew_micro_delete_others.csv", "Micro_Expression"),
}


def _make_fake_tree(corpus, root, annotation, *, n_frame_clips=2, frame_size=8,
                    ext=".jpg", base=None):
    """Write the directory tree a loader expects, with tiny frames (tests, docs).

    Copies ``annotation`` into ``root`` (under the default sheet name when it has
    the default sheet's extension, else under its own name), creates every clip
    folder of the sheet under ``root / base`` (default: the corpus' default frame
    folder) and writes frames (hard links of one tiny grey image) for the first
    ``n_frame_clips`` rows and for every row without an offset (up to 5 frames past
    the apex).  Returns ``root``.
    """
    import shutil

    import cv2

    sheet_name, default_base = _DEFAULT_TREE[corpus]
    root = Path(root)
    (root / (base or default_base)).mkdir(parents=True, exist_ok=True)
    annotation = Path(annotation)
    if annotation.suffix != Path(sheet_name).suffix:
        sheet_name = annotation.name
    shutil.copyfile(annotation, root / sheet_name)
    kwargs = {"casme2": {"version": "auto"}, "samm": {"sheet_name": "MICRO_ONLY"},
              "smic": {"layout": "auto"}, "casme3": {"table": None}}.get(corpus, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df, spec = _PARSERS[corpus](root, annotation=root / sheet_name, **kwargs)
    paths = [os.path.join(spec["base"], f) for f in df["folder"]]
    for path in dict.fromkeys(paths):
        os.makedirs(path, exist_ok=True)
    proto = root / f"_proto{ext}"
    cv2.imwrite(str(proto), np.arange(frame_size * frame_size, dtype=np.uint8)
                .reshape(frame_size, frame_size))
    pad = spec["pad"]
    rows = set(range(min(n_frame_clips, len(df))))
    rows |= set(np.flatnonzero(df["offset"].isna().to_numpy()).tolist())
    for i in sorted(rows):
        onset, apex, offset = df[["onset", "apex", "offset"]].iloc[i]
        last = offset if pd.notna(offset) else apex + 5
        stem = df["stem"].iloc[i]
        for n in range(int(onset), int(last) + 1):
            dst = os.path.join(paths[i], f"{stem}{n:0{pad}d}{ext}")
            if not os.path.exists(dst):
                os.link(proto, dst)
    proto.unlink()
    return root

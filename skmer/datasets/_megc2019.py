"""The MEGC2019 composite set (CASME II + SAMM + SMIC-HS, 442 samples, 3 classes)."""

from __future__ import annotations

import warnings
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skmer._core import ClipSequence
from skmer.datasets._corpora import (
    _MEGC2019_MAPS,
    MEGC2019_CLASSES,
    _assemble,
    _parse_casme2,
    _parse_samm,
    _parse_smic,
)

if TYPE_CHECKING:
    import os

__all__ = ["load_megc2019", "megc2019_composite_ids"]

_STD = ["dataset", "subject", "clip", "group", "id", "onset", "apex", "offset",
        "apex_source", "offset_source", "emotion", "target", "path"]

_DESCR = """MEGC2019 composite micro-expression set (See et al. 2019).

442 samples of 68 subjects from three corpora, in three classes (0 = negative,
1 = positive, 2 = surprise): CASME II 145 (88/32/25, 24 subjects), SAMM 133
(92/26/15, 28 subjects), SMIC-HS 164 (70/51/43, 16 subjects).  Evaluate with
leave-one-subject-out over the dataset-qualified subjects and report UF1 and UAR
computed once on the pooled out-of-fold predictions.  The sample list ships with
skmer (IDs and labels only); the frames come from the user's licensed local copies.
"""


def megc2019_composite_ids() -> pd.DataFrame:
    """Return the shipped MEGC2019 composite list: one row per sample.

    The sample ids :func:`load_megc2019` assembles; not to be confused with
    :func:`skmer.recipes.megc2019_composite`, the recipe evaluated on them.

    Returns
    -------
    ids : DataFrame
        Columns ``dataset`` (casme2 | samm | smic), ``subject`` (as in the
        dataset-qualified groups: ``sub01``, ``006``, ``s01``), ``clip`` (the
        corpus' own clip name: ``EP02_01f``, ``006_1_2``, ``s1_ne_01``) and
        ``label`` (0 = negative, 1 = positive, 2 = surprise).

    Examples
    --------
    >>> from skmer.datasets import megc2019_composite_ids
    >>> ids = megc2019_composite_ids()
    >>> len(ids), ids.groupby("dataset").size().to_dict()
    (442, {'casme2': 145, 'samm': 133, 'smic': 164})
    """
    ref = resources.files("skmer.datasets").joinpath("data", "megc2019_composite.csv")
    with ref.open("r", encoding="utf-8") as f:
        ids = pd.read_csv(f, dtype={"dataset": str, "subject": str, "clip": str,
                                    "label": np.int64})
    return ids


def load_megc2019(
    casme2_root: str | os.PathLike | None = None,
    samm_root: str | os.PathLike | None = None,
    smic_root: str | os.PathLike | None = None,
    *,
    return_X_y: bool = False,
    color: str = "grey",
    casme2_version: str = "auto",
    smic_layout: str = "auto",
    annotations: dict | None = None,
) -> Bunch | tuple[ClipSequence, np.ndarray, np.ndarray]:
    """Load the MEGC2019 composite set (442 samples, 68 subjects, 3 classes).

    The sample list (dataset, subject, clip, 3-class label) ships with skmer; the
    clips are read lazily from the user's local copies of CASME II, SAMM and
    SMIC-HS through :func:`load_casme2`, :func:`load_samm` and :func:`load_smic`
    (see those for the expected layouts).  The labels are the list's: the mapping
    rule alone gives 147 CASME II samples, 2 more than the composite (two disgust
    clips, ``sub04/EP12_01f`` and ``sub05/EP09_05f``, are not in it).

    Parameters
    ----------
    casme2_root, samm_root, smic_root : str or path-like, default=None
        The corpus roots (default ``get_data_home() / "casme2"`` etc.).
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of a Bunch.
    color : {"grey", "rgb"}, default="grey"
        How the lazy clips decode their frames.
    casme2_version : {"auto", "raw_selected", "raw", "cropped"}, default="auto"
        Passed to :func:`load_casme2` as ``version``.
    smic_layout : {"auto", "hs_long", "hs"}, default="auto"
        Passed to :func:`load_smic` as ``layout``.
    annotations : dict, default=None
        Sheet paths by dataset (``{"casme2": ..., "samm": ..., "smic": ...}``) for
        sheets not at their default place in the roots.

    Returns
    -------
    data : Bunch
        ``data`` (:class:`~skmer.datasets.ClipSequence`, list order), ``target``
        (0/1/2), ``target_names`` (``["negative", "positive", "surprise"]``),
        ``groups`` (``"casme2/sub01"``, ``"samm/006"``, ``"smic/s01"``),
        ``datasets``, ``onset``/``apex``/``offset`` (absolute frame numbers),
        ``paths``, ``DESCR`` and ``frame`` (the standard columns of the three
        loaders' rows).
    (X, y, groups) : tuple
        If ``return_X_y`` is True.

    Raises
    ------
    ValueError
        A sample of the list is not in a corpus' annotation sheet.
    FileNotFoundError
        A root, a sheet or the frame folder of a sample of the list is missing.

    References
    ----------
    .. [1] See, J. et al. "MEGC 2019 - The second facial micro-expressions grand
       challenge." IEEE FG 2019. :doi:`10.1109/FG.2019.8756611`

    Examples
    --------
    >>> from skmer.datasets import load_megc2019
    >>> X, y, groups = load_megc2019("~/data/casme2", "~/data/samm",
    ...                              "~/data/smic", return_X_y=True)  # doctest: +SKIP
    >>> len(X), len(set(groups))  # doctest: +SKIP
    (442, 68)
    """
    annotations = dict(annotations or {})
    unknown = set(annotations) - {"casme2", "samm", "smic"}
    if unknown:
        raise ValueError(f"annotations keys must be among ['casme2', 'samm', "
                         f"'smic']; got {sorted(unknown)}.")
    ids = megc2019_composite_ids()
    parsers = {
        "casme2": lambda: _parse_casme2(casme2_root, version=casme2_version,
                                        annotation=annotations.get("casme2")),
        "samm": lambda: _parse_samm(samm_root, sheet_name="MICRO_ONLY",
                                    annotation=annotations.get("samm")),
        "smic": lambda: _parse_smic(smic_root, layout=smic_layout,
                                    annotation=annotations.get("smic")),
    }
    parts = []
    for dataset, parse in parsers.items():
        sel = ids[ids["dataset"] == dataset]
        df, spec = parse()
        part = _assemble(df, **spec, labels="native", emotions=None, color=color,
                         on_missing="raise", return_X_y=False, select=sel)
        frame = part.frame.assign(_i=np.arange(len(part.frame)))
        frame = frame[_STD].assign(_i=frame["_i"]).merge(
            sel.rename(columns={"label": "_label"}), on=["dataset", "subject", "clip"])
        rule = frame["emotion"].map(_MEGC2019_MAPS[dataset]).map(
            {n: i for i, n in enumerate(MEGC2019_CLASSES)})
        n_diff = int((rule != frame["_label"]).sum())
        if n_diff:
            warnings.warn(
                f"megc2019: {n_diff} {dataset} sample(s) whose sheet emotion does not "
                "map to the composite list's label; the list's label is used.",
                UserWarning, stacklevel=2)
        parts.append((part, frame))

    clips, rows = [], []
    for part, frame in parts:
        for i, lab in zip(frame["_i"], frame["_label"]):
            clip = part.data[int(i)]
            clip.label = int(lab)
            clips.append(clip)
        rows.append(frame)
    frame = pd.concat(rows, ignore_index=True)
    order = frame.merge(ids.reset_index(), on=["dataset", "subject", "clip"])[
        "index"].to_numpy()
    perm = np.argsort(order, kind="stable")
    frame = frame.iloc[perm].reset_index(drop=True)
    clips = [clips[i] for i in perm]
    frame = frame.drop(columns=["_i", "target"]).rename(columns={"_label": "target"})
    frame = frame[_STD]
    X = ClipSequence(clips)
    y = frame["target"].to_numpy(dtype=np.int64)
    groups = frame["group"].to_numpy(dtype=object)
    if return_X_y:
        return X, y, groups
    return Bunch(
        data=X, target=y, target_names=list(MEGC2019_CLASSES), groups=groups,
        datasets=frame["dataset"].to_numpy(dtype=object),
        onset=frame["onset"].to_numpy(), apex=frame["apex"].to_numpy(),
        offset=frame["offset"].to_numpy(), paths=frame["path"].to_numpy(dtype=object),
        DESCR=_DESCR, frame=frame,
    )

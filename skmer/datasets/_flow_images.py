"""Reader for STSTNet-format onset-apex optical-flow image folders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils import Bunch

if TYPE_CHECKING:
    import os

__all__ = ["load_flow_images", "MEGC2019_CLASSES"]

MEGC2019_CLASSES = ["negative", "positive", "surprise"]

_REQUIRED = ("dataset", "sub", "filename_o", "label")


def _read_png_rgb(path):
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(
            f"Could not decode flow image {str(path)!r}: the file is corrupt or not "
            "an image."
        )
    return img[..., ::-1]  # BGR -> RGB = (u, v, strain)


def load_flow_images(
    root: str | os.PathLike,
    labels_csv: str | os.PathLike | None = None,
    *,
    return_X_y: bool = False,
    n_jobs: int | None = None,
) -> Bunch | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load STSTNet-format onset-apex flow images (the MEGC2019 composite input).

    The folder holds one PNG per sample named ``<sub>_<clip> .png`` (with the space
    before ``.png``, as released; the name without the space is accepted too).  Each
    image's three channels are the horizontal flow ``u``, the vertical flow ``v`` and
    the optical strain, each min-max scaled to 0..255 per image; in RGB order they are
    (u, v, strain).  ``data`` keeps that order, scaled to [0, 1].

    Parameters
    ----------
    root : str or path-like
        The flow-image folder, e.g. ``.../megc2019/flow_uvos_28``.
    labels_csv : str or path-like, default=None
        CSV with at least the columns ``dataset`` (casme2 | samm | smic), ``sub``
        (subject id inside its dataset), ``filename_o`` (clip id) and ``label``
        (0 = negative, 1 = positive, 2 = surprise).  Default: ``labels_3class.csv``
        in the parent of ``root``.
    return_X_y : bool, default=False
        Return ``(data, target, groups)`` instead of a Bunch.
    n_jobs : int, default=None
        Decode images in parallel (joblib).

    Returns
    -------
    data : Bunch
        ``data`` float32 of shape (n_samples, 3, H, W) in [0, 1], channels
        (u, v, strain); ``target`` int (0/1/2); ``target_names``
        ``["negative", "positive", "surprise"]``; ``groups`` dataset-qualified
        subjects (``"casme2/sub01"``, ``"samm/006"``, ``"smic/s01"``); ``datasets``;
        ``ids`` (``"casme2/sub01/EP02_01f"``); ``paths``; ``frame`` (the CSV rows).
    (data, target, groups) : tuple if ``return_X_y``

    Raises
    ------
    FileNotFoundError
        The folder, the CSV or a flow image named by the CSV is missing.
    ValueError
        ``root`` is a file or a folder without PNG images, the CSV lacks a
        required column, holds a label outside 0..2 or an image is corrupt or of
        a different size than the others.

    Examples
    --------
    >>> from skmer.datasets import load_flow_images
    >>> d = load_flow_images("megc2019/flow_uvos_28")  # doctest: +SKIP
    >>> d.data.shape, len(set(d.groups))  # doctest: +SKIP
    ((442, 3, 28, 28), 68)
    """
    import pandas as pd
    from joblib import Parallel, delayed

    root = Path(root)
    if root.is_file():
        raise ValueError(
            f"{str(root)!r} is a file; the flow images are read from a folder of "
            "'<sub>_<clip> .png' images (give the folder, e.g. .../flow_uvos_28)."
        )
    if not root.is_dir():
        raise FileNotFoundError(
            f"Flow-image folder {str(root)!r} does not exist (expected a folder of "
            "'<sub>_<clip> .png' images)."
        )
    labels_csv = Path(labels_csv) if labels_csv is not None else (
        root.parent / "labels_3class.csv")
    if not labels_csv.is_file():
        raise FileNotFoundError(f"Labels CSV {str(labels_csv)!r} does not exist.")
    if not any(p.suffix.lower() == ".png" for p in root.iterdir()):
        raise ValueError(
            f"Flow-image folder {str(root)!r} holds no PNG image (expected "
            "'<sub>_<clip> .png' flow images)."
        )
    frame = pd.read_csv(labels_csv, dtype={"sub": str, "filename_o": str,
                                           "dataset": str})
    missing_cols = [c for c in _REQUIRED if c not in frame.columns]
    if missing_cols:
        raise ValueError(
            f"Labels CSV {str(labels_csv)!r} lacks the column(s) {missing_cols}; "
            f"required: {list(_REQUIRED)}."
        )
    if len(frame) == 0:
        raise ValueError(f"Labels CSV {str(labels_csv)!r} has no rows.")
    labels = pd.to_numeric(frame["label"], errors="coerce")
    bad = ~labels.isin([0, 1, 2])
    if bad.any():
        raise ValueError(
            f"Labels CSV {str(labels_csv)!r} has labels outside 0 (negative), "
            f"1 (positive), 2 (surprise): {sorted(set(frame['label'][bad]))[:5]}."
        )
    paths = []
    for sub, clip in zip(frame["sub"], frame["filename_o"]):
        path = root / f"{sub}_{clip} .png"
        if not path.is_file():
            alt = root / f"{sub}_{clip}.png"
            if not alt.is_file():
                raise FileNotFoundError(
                    f"Labels CSV {str(labels_csv)!r} names sample {sub}/{clip}, but "
                    f"its flow image {str(path)!r} does not exist."
                )
            path = alt
        paths.append(path)
    images = Parallel(n_jobs=n_jobs)(delayed(_read_png_rgb)(p) for p in paths)
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise ValueError(f"Flow images have different sizes {sorted(shapes)}.")
    data = np.stack(images).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    datasets = frame["dataset"].str.lower().to_numpy(dtype=object)
    groups = (frame["dataset"].str.lower() + "/" + frame["sub"]).to_numpy(dtype=object)
    ids = (frame["dataset"].str.lower() + "/" + frame["sub"] + "/"
           + frame["filename_o"]).to_numpy(dtype=object)
    target = labels.to_numpy().astype(np.int64)
    if return_X_y:
        return data, target, groups
    return Bunch(
        data=data,
        target=target,
        target_names=list(MEGC2019_CLASSES),
        groups=groups,
        datasets=datasets,
        ids=ids,
        paths=np.array([str(p) for p in paths], dtype=object),
        frame=frame,
        channels=["u", "v", "strain"],
        DESCR=(
            "MEGC2019-style onset-apex optical-flow images, channels (u, v, strain), "
            "each min-max scaled per image, from " + str(root)
        ),
    )

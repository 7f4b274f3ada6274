"""Where skmer finds data: corpus roots and the shared development data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["get_data_home", "shared_data_dir"]


def get_data_home(data_home=None):
    """Folder holding the users' local corpora.

    An explicit ``data_home``, else ``$SKMER_DATA``, else ``~/skmer_data``.
    """
    if data_home is None:
        data_home = os.environ.get("SKMER_DATA", os.path.join("~", "skmer_data"))
    return Path(data_home).expanduser()


def shared_data_dir():
    """Return the development data folder, or ``None`` if it does not exist.

    The folder is ``$SKMER_SHARED_DATA``, else ``../shared/data`` (next to the
    repository); when it is missing, tests skip with a reason.
    """
    path = os.environ.get("SKMER_SHARED_DATA")
    if path is None:
        path = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    path = Path(path)
    return path if path.is_dir() else None

"""Shared fixtures: the real development data (skipped with a reason when absent)."""

import pytest

from skmer.utils._data import shared_data_dir


@pytest.fixture(scope="session")
def shared_data():
    """Path of ``$SKMER_SHARED_DATA`` (default ``../shared/data``), or skip."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("real data absent: set SKMER_SHARED_DATA to the shared data folder")
    return path


@pytest.fixture(scope="session")
def megc2019_dir(shared_data):
    """The MEGC2019 composite folder of the shared data, or skip."""
    path = shared_data / "megc2019"
    if not (path / "flow_uvos_28").is_dir():
        pytest.skip(f"MEGC2019 composite flow images absent under {path}")
    return path

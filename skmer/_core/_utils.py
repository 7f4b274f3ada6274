"""Small value helpers shared by skmer's modules."""

import numpy as np


def _plain(value):
    """Return a numpy scalar as the Python scalar it holds (other values unchanged).

    Class labels read from arrays are numpy scalars; JSON, ``repr`` and dict keys
    meant for people want ``1`` and ``"happiness"``, not ``np.int64(1)``.
    """
    return value.item() if isinstance(value, np.generic) else value

"""The array types the classifiers pass around, named once.

Detectors take float series, integer keys and boolean masks; ``npt.NDArray`` with
the element type says which, where a bare ``np.ndarray`` would let mypy accept any.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Indices = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]

"""Unpickling of data files that may hold only NumPy arrays and plain containers.

Some public datasets ship as pickles: the sketch-rnn ``.npz`` files (object
arrays, Python 2) and the mini-ImageNet caches (a dict of an array and lists).
Unpickling a file can run any code it names, so :func:`load` uses an unpickler
that resolves only the globals needed to rebuild NumPy arrays, dtypes and
scalars (and Python 3's encoding of bytes in protocol-2 pickles), and refuses
everything else. Builders still unpickle only checksum-verified files or files
the user explicitly allowed; this is the second line of defence.

Example:
  >>> import io, pickle
  >>> load(io.BytesIO(pickle.dumps({"x": np.arange(3)})))["x"].tolist()
  [0, 1, 2]
"""

from __future__ import annotations

import codecs
import pickle

import numpy as np

try:  # NumPy 2 moved numpy.core to numpy._core (older pickles name numpy.core).
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

_ALLOWED = {
    ("multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("multiarray", "scalar"): _multiarray.scalar,
    ("numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Protocol-2 pickles written by Python 3 store bytes as _codecs.encode(str, "latin1").
    ("_codecs", "encode"): codecs.encode,
}
_NUMPY_CORE = ("numpy.core.", "numpy._core.")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves NumPy's array-rebuilding globals only; refuses any other global."""

    def find_class(self, module, name):
        short = module
        for prefix in _NUMPY_CORE:
            if module.startswith(prefix):
                short = module[len(prefix):]
        try:
            return _ALLOWED[(short, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to unpickle global {module}.{name}") from None


def load(file, encoding: str = "latin1"):
    """Unpickles one object from a binary file object, allowing NumPy data only.

    Args:
      file: a binary file object positioned at the pickle.
      encoding: how Python 2 ``str`` objects are decoded (``latin1`` keeps
        NumPy's array buffers intact).

    Raises:
      pickle.UnpicklingError: for any global other than NumPy's array, dtype
        and scalar constructors (e.g. ``os.system``), or a malformed pickle.
    """
    return _NumpyOnlyUnpickler(file, encoding=encoding).load()

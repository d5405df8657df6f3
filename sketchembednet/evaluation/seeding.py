"""Seeds derived from one run seed: every random choice of an evaluation from one number.

An evaluation takes a single ``seed`` and derives an independent seed for each
random choice (a split, a sampling batch, an initializer) from it and a tag, so
that adding or removing one choice changes no other. Nothing global is seeded:
callers pass the derived seeds to local generators (``np.random.default_rng``,
Keras initializers, ``model.sample(seed=...)``). The one exception Keras forces is
:func:`seeded_python_random`: unseeded Keras initializers draw their seeds from
Python's ``random``, so building a model reproducibly needs that state seeded for
the build, and restored after it.

Example:
  >>> derive_seed(0, "grid") == derive_seed(0, "grid") != derive_seed(0, "split")
  True
  >>> 0 <= derive_seed(7, "sample", 3) < 2 ** 31
  True
"""

from __future__ import annotations

import contextlib
import random
import zlib

import numpy as np


def derive_seed(seed: int, *tags) -> int:
    """A 31-bit seed derived from ``seed`` and tags (strings hashed with crc32, not hash()).

    Example:
      >>> derive_seed(0, "init", 1) == derive_seed(0, "init", 2)
      False
    """
    words = [int(seed)] + [zlib.crc32(t.encode()) if isinstance(t, str) else int(t) for t in tags]
    return int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)


@contextlib.contextmanager
def seeded_python_random(seed: int):
    """Python's ``random`` seeded with ``seed`` inside the block, its previous state after.

    Keras draws the seed of every unseeded initializer (including those a layer
    creates in ``build``) from Python's ``random``; there is no per-model seed.
    Creating and building a model inside this block makes its initial weights a
    function of ``seed`` (those ``keras.utils.set_random_seed(seed)`` would give)
    and leaves every global random state as it was. Not thread-safe: another
    thread drawing from ``random`` meanwhile would shift both.

    Example:
      >>> with seeded_python_random(3):
      ...     a = random.random()
      >>> with seeded_python_random(3):
      ...     b = random.random()
      >>> a == b == random.Random(3).random()
      True
    """
    state = random.getstate()
    random.seed(int(seed))
    try:
        yield
    finally:
        random.setstate(state)

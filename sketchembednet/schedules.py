"""The pixel-loss weight α curriculum.

A pure function of the *global* step (the number of optimizer updates applied
so far), so it stays defined when the number of workers changes. The learning
rate is Keras' ``ExponentialDecay`` on the same step (see ``trainer.py``).

Example:
  >>> round(float(alpha(25_000, increment=0.05, interval=10_000, maximum=0.5)), 6)
  0.1
"""

from __future__ import annotations

import tensorflow as tf


def alpha(
    step,
    start: float = 0.0,
    increment: float = 0.05,
    interval: int = 10_000,
    maximum: float = 0.5,
    start_step: int = 0,
) -> tf.Tensor:
    """The α curriculum of SketchEmbedNet (Sec. 3, "curriculum"; Table 3).

    ``α = min(maximum, start + increment * floor((step - start_step) / interval))``
    for ``step >= start_step``, and ``start`` before. The paper's defaults are
    +0.05 every 10k steps, capped at 0.5 (Quickdraw) or 0.75 (Sketchy).

    Args:
      step: global step (scalar, Python or tensor).
      start: α before the first increment.
      increment: added every ``interval`` steps.
      interval: steps between increments (> 0).
      maximum: cap.
      start_step: step at which the curriculum starts counting.

    Returns:
      float32 scalar tensor.
    """
    if interval <= 0:
        raise ValueError(f"alpha interval must be positive, got {interval}")
    step = tf.cast(step, tf.float32)
    done = tf.maximum(step - float(start_step), 0.0)
    value = start + increment * tf.floor(done / float(interval))
    return tf.minimum(tf.cast(maximum, tf.float32), tf.cast(value, tf.float32))

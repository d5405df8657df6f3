"""Stroke-space augmentation, applied before rendering so that image and target agree.

The input pipeline (:mod:`sketchembednet.data.pipeline`) augments the stroke-3
sketch of an example and then both renders the model's input image from the
augmented strokes and uses them as the decoder's target. An augmented image is
therefore always the rendering of its target, which image-space augmentation
cannot give.

Transforms, each drawn independently per example:

* a random affine map of the drawing: rotation by up to ``rotation`` degrees,
  shear by up to ``shear`` (``x += shear * y``), and anisotropic scaling of x
  and y by independent factors in ``[1 - scale, 1 + scale]``. Offsets are
  differences of points, so the map acts on them linearly (translation is moot);
* point jitter: every point moves by Gaussian noise of standard deviation
  ``jitter`` *stroke scales* (the source's ``stroke_scale``, so the same value
  suits every dataset), and offsets are re-derived from the moved points, so the
  drawing does not drift;
* point dropping (sketch-rnn's augmentation): each pen-down point inside a stroke
  is removed with probability ``drop_points``, its offset merged into the next
  row's. Stroke ends and starts are never dropped, so strokes stay strokes.

All randomness is stateless and keyed by ``(seed, example index)``: a pipeline
gives the same augmented batches for the same seed, however many threads map it.

Off by default (:data:`NONE`): the paper's recipe has no augmentation.

Example:
  >>> aug = Augmentation(rotation=15.0, shear=0.1, scale=0.1, jitter=0.05)
  >>> s3 = tf.constant([[2., 0., 0.], [0., 2., 1.]])
  >>> out = augment_stroke3(s3, tf.constant([0, 7], tf.int64), aug, stroke_scale=1.0)
  >>> out.shape
  TensorShape([2, 3])
"""

from __future__ import annotations

import dataclasses
import math

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Strengths of the stroke-space transforms (0 = off).

    Attributes:
      rotation: largest rotation, degrees (uniform in ``[-rotation, rotation]``).
      shear: largest shear factor (uniform in ``[-shear, shear]``).
      scale: largest relative change of each axis' scale (x and y independently).
      jitter: standard deviation of point noise, in units of the stroke scale.
      drop_points: probability of removing each pen-down point inside a stroke.
    """

    rotation: float = 0.0
    shear: float = 0.0
    scale: float = 0.0
    jitter: float = 0.0
    drop_points: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"augmentation {field.name}={value!r}: need a finite number >= 0")
        if self.scale >= 1.0:
            raise ValueError(f"augmentation scale={self.scale}: must be < 1 (a factor 1 - scale "
                             "of 0 or less would collapse or mirror the drawing)")
        if self.drop_points >= 1.0:
            raise ValueError(f"augmentation drop_points={self.drop_points}: must be < 1")

    @property
    def active(self) -> bool:
        """True if any transform is on."""
        return any(getattr(self, f.name) > 0 for f in dataclasses.fields(self))

    @classmethod
    def from_config(cls, config) -> "Augmentation":
        """From a dict or ConfigDict with any of the fields (missing ones are 0)."""
        if config is None:
            return cls()
        items = config.items() if hasattr(config, "items") else dict(config).items()
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(k for k, _ in items if k not in fields)
        if unknown:
            raise ValueError(f"unknown augmentation field(s) {unknown}; known: {sorted(fields)}")
        return cls(**{k: float(v) for k, v in items})


NONE = Augmentation()


def _affine(seed, aug: Augmentation) -> tf.Tensor:
    """A random 2x2 matrix ``A`` (points are rows: ``p' = p @ A``)."""
    u = tf.random.stateless_uniform([4], seed=seed, minval=-1.0, maxval=1.0)  # [4]
    angle = u[0] * (aug.rotation * math.pi / 180.0)
    cos, sin = tf.cos(angle), tf.sin(angle)
    rotate = tf.stack([tf.stack([cos, sin]), tf.stack([-sin, cos])])  # [2, 2]
    shear = tf.stack([tf.constant([1.0, 0.0]), tf.stack([u[1] * aug.shear, 1.0])])  # [2, 2]
    scale = tf.linalg.diag(1.0 + u[2:] * aug.scale)  # [2, 2]
    return shear @ scale @ rotate


def _drop_points(stroke3, seed, probability: float):
    """Removes pen-down points inside strokes, merging each one's offset into the next row."""
    n = tf.shape(stroke3)[0]
    lift = stroke3[:, 2]  # [L]
    # A row may go if its pen stays down, the row before it (its stroke's start) is not the
    # end of a stroke either, and it is not the last row (which has to carry the end).
    prev_lift = tf.concat([[1.0], lift[:-1]], axis=0)  # [L]
    not_last = tf.range(n) < n - 1  # [L]
    droppable = (lift < 0.5) & (prev_lift < 0.5) & not_last  # [L]
    draw = tf.random.stateless_uniform([n], seed=seed)  # [L]
    keep = ~(droppable & (draw < probability))  # [L]
    # Each dropped row's offset goes to the next kept row: group rows by kept index.
    group = tf.cumsum(tf.cast(keep, tf.int32), reverse=True)  # [L], same for a run ending in a keep
    group = tf.reduce_max(group) - group  # [L] 0 .. K-1 in order
    offsets = tf.math.unsorted_segment_sum(stroke3[:, :2], group, tf.reduce_sum(
        tf.cast(keep, tf.int32)))  # [K, 2]
    return tf.concat([offsets, tf.boolean_mask(stroke3[:, 2:], keep)], axis=1)  # [K, 3]


def augment_stroke3(stroke3, seed, aug: Augmentation, stroke_scale: float) -> tf.Tensor:
    """One sketch, augmented (a ``tf.data`` map function; see the module docstring).

    Args:
      stroke3: float32 ``[L, 3]`` ``(dx, dy, pen_lifted)`` in the dataset's units.
      seed: int ``[2]``, the stateless seed of this example.
      aug: the transforms' strengths.
      stroke_scale: the dataset's offset scale (jitter is given in these units).

    Returns:
      float32 ``[L', 3]``, ``L' <= L`` (``L' = L`` unless ``drop_points``).
    """
    stroke3 = tf.cast(stroke3, tf.float32)  # [L, 3]
    if not aug.active:
        return stroke3
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)  # [3, 2]
    if aug.drop_points > 0:
        stroke3 = _drop_points(stroke3, seeds[2], aug.drop_points)
    offsets, lift = stroke3[:, :2], stroke3[:, 2:]  # [L, 2], [L, 1]
    if aug.rotation or aug.shear or aug.scale:
        offsets = offsets @ _affine(seeds[0], aug)  # [L, 2]
    if aug.jitter > 0:
        points = tf.cumsum(offsets, axis=0)  # [L, 2]
        noise = tf.random.stateless_normal(tf.shape(points), seed=seeds[1])  # [L, 2]
        points += noise * (aug.jitter * stroke_scale)
        offsets = points - tf.concat([tf.zeros([1, 2]), points[:-1]], axis=0)  # [L, 2]
    return tf.concat([offsets, lift], axis=1)  # [L', 3]

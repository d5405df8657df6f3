"""A second, independently augmented view of every example, for contrastive objectives.

With ``aux_view=True``, :func:`sketchembednet.data.pipeline.load` (and ``load_mixture``)
augment each example's raw strokes twice: once as always (the first view: ``image`` and
the target ``stroke5``, unchanged bit for bit) and once more with a stateless key of its
own (:func:`aux_key`). The second view travels as un-normalised, padded stroke-5
(:data:`AUX_STROKE5`, always ``[max_len + 1, 5]``: length bucketing cuts only the
target) and is rendered with the first as ``image_aux`` (:data:`AUX_IMAGE`, same shape
and dtype as ``image``). Only its image leaves the pipeline.

A second view needs strokes to render (a source with stored images, such as Sketchy's
photos, has none to re-render) and an active augmentation (otherwise both views would be
the same image): :func:`check_source` says so by name.

Example:
  >>> aug = augment_lib.Augmentation(rotation=30.0)
  >>> s3 = tf.constant([[4., 0., 0.], [0., 4., 1.]])
  >>> second = aux_strokes(s3, tf.constant(0, tf.int64), aux_key(0, 0, 0), aug, 1.0)
  >>> second.shape, bool(tf.reduce_all(second[:, 2] == s3[:, 2]))
  (TensorShape([2, 3]), True)
"""

from __future__ import annotations

import zlib

import tensorflow as tf

from sketchembednet.data import augment as augment_lib
from sketchembednet.data import rasterize
from sketchembednet.data import strokes

AUX_STROKES = "strokes_aux"  # Raw stroke-3 of the second view (per example).
AUX_STROKE5 = "stroke5_aux"  # Raw padded stroke-5 of the second view (until rendered).
AUX_IMAGE = "image_aux"  # The second view's rendering, in every batch.


def aux_key(seed: int, index: int, pipeline_id: int) -> int:
    """The stateless key of the second view of source ``index`` on one input pipeline.

    The first view's key is the crc32 of ``f"{seed}/{index}/{pipeline_id}"``; this one
    appends ``"/aux"``, so the two views are drawn independently.

    Example:
      >>> aux_key(0, 0, 0) == zlib.crc32(b"0/0/0/aux") & 0x7FFFFFFF
      True
    """
    return zlib.crc32(f"{seed}/{index}/{pipeline_id}/aux".encode()) & 0x7FFFFFFF


def check_source(name: str, rendered: bool, aug: augment_lib.Augmentation) -> None:
    """Raises ValueError unless a second view of source ``name`` can be made.

    Example:
      >>> check_source("sketchy", False, augment_lib.Augmentation(rotation=10.0))
      Traceback (most recent call last):
      ...
      ValueError: aux_view: dataset 'sketchy' stores its images (they are not rendered from \
the strokes), so it has no second view to render
    """
    if not rendered:
        raise ValueError(f"aux_view: dataset {name!r} stores its images (they are not rendered "
                         "from the strokes), so it has no second view to render")
    if not aug.active:
        raise ValueError(f"aux_view: dataset {name!r}: the second view needs an active "
                         "augmentation (with all strengths 0 it would equal the first)")


def aux_strokes(stroke3, example_index, key: int, aug: augment_lib.Augmentation,
                stroke_scale: float) -> tf.Tensor:
    """The second view's stroke-3 ``[L', 3]`` of one raw (un-augmented) example.

    Args:
      stroke3: float32 ``[L, 3]``, the example's strokes as read (before the first view's
        augmentation).
      example_index: int64 scalar, the example's position in the stream (as the first
        view's key uses it).
      key: :func:`aux_key`.
      aug: the augmentation (the same strengths as the first view's).
      stroke_scale: the source's offset scale.
    """
    seed_pair = tf.stack([tf.constant(key, tf.int64), example_index])  # [2]
    return augment_lib.augment_stroke3(stroke3, seed_pair, aug, stroke_scale)  # [L', 3]


def aux_stroke5(stroke3_aux, max_len: int) -> tf.Tensor:
    """The second view padded to ``[max_len + 1, 5]`` (un-normalised)."""
    stroke5, _ = strokes.stroke3_to_stroke5_tf(stroke3_aux, max_len)  # [T + 1, 5]
    return stroke5


def render_aux(batch: dict, image_size: int) -> tf.Tensor:
    """``image_aux`` uint8 ``[B, S, S, 1]`` of a batch of raw examples (its ``stroke5_aux``)."""
    return rasterize.render_images(batch[AUX_STROKE5], image_size)  # [B, S, S, 1]

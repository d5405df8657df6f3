"""Autoregressive decoding of embeddings into stroke-5 sketches.

:func:`sample_mixture` (defined in ``sketchembednet.layers.mixture``, importable from
here too) draws one stroke-5 row from mixture parameters with sketch-rnn's temperature
rule (Ha & Eck 2018, Sec. 3 / Magenta ``sample``): pi and pen logits are divided by tau,
the component variances multiplied by tau. ``greedy`` takes the most probable
component, its mean and the most probable pen state.

:func:`sample` runs a whole batch of embeddings through a decoder in ONE ``tf.function``
with a ``tf.while_loop``: each step feeds ``[z; y_{t-1}]`` back, each sketch stops at its
first end token (later rows become ``(0, 0, 0, 0, 1)``), and the loop exits as soon as
every sketch has ended. The authors always ran the full 64 steps and cut afterwards,
and sampled greedily by component (argmax pi) with a Gaussian sample; ``greedy=True``
here also takes the component mean.

Random draws are stateless (``tf.random.stateless_*``) with per-step seeds folded from
one seed, so a given seed gives the same sketches.
"""

import numpy as np
import tensorflow as tf

from sketchembednet.data import strokes
from sketchembednet.layers.mixture import sample_mixture

__all__ = ["sample", "sample_mixture"]


def sample(decoder, z, max_len=64, temperature=1.0, greedy=False, seed=None):
    """Decodes a batch of embeddings into stroke-5 sketches (one ``tf.function`` loop).

    Args:
      decoder: a ``SketchDecoder`` (anything with ``initial_state(z)``,
        ``step_cache(z)``, ``step(z, row, states, cache=...)`` and a ``head`` with
        ``split``).
      z: ``[B, Z]`` embeddings.
      max_len: T, the maximum number of generated rows.
      temperature: tau for sampling (ignored when greedy).
      greedy: deterministic decoding (see :func:`sample_mixture`).
      seed: int seed; None draws a random one.

    Returns:
      ``(stroke5 [B, T + 1, 5], lengths [B] int32)``: row 0 is the start token, rows
      after each sketch's first end token are end tokens, and ``lengths`` counts the
      rows before the end token (the stroke-3 length; T if the sketch never ended).

    Example:
      >>> from sketchembednet.models.sketch_decoder import SketchDecoder
      >>> decoder = SketchDecoder(rnn_units=16, hyper_units=8, hyper_embedding_size=4,
      ...                         num_mixtures=3)
      >>> strokes, lengths = sample(decoder, tf.zeros([2, 8]), max_len=5, seed=1)
      >>> strokes.shape, lengths.shape
      (TensorShape([2, 6, 5]), TensorShape([2]))
    """
    z = tf.convert_to_tensor(z, tf.float32)  # [B, Z]
    if not decoder.built:
        decoder.build((z.shape, (None, None, 5)))
    if seed is None:
        seed = np.random.randint(0, 2**31 - 1)
    seed = tf.stack([tf.cast(seed, tf.int32), 0])  # [2]
    max_len = tf.cast(max_len, tf.int32)
    temperature = tf.cast(temperature, tf.float32)
    return _sample_loop(decoder, z, max_len, temperature, bool(greedy), seed)


@tf.function(reduce_retracing=True)
def _sample_loop(decoder, z, max_len, temperature, greedy, seed):
    """The decoding loop of :func:`sample`; retraces per decoder and per ``greedy``."""
    batch = tf.shape(z)[0]
    start = tf.tile(tf.constant([strokes.START_TOKEN], z.dtype), [batch, 1])  # [B, 5]
    end = tf.tile(tf.constant([strokes.END_TOKEN], z.dtype), [batch, 1])  # [B, 5]
    cache = decoder.step_cache(z)  # packed weights and z projections, once per batch

    def body(t, prev, states, finished, lengths, rows):
        raw, states = decoder.step(z, prev, states, training=False, cache=cache)  # [B, 3+6M]
        step_seed = tf.random.experimental.stateless_fold_in(seed, t)  # [2]
        row = sample_mixture(decoder.head.split(raw), temperature, greedy, step_seed)  # [B, 5]
        is_end = row[:, 4] > 0.5  # [B]
        lengths = tf.where(tf.logical_and(is_end, tf.logical_not(finished)), t, lengths)  # [B]
        finished = tf.logical_or(finished, is_end)  # [B]
        row = tf.where(finished[:, None], end, row)  # [B, 5]
        return t + 1, row, states, finished, lengths, rows.write(t, row)

    def cond(t, prev, states, finished, lengths, rows):
        return tf.logical_and(t < max_len, tf.logical_not(tf.reduce_all(finished)))

    loop_vars = (
        tf.constant(0),
        start,
        decoder.initial_state(z),
        tf.zeros([batch], tf.bool),
        tf.fill([batch], max_len),
        tf.TensorArray(z.dtype, size=0, dynamic_size=True, element_shape=[None, 5]),
    )
    steps, _, _, _, lengths, rows = tf.while_loop(cond, body, loop_vars)
    body_rows = tf.transpose(rows.stack(), [1, 0, 2])  # [B, steps, 5]
    pad = tf.tile(end[:, None], [1, max_len - steps, 1])  # [B, T - steps, 5]
    stroke5 = tf.concat([start[:, None], body_rows, pad], axis=1)  # [B, T + 1, 5]
    return stroke5, lengths

"""Length bucketing keeps the mathematics: a batch cut to its longest sketch gives the
same per-example losses and gradients as the padded batch (``mask_after_end=True``)."""

import numpy as np
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.data import pipeline
from sketchembednet.data import rasterize
from sketchembednet.models import presets

T = 16  # configured max_len; the sketches below have 3..7 rows


def _batch(batch=5, seed=0):
    s5 = testing.random_stroke5(batch, T, seed, min_len=3, max_len=7)
    lengths = tf.cast(tf.reduce_sum(1.0 - s5[:, 1:, 4], axis=1), tf.int32)  # real rows
    return rasterize.render_images(s5, 28), s5, lengths


def _losses_and_grads(model, images, stroke5):
    """Per-example terms and gradients, from the same random state every call."""
    state = [v.numpy() for v in model.variables]
    with tf.GradientTape() as tape:
        terms = model.compute_losses(tf.cast(images, tf.float32), stroke5, alpha=0.5,
                                     training=True, per_example=True)
        total = tf.reduce_sum(terms["loss"])
    grads = tape.gradient(total, model.trainable_variables)
    for v, value in zip(model.variables, state):  # Seed generators, BatchNorm statistics.
        v.assign(value)
    return {k: v.numpy() for k, v in terms.items()}, [g.numpy() for g in grads]


def _model(mask_after_end):
    model = presets.build_model("tiny", max_seq_len=T, seed=3, mask_after_end=mask_after_end)
    model.build(((None, 28, 28, 1), (None, T + 1, 5)))
    return model


def test_trimmed_batch_gives_identical_per_example_losses_and_gradients():
    images, s5, lengths = _batch()
    trimmed = pipeline.trim_batch({"stroke5": s5, "length": lengths}, T)["stroke5"]
    assert trimmed.shape[1] == int(tf.reduce_max(lengths)) + 2 < T + 1
    model = _model(mask_after_end=True)
    padded_terms, padded_grads = _losses_and_grads(model, images, s5)
    trimmed_terms, trimmed_grads = _losses_and_grads(model, images, trimmed)
    assert padded_terms["pixel"].min() > 0  # The pixel term is really compared.
    for name in ("loss", "pen", "stroke", "pixel"):
        np.testing.assert_allclose(trimmed_terms[name], padded_terms[name], rtol=1e-5, atol=1e-6,
                                   err_msg=name)
    # Equal up to float32 summation order (reductions over T' vs T steps); the conv biases
    # before BatchNorm have a zero gradient up to rounding (~1e-8).
    for variable, a, b in zip(model.trainable_variables, trimmed_grads, padded_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=max(1e-6, 1e-5 * np.abs(b).max()),
                                   err_msg=variable.path)


def test_paper_pen_loss_depends_on_padding_so_bucketing_needs_the_mask():
    images, s5, lengths = _batch()
    trimmed = pipeline.trim_batch({"stroke5": s5, "length": lengths}, T)["stroke5"]
    model = _model(mask_after_end=False)
    padded_terms, _ = _losses_and_grads(model, images, s5)
    trimmed_terms, _ = _losses_and_grads(model, images, trimmed)
    np.testing.assert_allclose(trimmed_terms["stroke"], padded_terms["stroke"], rtol=1e-5)
    assert not np.allclose(trimmed_terms["pen"], padded_terms["pen"], rtol=1e-3)


def test_trim_keeps_a_full_length_sketch_whole():
    _, s5, lengths = _batch()
    full = tf.concat([lengths[:-1], [T]], axis=0)
    assert pipeline.trim_batch({"stroke5": s5, "length": full}, T)["stroke5"].shape[1] == T + 1

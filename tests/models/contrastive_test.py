"""Tests for sketchembednet.models.contrastive."""

import doctest
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import precision
from sketchembednet import testing
from sketchembednet.data import rasterize
from sketchembednet.models import contrastive
from sketchembednet.models import presets
from sketchembednet.models.contrastive import ContrastiveEmbedNet

T = 12


def _batch(batch=4, seed=0):
    s5 = testing.random_stroke5(batch, seed=seed)
    return tf.cast(rasterize.render_images(s5, 28), tf.float32), s5


def _model(encoder="conv4", filters=8, rnn_units=16, projection_dim=16, **kwargs):
    model = ContrastiveEmbedNet(
        presets.build_encoder(encoder, filters, 16, seed=1), rnn_units=rnn_units,
        projection_dim=projection_dim, seed=1, **kwargs,
    )
    model.build(((None, 28, 28, 1), (None, T + 1, 5)))
    return model


def test_doctests():
    assert doctest.testmod(contrastive).failed == 0


@pytest.mark.parametrize("encoder, filters", [("conv4", 8), ("resnet12", 4)])
def test_config_round_trip_and_save_load_give_identical_outputs(encoder, filters):
    model = _model(encoder, filters, temperature=0.2)
    images, s5 = _batch()
    restored = testing.assert_config_round_trip(model)
    assert restored.temperature == 0.2 and restored.rnn_units == 16
    loaded = testing.assert_save_load_equal(model, [(images, s5)], dict(training=False))
    np.testing.assert_array_equal(model.embed(images), loaded.embed(images))
    np.testing.assert_array_equal(model.embed_sketch(s5), loaded.embed_sketch(s5))
    for name, value in model.compute_losses(images, s5).items():
        np.testing.assert_array_equal(value, loaded.compute_losses(images, s5)[name])


def test_build_creates_every_variable():
    model = _model()
    count = len(model.variables)
    images, s5 = _batch()
    model.compute_losses(images, s5, training=True)
    assert len(model.variables) == count
    assert any("sketch_rnn" in v.path for v in model.variables)


def test_loss_terms_shapes_values_and_reference():
    model = _model()
    images, s5 = _batch(6, seed=1)
    per = model.compute_losses(images, s5, alpha=0.5, per_example=True)
    assert set(per) == set(ContrastiveEmbedNet.loss_terms)
    for name, value in per.items():
        assert value.shape == (6,) and value.dtype == tf.float32, name
        assert np.all(np.isfinite(value)), name
    assert np.all(per["loss"] >= 0.0)
    assert set(np.unique(per["accuracy"])) <= {0.0, 1.0}
    mean = model.compute_losses(images, s5)
    for name in ContrastiveEmbedNet.loss_terms:
        assert mean[name].shape == () and mean[name].dtype == tf.float32
        np.testing.assert_allclose(mean[name], np.mean(per[name]), rtol=1e-6)
    # Reference from the logits: symmetric cross-entropy with the diagonal as labels.
    logits = model((images, s5)).numpy().astype("float64")  # [B, B]
    assert logits.shape == (6, 6)
    assert np.all(np.abs(logits) <= 1.0 / model.temperature + 1e-4)  # cosine / temperature
    lse_rows = np.log(np.exp(logits).sum(axis=1))
    lse_cols = np.log(np.exp(logits).sum(axis=0))
    expected = 0.5 * (lse_rows + lse_cols) - np.diag(logits)
    np.testing.assert_allclose(per["loss"], expected, rtol=1e-5)
    np.testing.assert_array_equal(per["accuracy"], logits.argmax(axis=1) == np.arange(6))


@pytest.mark.parametrize("batch", [2, 5])
def test_identical_pairs_give_log_batch_size(batch):
    """All images equal and all sketches equal: every logit is the same, so both
    cross-entropies are log(B)."""
    images, s5 = _batch(1, seed=2)
    images, s5 = tf.tile(images, [batch, 1, 1, 1]), tf.tile(s5, [batch, 1, 1])
    per = _model().compute_losses(images, s5, per_example=True)
    np.testing.assert_allclose(per["loss"], np.full(batch, math.log(batch)), rtol=1e-5)


def test_sketch_embedding_and_loss_do_not_depend_on_padding():
    model = _model()
    s5 = testing.random_stroke5(5, steps=32, seed=3, max_len=9)
    real = int(tf.reduce_max(tf.reduce_sum(tf.cast(s5[:, 1:, 4] < 0.5, tf.int32), axis=1)))
    cut = s5[:, :real + 2]  # start row, the longest sketch, one end row
    assert cut.shape[1] < 20
    np.testing.assert_allclose(model.embed_sketch(s5), model.embed_sketch(cut), rtol=1e-5)
    # A dynamic T in one traced function, and a batch-level check through the loss.
    images = tf.cast(rasterize.render_images(s5, 28), tf.float32)
    losses = tf.function(
        lambda i, s: model.compute_losses(i, s, per_example=True)["loss"],
        input_signature=[
            tf.TensorSpec([None, 28, 28, 1], tf.float32), tf.TensorSpec([None, None, 5])
        ],
    )
    np.testing.assert_allclose(losses(images, s5), losses(images, cut), rtol=1e-5)
    # Sketches that differ only in their real rows get different embeddings.
    other = testing.random_stroke5(5, steps=32, seed=4, max_len=9)
    assert not np.allclose(model.embed_sketch(s5), model.embed_sketch(other))


def test_gradients_reach_every_trainable_weight_except_logvar():
    model = _model()
    images, s5 = _batch(seed=5)
    used = [v for v in model.trainable_weights if "/logvar/" not in v.path]
    unused = [v for v in model.trainable_weights if "/logvar/" in v.path]
    assert len(unused) == 2 and len(used) == len(model.trainable_weights) - 2

    def loss():
        return model.compute_losses(images, s5, training=True)["loss"]

    testing.assert_gradients_reach_all_weights(loss, used)
    with tf.GradientTape() as tape:
        value = loss()
    assert all(g is None for g in tape.gradient(value, unused))


def test_embed_is_the_deterministic_mean():
    model = _model()
    images, _ = _batch()
    embedding = model.embed(images)
    assert embedding.shape == (4, 16) and embedding.dtype == tf.float32
    np.testing.assert_array_equal(embedding, model.encoder(images, training=False)[1])


def test_short_overfit_on_eight_pairs():
    model = _model()
    images, s5 = _batch(8, seed=6)
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = model.compute_losses(images, s5, training=True)
        grads = tape.gradient(terms["loss"], model.trainable_weights)
        optimizer.apply_gradients(
            [(g, v) for g, v in zip(grads, model.trainable_weights) if g is not None]
        )  # The unused logvar head has no gradient.
        return terms

    first = step()
    for _ in range(39):
        last = step()
    final = model.compute_losses(images, s5, training=True)
    assert float(first["loss"]) > 1.5  # log(8) = 2.08 at random init, roughly
    assert float(final["loss"]) < 0.5 * float(first["loss"]), (first, last, final)
    assert float(final["accuracy"]) == 1.0 or float(final["loss"]) < 0.25 * float(first["loss"])


def test_fit_and_evaluate_report_the_terms():
    model = _model()
    images, s5 = _batch(8, seed=7)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    data = tf.data.Dataset.from_tensor_slices({"images": images, "stroke5": s5}).batch(4)
    history = model.fit(data, epochs=1, verbose=0, shuffle=False).history
    assert set(history) == {"total_loss", "accuracy"}
    assert np.isfinite(history["total_loss"][0]) and 0.0 <= history["accuracy"][0] <= 1.0
    assert set(model.evaluate(data, verbose=0, return_dict=True)) == set(history)


@pytest.mark.skipif(not precision.bf16_support()[0], reason="no native bfloat16 here")
def test_mixed_bfloat16_gives_float32_finite_losses():
    with precision.policy_scope("mixed_bfloat16"):
        model = ContrastiveEmbedNet(
            presets.build_encoder("conv4", 8, 16), rnn_units=16, projection_dim=16
        )
    model.build(((None, 28, 28, 1), (None, T + 1, 5)))
    assert model.sketch_rnn.compute_dtype == "bfloat16"
    assert model.image_hidden.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.trainable_weights)
    images, s5 = _batch(seed=8)
    assert model((images, s5)).dtype == tf.float32
    assert model.embed_sketch(s5).dtype == tf.float32
    for per_example in (False, True):
        terms = model.compute_losses(images, s5, training=True, per_example=per_example)
        for name, value in terms.items():
            assert value.dtype == tf.float32, name
            assert np.all(np.isfinite(value)), name


def test_shared_info_nce_gives_the_baselines_numbers_bit_for_bit():
    """The InfoNCE math moved to ``losses``: the logits and losses are those of the code it
    replaced (written out here), bit for bit."""
    model = _model()
    images, s5 = _batch(6, seed=9)
    _, mu, _ = model.encoder(images, training=False)
    sketch = model.embed_sketch(s5)

    def project(hidden, projection, x):
        return tf.math.l2_normalize(tf.cast(projection(hidden(x)), tf.float32), axis=-1)

    image_proj = project(model.image_hidden, model.image_projection, mu)
    sketch_proj = project(model.sketch_hidden, model.sketch_projection, sketch)
    logits = tf.matmul(image_proj, sketch_proj, transpose_b=True) / tf.cast(
        model.temperature, tf.float32)
    labels = tf.range(6)
    loss = 0.5 * (tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
                  + tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.transpose(logits)))
    np.testing.assert_array_equal(model((images, s5)), logits)
    per = model.compute_losses(images, s5, per_example=True)
    np.testing.assert_array_equal(per["loss"], loss)
    np.testing.assert_array_equal(
        per["accuracy"], tf.cast(tf.argmax(logits, axis=1, output_type=tf.int32) == labels,
                                 tf.float32))

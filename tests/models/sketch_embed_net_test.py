"""Tests for sketchembednet.models.sketch_embed_net."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.data import rasterize
from sketchembednet.models import presets
from sketchembednet.models import sketch_embed_net

T = 12


def _batch(batch=4, seed=0):
    s5 = testing.random_stroke5(batch, T, seed)
    return rasterize.render_images(s5, 28), s5


def _model(preset="tiny", **overrides):
    model = presets.build_model(preset, **dict(dict(max_seq_len=T, seed=1), **overrides))
    model.build(((None, 28, 28, 1), (None, T + 1, 5)))
    return model


def test_doctests():
    assert doctest.testmod(sketch_embed_net).failed == 0


@pytest.mark.parametrize("encoder", ["conv4", "resnet12"])
def test_config_round_trip_and_save_load_give_identical_outputs(encoder):
    model = _model(encoder=encoder, encoder_filters=4)
    images, s5 = _batch()
    testing.assert_config_round_trip(model)
    loaded = testing.assert_save_load_equal(model, [(images, s5)], dict(training=False))
    np.testing.assert_array_equal(model.embed(images), loaded.embed(images))
    for name, value in model.compute_losses(images, s5, alpha=0.0).items():
        np.testing.assert_array_equal(value, loaded.compute_losses(images, s5, alpha=0.0)[name])


TERMS = {
    "pen": lambda t: t["pen"],
    "stroke": lambda t: t["stroke"],
    "pixel": lambda t: t["pixel"],
    "total, alpha=0": lambda t: t["loss"],
    "total, alpha=0.5": lambda t: t["loss"],
}


@pytest.mark.parametrize("encoder", ["conv4", "resnet12"])
@pytest.mark.parametrize("term", sorted(TERMS))
def test_gradients_reach_every_trainable_weight_for_each_loss_term(term, encoder):
    model = _model(encoder=encoder, encoder_filters=4)
    testing.perturb_weights(model.trainable_weights, stddev=0.05, seed=2)
    bias = model.decoder.head.dense.bias
    bias.assign(tf.tensor_scatter_nd_update(bias, [[0]], [3.0]))  # pen down: draw segments
    images, s5 = _batch(seed=3)
    alpha = 0.0 if term in ("pen", "stroke", "total, alpha=0") else 0.5

    def loss():
        return TERMS[term](model.compute_losses(images, s5, alpha=alpha, training=True))

    testing.assert_gradients_reach_all_weights(loss, model.trainable_weights, what=term)


@pytest.mark.parametrize("scale", [30.0, 300.0])
def test_extreme_outputs_give_finite_losses_and_gradients(scale):
    """A head scaled up saturates rho, drives log sigma far past its bounds and makes
    huge offsets; nothing may become NaN or inf (pixel term on, long padding)."""
    model = _model(max_seq_len=64)
    head = model.decoder.head.dense
    head.kernel.assign(head.kernel * scale)
    head.bias.assign(tf.random.stateless_normal(head.bias.shape, [5, 5]) * scale)
    images, s5 = _batch(seed=4)
    s5 = tf.concat([s5, tf.tile(s5[:, -1:], [1, 52, 1])], axis=1)  # T = 64
    with tf.GradientTape() as tape:
        terms = model.compute_losses(images, s5, alpha=0.5, training=True)
    grads = tape.gradient(terms["loss"], model.trainable_weights)
    for name, value in terms.items():
        assert np.isfinite(value.numpy()), name
    for var, grad in zip(model.trainable_weights, grads):
        assert np.all(np.isfinite(tf.convert_to_tensor(grad).numpy())), var.path


def test_alpha_zero_skips_pixel_term_python_and_tensor_paths():
    model = _model()
    images, s5 = _batch()
    py = model.compute_losses(images, s5, alpha=0.0)
    tensor = model.compute_losses(images, s5, alpha=tf.constant(0.0))
    assert float(py["pixel"]) == float(tensor["pixel"]) == 0.0
    np.testing.assert_allclose(py["loss"], tensor["loss"], rtol=1e-6)
    np.testing.assert_allclose(py["loss"], py["pen"] + py["stroke"], rtol=1e-6)
    on = model.compute_losses(images, s5, alpha=tf.constant(0.5))
    assert float(on["pixel"]) > 0.0
    np.testing.assert_allclose(
        on["loss"], on["pen"] + 0.5 * on["stroke"] + 0.5 * on["pixel"], rtol=1e-5
    )


def test_per_example_terms_and_kl_weight():
    model = _model(kl_weight=0.1)
    images, s5 = _batch()
    per = model.compute_losses(images, s5, alpha=0.0, per_example=True)
    assert all(v.shape == (4,) for v in per.values())
    np.testing.assert_allclose(per["loss"], per["pen"] + per["stroke"] + 0.1 * per["kl"], rtol=1e-5)
    mean = model.compute_losses(images, s5, alpha=0.0)
    np.testing.assert_allclose(mean["loss"], np.mean(per["loss"]), rtol=1e-5)


def test_stroke_loss_is_normalised_by_configured_max_len():
    images, s5 = _batch()
    model_a, model_b = _model(max_seq_len=T), _model(max_seq_len=4 * T)
    model_b.set_weights(model_a.get_weights())
    a = model_a.compute_losses(images, s5, alpha=0.0, per_example=True)
    b = model_b.compute_losses(images, s5, alpha=0.0, per_example=True)
    np.testing.assert_allclose(a["stroke"], 4 * b["stroke"], rtol=1e-5)
    np.testing.assert_allclose(a["pen"], 4 * b["pen"], rtol=1e-5)


def test_embed_is_the_deterministic_mean():
    model = _model()
    images, _ = _batch()
    np.testing.assert_array_equal(model.embed(images), model.embed(images))
    np.testing.assert_array_equal(model.embed(images), model.encoder(images)[1])


def test_fit_reports_all_terms_and_reads_the_alpha_variable():
    model = _model()
    images, s5 = _batch(8)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    data = tf.data.Dataset.from_tensor_slices({"images": images, "stroke5": s5}).batch(4)
    history = model.fit(data, epochs=1, verbose=0, shuffle=False).history
    assert set(history) == {"total_loss", "pen_loss", "stroke_loss", "pixel_loss", "kl"}
    assert history["pixel_loss"] == [0.0]
    model.alpha_variable.assign(0.5)
    history = model.fit(data, epochs=1, verbose=0, shuffle=False).history
    assert history["pixel_loss"][0] > 0.0
    assert set(model.evaluate(data, verbose=0, return_dict=True)) == set(history)


def test_sample_uses_the_decoder():
    model = _model()
    images, _ = _batch()
    strokes, lengths = model.sample(model.embed(images), max_len=8, greedy=True)
    assert strokes.shape == (4, 9, 5) and lengths.shape == (4,)

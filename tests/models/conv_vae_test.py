"""Tests for sketchembednet.models.conv_vae."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import losses
from sketchembednet import precision
from sketchembednet import testing
from sketchembednet.data import rasterize
from sketchembednet.models import conv_vae
from sketchembednet.models import presets
from sketchembednet.models.conv_vae import ConvVAE

T = 12


def _batch(batch=4, size=28, channels=1, seed=0):
    """Rendered random sketches ``[B, S, S, C]`` (float 0..255, as the trainer passes them)
    and their stroke-5 ``[B, T + 1, 5]``."""
    s5 = testing.random_stroke5(batch, T, seed)
    images = tf.cast(rasterize.render_images(s5, size), tf.float32)  # [B, S, S, 1]
    return tf.tile(images, [1, 1, 1, channels]), s5


def _model(size=28, channels=1, encoder="conv4", filters=8, **kwargs):
    model = ConvVAE(
        presets.build_encoder(encoder, filters, 16, seed=1),
        image_shape=(size, size, channels), decoder_filters=8, **kwargs,
    )
    model.build(((None, size, size, channels), (None, T + 1, 5)))
    return model


def _calibrate_batch_norm(model, images):
    """Sets every BatchNorm's moving statistics to those of ``images``.

    Fresh moving statistics (mean 0, variance 1) leave the raw 0..255 inputs unscaled in
    inference mode: logvar reaches ~100 and the KL overflows to inf, as it does for any
    untrained encoder until the moving averages have warmed up.
    """
    norms = [layer for layer in model.encoder._flatten_layers()
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0
    model.encoder(images, training=True)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum


def _set_constant_logits(model, value):
    """Makes the decoder output ``value`` at every pixel, whatever z is."""
    model.logits_conv.kernel.assign(tf.zeros_like(model.logits_conv.kernel))
    model.logits_conv.bias.assign(tf.fill(model.logits_conv.bias.shape, value))


def test_doctests():
    assert doctest.testmod(conv_vae).failed == 0


@pytest.mark.parametrize("encoder, filters", [("conv4", 8), ("resnet12", 4)])
def test_config_round_trip_and_save_load_give_identical_outputs(encoder, filters):
    model = _model(encoder=encoder, filters=filters, kl_weight=0.5)
    testing.perturb_weights(model.trainable_weights, stddev=0.05, seed=3)
    images, s5 = _batch()
    _calibrate_batch_norm(model, images)
    restored = testing.assert_config_round_trip(model)
    assert restored.image_shape == (28, 28, 1) and restored.kl_weight == 0.5
    loaded = testing.assert_save_load_equal(model, [(images, s5)], dict(training=False))
    np.testing.assert_array_equal(model.embed(images), loaded.embed(images))
    np.testing.assert_array_equal(model.reconstruct(images), loaded.reconstruct(images))
    before, after = model.compute_losses(images, s5), loaded.compute_losses(images, s5)
    for name in ConvVAE.loss_terms:
        assert np.isfinite(before[name].numpy()), name
        np.testing.assert_array_equal(before[name], after[name])


def test_build_creates_every_variable_and_checks_the_image_shape():
    model = _model()
    count = len(model.weights)
    assert model.built and count > 0
    images, s5 = _batch()
    model.compute_losses(images, s5, training=True)
    model((images, s5))
    model.reconstruct(images)
    assert len(model.weights) == count  # Nothing was created lazily after build.
    with pytest.raises(ValueError, match="made for images"):
        ConvVAE(presets.build_encoder("conv4", 8, 16)).build((None, 32, 32, 1))


@pytest.mark.parametrize("size, channels", [(28, 1), (84, 3), (30, 1)])
def test_shapes_for_sketch_and_photo_sizes(size, channels):
    model = _model(size, channels)
    images, s5 = _batch(batch=2, size=size, channels=channels)
    logits = model((images, s5))
    assert logits.shape == (2, size, size, channels) and logits.dtype == tf.float32
    np.testing.assert_array_equal(logits, model(images))  # stroke-5 is optional.
    recon = model.reconstruct(images)
    assert recon.shape == (2, size, size, channels) and recon.dtype == tf.uint8
    assert model.embed(images).shape == (2, 16) and model.embed(images).dtype == tf.float32
    for name, value in model.compute_losses(images, s5, alpha=0.5, training=True).items():
        assert value.shape == () and np.isfinite(value.numpy()), name


def test_loss_terms_per_example_and_mean_agree_and_strokes_are_ignored():
    model = _model(kl_weight=0.25)
    images, s5 = _batch()
    _calibrate_batch_norm(model, images)
    per = model.compute_losses(images, s5, alpha=0.5, per_example=True)
    assert tuple(per) == ConvVAE.loss_terms == ("loss", "recon", "kl")
    for name, value in per.items():
        assert value.shape == (4,) and value.dtype == tf.float32, name
        assert np.all(np.isfinite(value.numpy())), name
    assert np.all(per["recon"].numpy() > 0) and np.all(per["kl"].numpy() > 0)
    np.testing.assert_allclose(per["loss"], per["recon"] + 0.25 * per["kl"], rtol=1e-6)
    mean = model.compute_losses(images)  # No stroke-5, no alpha: the same values.
    for name in ConvVAE.loss_terms:
        np.testing.assert_allclose(mean[name], np.mean(per[name]), rtol=1e-6)
    # KL is the encoder's KL divided by the number of pixels.
    _, mu, logvar = model.encoder(images, training=False)
    np.testing.assert_allclose(
        per["kl"], losses.kl_divergence(mu, logvar) / (28 * 28), rtol=1e-6
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_recon_is_per_pixel_bce_small_for_blank_images_and_large_for_a_mismatch(channels):
    model = _model(channels=channels)
    _set_constant_logits(model, -20.0)  # The decoder predicts no ink anywhere.
    blank = tf.fill([2, 28, 28, channels], 255.0)
    assert float(model.compute_losses(blank)["recon"]) < 1e-6
    ink = np.zeros([2, 28, 28, channels], "float32")
    ink[:, :7] = 1.0  # A quarter of the pixels is black ink.
    half_grey = np.full([2, 28, 28, channels], 0.5, "float32")
    # Sum over channels, mean over pixels: C * (1/4 * softplus(20) + 3/4 * softplus(-20)).
    expected = channels * (0.25 * np.logaddexp(0.0, 20.0) + 0.75 * np.logaddexp(0.0, -20.0))
    recon = model.compute_losses(255.0 * (1.0 - ink), per_example=True)["recon"]
    np.testing.assert_allclose(recon, [expected, expected], rtol=1e-5)
    # Grey (ink 0.5) everywhere: channels * (0.5 * 20 + log(1 + e^-20)) per pixel.
    recon = model.compute_losses(255.0 * (1.0 - half_grey))["recon"]
    np.testing.assert_allclose(recon, channels * (10.0 + np.logaddexp(0.0, -20.0)), rtol=1e-5)


def test_reconstruct_has_white_background_and_black_ink():
    model = _model()
    images, _ = _batch(batch=2)
    _set_constant_logits(model, -20.0)
    assert np.all(model.reconstruct(images).numpy() == 255)
    _set_constant_logits(model, 20.0)
    assert np.all(model.reconstruct(images).numpy() == 0)


def test_embed_is_the_deterministic_mean():
    model = _model()
    images, _ = _batch()
    np.testing.assert_array_equal(model.embed(images), model.embed(images))
    np.testing.assert_array_equal(model.embed(images), model.encoder(images)[1])


@pytest.mark.parametrize("kl_weight", [1.0, 0.0])
@pytest.mark.parametrize("encoder, filters", [("conv4", 8), ("resnet12", 4)])
def test_gradients_reach_every_trainable_weight(encoder, filters, kl_weight):
    """With kl_weight 0 the logvar head still learns, through the sampled z."""
    model = _model(encoder=encoder, filters=filters, kl_weight=kl_weight)
    images, s5 = _batch(seed=2)

    def loss():
        return model.compute_losses(images, s5, alpha=0.0, training=True)["loss"]

    testing.assert_gradients_reach_all_weights(loss, model.trainable_weights, what="loss")


def test_kl_term_alone_trains_only_the_encoder():
    model = _model()
    images, _ = _batch()
    with tf.GradientTape() as tape:
        kl = model.compute_losses(images, training=True)["kl"]
    grads = tape.gradient(kl, model.trainable_weights)
    encoder = {id(v) for v in model.encoder.trainable_weights}
    assert 0 < len(encoder) < len(model.trainable_weights)
    for var, grad in zip(model.trainable_weights, grads):
        assert (grad is None) == (id(var) not in encoder), var.path


def test_adam_overfits_a_tiny_batch():
    keras.utils.set_random_seed(0)
    model = _model()
    images, s5 = _batch(seed=5)
    optimizer = keras.optimizers.Adam(3e-3)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = model.compute_losses(images, s5, training=True)
        grads = tape.gradient(terms["loss"], model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        return terms["loss"]

    history = [float(step()) for _ in range(60)]
    assert np.all(np.isfinite(history))
    # Random init: about C * log 2 = 0.69 per pixel; the ink covers ~5% of the pixels.
    assert history[0] > 0.5 and np.mean(history[-5:]) < 0.5 * history[0], history


def test_fit_and_evaluate_report_all_terms():
    model = _model()
    images, s5 = _batch(8)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    data = tf.data.Dataset.from_tensor_slices({"images": images, "stroke5": s5}).batch(4)
    history = model.fit(data, epochs=2, verbose=0, shuffle=False).history
    assert set(history) == {"total_loss", "recon_loss", "kl"}
    assert history["total_loss"][1] < history["total_loss"][0]
    np.testing.assert_allclose(
        history["total_loss"], np.add(history["recon_loss"], history["kl"]), rtol=1e-5
    )
    assert set(model.evaluate(data, verbose=0, return_dict=True)) == set(history)
    images_only = tf.data.Dataset.from_tensor_slices(images).batch(4)
    assert set(model.fit(images_only, epochs=1, verbose=0, shuffle=False).history) == set(history)


def test_mixed_bfloat16_keeps_losses_float32_and_finite():
    ok, where = precision.bf16_support()
    if not ok:
        pytest.skip(f"no native bfloat16 on {where}")
    with precision.policy_scope("mixed_bfloat16"):
        model = _model(kl_weight=1.0)
    assert model.project.compute_dtype == "bfloat16"
    assert model.logits_conv.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.trainable_weights)
    images, s5 = _batch()
    assert model((images, s5)).dtype == tf.float32
    assert model.embed(images).dtype == tf.float32
    with tf.GradientTape() as tape:
        terms = model.compute_losses(images, s5, training=True, per_example=True)
        loss = tf.reduce_mean(terms["loss"])
    for name, value in terms.items():
        assert value.dtype == tf.float32 and value.shape == (4,), name
        assert np.all(np.isfinite(value.numpy())), name
    grads = tape.gradient(loss, model.trainable_weights)
    for var, grad in zip(model.trainable_weights, grads):
        grad = tf.convert_to_tensor(grad)
        assert grad.dtype == tf.float32 and np.all(np.isfinite(grad.numpy())), var.path

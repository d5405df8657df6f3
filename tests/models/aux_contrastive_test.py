"""Tests for SketchEmbedNet's optional auxiliary contrastive term (``aux_contrastive_weight``)."""

import random
import re

import keras
import numpy as np
import pytest
import scipy.special
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.data import rasterize
from sketchembednet.models import factory
from sketchembednet.models import presets
from sketchembednet.models.sketch_decoder import SketchDecoder
from sketchembednet.models.sketch_embed_net import SketchEmbedNet

T = 12


@pytest.fixture(autouse=True)
def _python_random_restored():
    """Tests seed Python's random (not TF's global seed, which would change every seeded
    tf.data shuffle of later tests); its state is restored afterwards."""
    state = random.getstate()
    yield
    random.setstate(state)


def _views(batch=4, seed=0):
    """Two batches of different sketches, rendered: stand-ins for the two views."""
    s5 = testing.random_stroke5(batch, T, seed)
    other = testing.random_stroke5(batch, T, seed + 100)
    images = tf.cast(rasterize.render_images(s5, 28), tf.float32)
    return images, s5, tf.cast(rasterize.render_images(other, 28), tf.float32)


def _model(weight=0.5, **overrides):
    random.seed(0)  # Unseeded initialisers draw their seeds from Python's random.
    model = presets.build_model("tiny", **dict(dict(max_seq_len=T, seed=1,
                                                    aux_contrastive_weight=weight), **overrides))
    model.build(((None, 28, 28, 1), (None, T + 1, 5)))
    return model


def _signature(model):
    """Each variable's path (without Keras' uniquifying ``_<n>`` suffixes), shape, dtype."""
    return [(re.sub(r"_\d+(?=/|$)", "", v.path), tuple(v.shape), v.dtype, v.trainable)
            for v in model.variables]


def test_weight_zero_is_todays_model_variable_for_variable():
    """The default builds no head: the same variables (paths, shapes, order: the checkpoint
    layout is positional) and the same initial values as a model built without the
    new arguments, and the loss ignores aux_images."""
    random.seed(0)
    today = presets.build_model("tiny", max_seq_len=T, seed=1)  # Defaults everywhere.
    today.build(((None, 28, 28, 1), (None, T + 1, 5)))
    random.seed(0)
    direct = SketchEmbedNet(presets.build_encoder("conv4", 8, 16, seed=1), SketchDecoder(
        rnn_units=32, hyper_units=16, hyper_embedding_size=4, num_mixtures=3, seed=1),
        max_seq_len=T, seed=1)  # The constructor as it was called before the term existed.
    direct.build(((None, 28, 28, 1), (None, T + 1, 5)))
    off = _model(weight=0.0)
    assert off.aux_hidden is None and off.aux_projection is None
    assert _signature(off) == _signature(today) == _signature(direct)
    assert not any("aux" in v.path for v in off.variables)
    for a, b, c in zip(off.variables, today.variables, direct.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert off.loss_terms == SketchEmbedNet.loss_terms == ("loss", "pen", "stroke", "pixel", "kl")
    assert off.metric_names == SketchEmbedNet.metric_names
    images, s5, aux = _views()
    plain = off.compute_losses(images, s5, alpha=0.5, per_example=True)
    first = today.compute_losses(images, s5, alpha=0.5, per_example=True)  # Its first call too.
    for name in first:  # Bit for bit (the pixel noise is seeded, the same per call count).
        np.testing.assert_array_equal(plain[name], first[name], err_msg=name)
    given = off.compute_losses(images, s5, alpha=0.0, per_example=True, aux_images=aux)
    plain = off.compute_losses(images, s5, alpha=0.0, per_example=True)
    assert set(given) == set(plain) == set(SketchEmbedNet.loss_terms)
    for name in plain:
        np.testing.assert_array_equal(given[name], plain[name], err_msg=name)


def test_weight_adds_only_the_projection_head_after_every_other_variable():
    off, on = _model(weight=0.0), _model(weight=0.1, aux_projection_dim=24)
    extra = on.variables[len(off.variables):]
    assert _signature(on)[:len(off.variables)] == _signature(off)
    assert [(v.path.split("/")[-2:], tuple(v.shape)) for v in extra] == [
        (["aux_hidden", "kernel"], (16, 16)), (["aux_hidden", "bias"], (16,)),
        (["aux_projection", "kernel"], (16, 24)), (["aux_projection", "bias"], (24,))]
    for a, b in zip(off.variables, on.variables):  # The head draws no other seed.
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert on.loss_terms == (*SketchEmbedNet.loss_terms, "contrastive")
    assert on.metric_names[-1] == "contrastive" and len(on.metrics) == 6


def test_contrastive_term_equals_a_hand_computation():
    model = _model(weight=0.5, aux_temperature=0.2)
    testing.perturb_weights(model.trainable_weights, stddev=0.05, seed=3)
    images, s5, aux = _views(6, seed=2)
    per = model.compute_losses(images, s5, alpha=0.0, per_example=True, aux_images=aux)
    assert set(per) == {"loss", "pen", "stroke", "pixel", "kl", "contrastive"}

    def head(x):  # Dense -> ReLU -> Dense, by hand.
        w1, b1 = (v.numpy().astype("float64") for v in model.aux_hidden.weights)
        w2, b2 = (v.numpy().astype("float64") for v in model.aux_projection.weights)
        p = np.maximum(x @ w1 + b1, 0.0) @ w2 + b2
        return p / np.linalg.norm(p, axis=1, keepdims=True)

    mu1 = model.encoder(images, training=False)[1].numpy().astype("float64")
    mu2 = model.encoder(aux, training=False)[1].numpy().astype("float64")
    logits = head(mu1) @ head(mu2).T / 0.2  # [6, 6]
    want = 0.5 * (scipy.special.logsumexp(logits, axis=1)
                  + scipy.special.logsumexp(logits, axis=0)) - np.diag(logits)
    np.testing.assert_allclose(per["contrastive"], want, rtol=1e-4)
    # The total is the drawing loss plus weight x the term; the drawing terms are unchanged.
    drawing = model.compute_losses(images, s5, alpha=0.0, per_example=True)
    np.testing.assert_array_equal(drawing["contrastive"], np.zeros(6, "float32"))
    for name in ("pen", "stroke", "pixel", "kl"):
        np.testing.assert_array_equal(per[name], drawing[name], err_msg=name)
    np.testing.assert_allclose(per["loss"], drawing["loss"] + 0.5 * want, rtol=1e-5)
    mean = model.compute_losses(images, s5, alpha=0.0, aux_images=aux)
    np.testing.assert_allclose(mean["contrastive"], want.mean(), rtol=1e-4)


def test_aux_gradient_reaches_the_head_and_the_encoder():
    model = _model(weight=0.3)
    images, s5, aux = _views(seed=4)
    head = model.aux_hidden.trainable_weights + model.aux_projection.trainable_weights
    encoder = [v for v in model.encoder.trainable_weights if "/logvar/" not in v.path]
    assert len(head) == 4 and encoder

    def term():
        return model.compute_losses(images, s5, alpha=0.0, training=True,
                                    aux_images=aux)["contrastive"]

    testing.assert_gradients_reach_all_weights(term, head + encoder, what="contrastive")
    with tf.GradientTape() as tape:
        value = term()
    grads = tape.gradient(value, model.decoder.trainable_weights)
    assert all(g is None for g in grads)  # The term does not touch the decoder.
    # Through the total too: the head is trained by the loss the trainer minimises.
    testing.assert_gradients_reach_all_weights(
        lambda: model.compute_losses(images, s5, alpha=0.0, training=True,
                                     aux_images=aux)["loss"], head, what="total")


def test_training_without_the_second_view_is_refused():
    model = _model(weight=0.1)
    images, s5, _ = _views()
    with pytest.raises(ValueError, match=r"aux_contrastive_weight=0.1 needs aux_images"):
        model.compute_losses(images, s5, training=True)
    assert float(model.compute_losses(images, s5)["contrastive"]) == 0.0  # Evaluation.


def test_config_round_trip_and_save_load():
    model = _model(weight=0.25, aux_projection_dim=8, aux_temperature=0.3)
    images, s5, aux = _views()
    restored = testing.assert_config_round_trip(model)
    assert (restored.aux_contrastive_weight, restored.aux_projection_dim,
            restored.aux_temperature) == (0.25, 8, 0.3)
    loaded = testing.assert_save_load_equal(model, [(images, s5)], dict(training=False))
    for name, value in model.compute_losses(images, s5, alpha=0.0, aux_images=aux).items():
        np.testing.assert_array_equal(
            value, loaded.compute_losses(images, s5, alpha=0.0, aux_images=aux)[name])


def test_factory_builds_the_head_from_a_training_config():
    from sketchembednet.configs import demo

    config = demo.get_config("tiny")
    assert config.model.aux_contrastive_weight == 0.0
    assert (config.model.aux_projection_dim, config.model.aux_temperature) == (128, 0.1)
    assert factory.from_config(config, (28, 28, 1)).aux_hidden is None
    config.model.aux_contrastive_weight = 0.1
    config.model.aux_projection_dim = 32
    model = factory.from_config(config, (28, 28, 1))
    assert model.built and model.aux_projection.kernel.shape == (16, 32)
    old = config.to_dict()  # A config.json from before the term existed builds today's model.
    for key in ("aux_contrastive_weight", "aux_projection_dim", "aux_temperature"):
        del old["model"][key]
    assert factory.from_config(old, (28, 28, 1)).aux_hidden is None


def test_short_overfit_lowers_the_contrastive_term():
    model = _model(weight=1.0)
    images, s5, _ = _views(8, seed=6)
    # A second view: the same sketches shifted by a pixel (a crude augmentation).
    aux = tf.roll(images, shift=1, axis=2)
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = model.compute_losses(images, s5, alpha=0.0, training=True, aux_images=aux)
        grads = tape.gradient(terms["loss"], model.trainable_weights)
        optimizer.apply_gradients(
            [(g, v) for g, v in zip(grads, model.trainable_weights) if g is not None])
        return terms["contrastive"]

    first = float(step())
    for _ in range(29):
        last = float(step())
    assert last < 0.5 * first, (first, last)


def test_mixed_bfloat16_gives_a_float32_finite_term():
    from sketchembednet import precision

    if not precision.bf16_support()[0]:
        pytest.skip("no native bfloat16 here")
    model = _model(weight=0.1, precision="mixed_bfloat16")
    assert model.aux_hidden.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.trainable_weights)
    images, s5, aux = _views(seed=8)
    per = model.compute_losses(images, s5, alpha=0.5, training=True, per_example=True,
                               aux_images=aux)
    assert per["contrastive"].dtype == per["loss"].dtype == tf.float32
    assert all(np.all(np.isfinite(v)) for v in per.values())

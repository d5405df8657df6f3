"""Tests for sketchembednet.models.sketch_decoder."""

import doctest

import numpy as np
import tensorflow as tf

from sketchembednet import losses
from sketchembednet import testing
from sketchembednet.models import sketch_decoder
from sketchembednet.models.sketch_decoder import SketchDecoder

KWARGS = dict(rnn_units=24, hyper_units=12, hyper_embedding_size=4, num_mixtures=3)
B, T, Z = 3, 10, 6


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(B, Z)).astype("float32")
    s5 = np.zeros((B, T + 1, 5), "float32")
    s5[:, 0] = [0, 0, 1, 0, 0]
    for b, length in enumerate([T, 6, 3]):
        s5[b, 1:length + 1, :2] = rng.normal(size=(length, 2))
        lift = rng.random(length) < 0.3
        s5[b, 1:length + 1, 2], s5[b, 1:length + 1, 3] = 1 - lift, lift
        s5[b, length + 1:, 4] = 1
    return tf.constant(z), tf.constant(s5)


def _decoder(**overrides):
    decoder = SketchDecoder(**dict(KWARGS, **overrides))
    decoder.build(((None, Z), (None, T + 1, 5)))
    testing.perturb_weights(decoder.weights, stddev=0.05, seed=3)
    return decoder


def test_config_round_trip_and_save_load():
    decoder = _decoder()
    testing.assert_config_round_trip(decoder)
    testing.assert_save_load_equal(decoder, [_batch()], dict(training=False))


def test_doctests():
    assert doctest.testmod(sketch_decoder).failed == 0


def test_initial_state_is_tanh_dense_of_z():
    decoder = _decoder()
    z, _ = _batch()
    states = decoder.initial_state(z)
    assert [s.shape[-1] for s in states] == [24, 24, 12, 12]
    dense = decoder.initial_state_dense
    want = np.tanh(z.numpy() @ dense.kernel.numpy() + dense.bias.numpy())
    np.testing.assert_allclose(np.concatenate(states, -1), want, atol=1e-6)
    assert dense.kernel.shape == (Z, 2 * (24 + 12))


def _loss(raw, decoder, s5):
    params = decoder.head.split(raw)
    target = s5[:, 1:]
    pen = losses.pen_cross_entropy(params["pen_logits"], target[..., 2:], T)
    return tf.reduce_mean(pen + losses.stroke_nll(params, target, T))


def test_fast_path_equals_keras_rnn_reference_in_loss_and_gradients():
    decoder = _decoder()
    z, s5 = _batch(1)
    z = tf.Variable(z)
    results = []
    for path in (decoder.call, decoder.reference_call):
        with tf.GradientTape() as tape:
            raw = path((z, s5))
            loss = _loss(raw, decoder, s5)
        grads = tape.gradient(loss, [z] + decoder.trainable_weights)
        results.append((raw, loss, grads))
    (raw_a, loss_a, grads_a), (raw_b, loss_b, grads_b) = results
    np.testing.assert_allclose(raw_a, raw_b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-6)
    for var, ga, gb in zip([z] + decoder.trainable_weights, grads_a, grads_b):
        scale = np.abs(gb.numpy()).max() + 1e-8
        name = getattr(var, "path", "z")
        np.testing.assert_allclose(ga / scale, gb / scale, atol=1e-4, err_msg=name)


def test_fast_path_equals_reference_inside_tf_function():
    decoder = _decoder()
    batch = _batch(2)
    fast = tf.function(lambda b: decoder(b))(batch)
    ref = tf.function(lambda b: decoder.reference_call(b))(batch)
    np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-5)


def test_step_by_step_equals_teacher_forced_call():
    decoder = _decoder()
    z, s5 = _batch(3)
    expected = decoder((z, s5))
    states = decoder.initial_state(z)
    for t in range(T):
        raw, states = decoder.step(z, s5[:, t], states)
        np.testing.assert_allclose(raw, expected[:, t], rtol=1e-5, atol=1e-5)


def test_recurrent_dropout_only_in_training():
    decoder = _decoder(recurrent_dropout=0.3, seed=1)
    batch = _batch(4)
    off = decoder(batch)
    np.testing.assert_array_equal(off, decoder(batch, training=False))
    assert not np.allclose(decoder(batch, training=True), off)

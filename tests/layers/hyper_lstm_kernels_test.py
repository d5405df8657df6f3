"""Tests for sketchembednet.layers.hyper_lstm_kernels."""

import doctest

import numpy as np
import tensorflow as tf

from sketchembednet.layers import hyper_lstm_kernels

B, H, E = 5, 6, 3


def test_doctests():
    assert doctest.testmod(hyper_lstm_kernels).failed == 0


def _autodiff_ln_lstm_update(pre, c, gamma, beta, c_gamma, c_beta, forget_bias):
    """The same update written plainly, differentiated by TensorFlow."""
    i, j, f, o = tf.split(hyper_lstm_kernels.layer_norm(pre, gamma, beta, 4), 4, axis=-1)
    new_c = c * tf.sigmoid(f + forget_bias) + tf.sigmoid(i) * tf.tanh(j)
    return tf.tanh(hyper_lstm_kernels.layer_norm(new_c, c_gamma, c_beta, 1)) * tf.sigmoid(o), new_c


def _values_and_gradients(fn, inputs, weights):
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs = fn(*inputs)
        loss = sum(tf.reduce_sum(tf.sin(out) * w) for out, w in zip(outputs, weights))
    return list(outputs) + tape.gradient(loss, inputs)


def test_ln_lstm_update_equals_autodiff_in_values_and_gradients():
    rng = np.random.default_rng(0)
    inputs = [tf.constant(rng.normal(size=(B, 4 * H)) * 2 + 0.5, tf.float32),
              tf.constant(rng.normal(size=(B, H)), tf.float32)]
    inputs += [tf.constant(rng.normal(size=n) * 0.5 + m, tf.float32)
               for n, m in ((4 * H, 1.0), (4 * H, 0.0), (H, 1.0), (H, 0.0))]
    weights = [tf.constant(rng.normal(size=(B, H)), tf.float32) for _ in range(2)]
    got = _values_and_gradients(
        lambda *a: hyper_lstm_kernels.ln_lstm_update(*a, forget_bias=1.0), inputs, weights)
    want = _values_and_gradients(
        lambda *a: _autodiff_ln_lstm_update(*a, forget_bias=1.0), inputs, weights)
    names = ["h", "c", "d pre", "d c", "d gamma", "d beta", "d c_gamma", "d c_beta"]
    for name, g, w in zip(names, got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def _autodiff_modulate(x_main, recurrent, e_x, e_h, e_b, alpha_x, alpha_h, beta_h, bias):
    def vector(e, kernel):
        return tf.reshape(tf.einsum("bge,geh->bgh", e, kernel), [-1, 4 * H])

    return (vector(e_x, alpha_x) * x_main + vector(e_h, alpha_h) * recurrent
            + vector(e_b, beta_h) + bias),


def test_modulate_equals_autodiff_in_values_and_gradients():
    rng = np.random.default_rng(1)
    shapes = [(B, 4 * H)] * 2 + [(B, 4, E)] * 3 + [(4, E, H)] * 3 + [(4 * H,)]
    inputs = [tf.constant(rng.normal(size=s), tf.float32) for s in shapes]
    weights = [tf.constant(rng.normal(size=(B, 4 * H)), tf.float32)]
    got = _values_and_gradients(lambda *a: (hyper_lstm_kernels.modulate(*a),), inputs, weights)
    want = _values_and_gradients(_autodiff_modulate, inputs, weights)
    names = ["pre", "d x_main", "d recurrent", "d e_x", "d e_h", "d e_b", "d alpha_x",
             "d alpha_h", "d beta_h", "d bias"]
    for name, g, w in zip(names, got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)

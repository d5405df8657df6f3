"""Tests for sketchembednet.layers.hyper_lstm_cell."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.layers import hyper_lstm_cell
from sketchembednet.layers.hyper_lstm_cell import HyperLSTMCell

B, D, H, HH, E = 3, 7, 12, 8, 4
KWARGS = dict(units=H, hyper_units=HH, hyper_embedding_size=E)


def _inputs(seed=0, batch=B):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, D)).astype("float32")
    states = [rng.normal(size=(batch, n)).astype("float32") * 0.5 for n in (H, H, HH, HH)]
    return x, states


def test_layer_harness():
    x, states = _inputs()
    cell = testing.run_layer_test(
        HyperLSTMCell, KWARGS, [x, states], expected_output_shape=(B, H)
    )
    assert cell.state_size == [H, H, HH, HH]
    assert cell.output_size == H


def test_doctests():
    assert doctest.testmod(hyper_lstm_cell, extraglobs={"keras": keras}).failed == 0


# --- A NumPy re-implementation of Magenta's HyperLSTMCell (sketch_rnn/rnn.py), gate by
# --- gate, with separate HyperNorms per gate, read from the cell's weights.


def _np_layer_norm(x, gamma, beta, eps=1e-3):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _np_ln_all(x, gamma, beta, n):
    parts = np.split(x, 4, axis=-1)
    g, b = np.split(gamma, 4), np.split(beta, 4)
    return np.concatenate([_np_layer_norm(p, gi, bi) for p, gi, bi in zip(parts, g, b)], -1)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_hyper_norm(norm, hyper_out, y, gate):
    w = {v.path.split("/")[-1]: v.numpy().astype(np.float64) for v in norm.weights}
    sl = slice(gate * E, (gate + 1) * E)
    zw = hyper_out @ w["zw_kernel"][:, sl] + w["zw_bias"][sl]
    out = (zw @ w["alpha_kernel"][gate]) * y
    if "zb_kernel" in w:
        out = out + (hyper_out @ w["zb_kernel"][:, sl]) @ w["beta_kernel"][gate]
    return out


def _np_magenta_step(cell, x, states):
    w = {v.path.split("/")[-1]: v.numpy().astype(np.float64) for v in cell.weights}
    h, c, hh, hc = [s.astype(np.float64) for s in states]
    x = x.astype(np.float64)
    # Hyper LayerNormLSTMCell on [x; h]: no bias, h = tanh(LN(c)) * sigmoid(o).
    hyper_w = np.concatenate([w["hyper_kernel"], w["hyper_main_kernel"]], 0)
    pre = np.concatenate([x, h], -1) @ hyper_w + hh @ w["hyper_recurrent_kernel"]
    i, j, f, o = np.split(_np_ln_all(pre, w["hyper_ln_gamma"], w["hyper_ln_beta"], HH), 4, -1)
    hc = hc * _sigmoid(f + 1.0) + _sigmoid(i) * np.tanh(j)
    hh = np.tanh(_np_layer_norm(hc, w["hyper_ln_c_gamma"], w["hyper_ln_c_beta"])) * _sigmoid(o)
    # Main cell: bias-free HyperNorm on W_xh x, biased on W_hh h, then the gate bias.
    xs = np.split(x @ w["kernel"], 4, -1)
    hs = np.split(h @ w["recurrent_kernel"], 4, -1)
    bs = np.split(w["bias"], 4)
    gates = [
        _np_hyper_norm(cell.hyper_norm_x, hh, xs[g], g)
        + _np_hyper_norm(cell.hyper_norm_h, hh, hs[g], g)
        + bs[g]
        for g in range(4)
    ]
    pre = _np_ln_all(np.concatenate(gates, -1), w["ln_gamma"], w["ln_beta"], H)
    i, j, f, o = np.split(pre, 4, -1)
    c = c * _sigmoid(f + 1.0) + _sigmoid(i) * np.tanh(j)
    h = np.tanh(_np_layer_norm(c, w["ln_c_gamma"], w["ln_c_beta"])) * _sigmoid(o)
    return h, [h, c, hh, hc]


def test_step_matches_numpy_magenta_reference():
    x, states = _inputs(1)
    cell = HyperLSTMCell(**KWARGS)
    cell.build((None, D))
    testing.perturb_weights(cell.weights, stddev=0.3, seed=1)  # Move off the symmetric init.
    h, new_states = cell(x, states)
    ref_h, ref_states = _np_magenta_step(cell, x, states)
    np.testing.assert_allclose(h, ref_h, atol=1e-5)
    for got, want in zip(new_states, ref_states):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_magenta_initialisation():
    cell = HyperLSTMCell(**KWARGS)
    cell.build((None, D))
    w = cell.recurrent_kernel.numpy()
    for block in np.split(w, 4, axis=1):  # Orthogonal per gate block.
        np.testing.assert_allclose(block.T @ block, np.eye(H), atol=1e-5)
    np.testing.assert_array_equal(cell.bias.numpy(), 0.0)
    np.testing.assert_array_equal(cell.ln_gamma.numpy(), 1.0)
    norm = cell.hyper_norm_h
    np.testing.assert_array_equal(norm.zw_kernel.numpy(), 0.0)
    np.testing.assert_array_equal(norm.zw_bias.numpy(), 1.0)
    np.testing.assert_allclose(norm.alpha_kernel.numpy(), 0.1 / E)
    np.testing.assert_array_equal(norm.beta_kernel.numpy(), 0.0)
    assert not hasattr(cell.hyper_norm_x, "beta_kernel")  # bias-free on W_xh x
    limit = np.sqrt(6.0 / (D + 4 * H))  # Glorot-uniform W_xh
    assert np.abs(cell.kernel.numpy()).max() <= limit


def test_keras_rnn_equals_tf_function_range_loop():
    rng = np.random.default_rng(2)
    seq = rng.normal(size=(B, 9, D)).astype("float32")
    cell = HyperLSTMCell(**KWARGS)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    expected = rnn(seq)

    @tf.function
    def loop(seq):
        states = cell.get_initial_state(B)
        outputs = tf.TensorArray(tf.float32, size=9)
        for t in tf.range(9):
            h, states = cell(seq[:, t], states)
            outputs = outputs.write(t, h)
        return tf.transpose(outputs.stack(), [1, 0, 2])

    np.testing.assert_allclose(loop(seq), expected, atol=1e-6)


def test_project_inputs_by_parts_equals_whole():
    x, _ = _inputs(3)
    cell = HyperLSTMCell(**KWARGS)
    cell.build((None, D))
    whole = cell.project_inputs(x)
    first = cell.project_inputs(x[:, :3])
    rest = cell.project_inputs(x[:, 3:], start=3)
    for w, a, b in zip(whole, first, rest):
        np.testing.assert_allclose(w, a + b, atol=1e-5)


@pytest.mark.parametrize("name, state", [("recurrent_dropout", 1), ("hyper_recurrent_dropout", 3)])
def test_recurrent_dropout_is_a_rate_applied_only_in_training(name, state):
    # With a zero previous cell state, the new one is c' = sigmoid(i) * dropout(tanh(j)):
    # exactly 0 where the candidate was dropped, c'_eval / (1 - rate) where it was kept.
    # A rate of 0.2 (not 0.5) tells a drop rate from a keep probability (which would
    # drop 80%); 2000 x 8 or more draws put 0.2 within +-0.02 with a margin > 6 sigma.
    rate = 0.2
    x, states = _inputs(4, batch=2000)
    states[state] = np.zeros_like(states[state])
    cell = HyperLSTMCell(**KWARGS, **{name: rate}, seed=3)
    off = cell(x, states)[1][state].numpy()
    np.testing.assert_array_equal(off, cell(x, states, training=False)[1][state])
    assert np.all(off != 0.0)
    on = cell(x, states, training=True)[1][state].numpy()
    dropped = on == 0.0
    assert abs(dropped.mean() - rate) < 0.02, f"dropped {dropped.mean():.3f}, rate {rate}"
    np.testing.assert_allclose(on[~dropped], off[~dropped] / (1.0 - rate), rtol=1e-5)


def test_recurrent_dropout_in_a_keras_rnn_is_finite():
    cell = HyperLSTMCell(**KWARGS, recurrent_dropout=0.2, hyper_recurrent_dropout=0.2, seed=3)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    out = tf.function(lambda s: rnn(s, training=True))(np.ones((B, 5, D), "float32"))
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_bad_dropout_rate_is_rejected(rate):
    with pytest.raises(ValueError, match="rate"):
        HyperLSTMCell(**KWARGS, recurrent_dropout=rate)

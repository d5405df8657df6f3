"""Tests for sketchembednet.losses."""

import doctest

import numpy as np
import pytest
import scipy.special
import tensorflow as tf

from sketchembednet import losses
from sketchembednet.data import rasterize
from sketchembednet.data import strokes
from sketchembednet.layers import mixture

M = 3


def _stroke5(lengths, t_max, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    s5 = np.zeros((len(lengths), t_max + 1, 5), "float32")
    s5[:, 0] = strokes.START_TOKEN
    for b, length in enumerate(lengths):
        s5[b, 1:length + 1, :2] = rng.normal(size=(length, 2)) * scale
        lift = rng.random(length) < 0.3
        lift[-1] = True
        s5[b, 1:length + 1, 2], s5[b, 1:length + 1, 3] = 1 - lift, lift
        s5[b, length + 1:, 4] = 1
    return s5


def _params(shape, seed=0):
    rng = np.random.default_rng(seed)
    p = {k: tf.constant(rng.normal(size=shape + (M,)).astype("float32") * 0.5)
         for k in ("mu1", "mu2", "log_sigma1", "log_sigma2")}
    p["rho"] = tf.tanh(tf.constant(rng.normal(size=shape + (M,)).astype("float32")))
    p["log_pi"] = tf.nn.log_softmax(tf.constant(rng.normal(size=shape + (M,)).astype("float32")))
    p["pen_logits"] = tf.constant(rng.normal(size=shape + (3,)).astype("float32"))
    return p


def test_doctests():
    assert doctest.testmod(losses).failed == 0


def test_stroke_nll_masks_end_rows_and_divides_by_configured_max_len():
    s5 = _stroke5([5, 2], t_max=8)
    params = _params((2, 8))
    log_p = mixture.mixture_log_prob(params, s5[:, 1:, :2]).numpy()  # [2, 8]
    got = losses.stroke_nll(params, tf.constant(s5[:, 1:]), max_len=64).numpy()
    np.testing.assert_allclose(got, [-log_p[0, :5].sum() / 64, -log_p[1, :2].sum() / 64], rtol=1e-6)


def test_per_example_losses_do_not_depend_on_batch_padding():
    s5 = _stroke5([4], t_max=6)
    padded = np.concatenate([s5, np.tile(s5[:, -1:], [1, 10, 1])], axis=1)  # T 6 -> 16
    p_short, p_long = _params((1, 6)), _params((1, 16))
    p_long = {k: tf.concat([p_short[k], v[:, 6:]], axis=1) for k, v in p_long.items()}
    args = dict(max_len=64)
    np.testing.assert_allclose(losses.stroke_nll(p_short, s5[:, 1:], **args),
                               losses.stroke_nll(p_long, padded[:, 1:], **args), rtol=1e-6)
    pen = [losses.pen_cross_entropy(p["pen_logits"], s[:, 1:, 2:], 64, mask_after_end=True)
           for p, s in [(p_short, s5), (p_long, padded)]]
    np.testing.assert_allclose(pen[0], pen[1], rtol=1e-6)


def test_pen_cross_entropy_default_averages_over_all_positions():
    s5 = _stroke5([3], t_max=6)
    logits = _params((1, 6))["pen_logits"].numpy()
    ce = -(s5[:, 1:, 2:] * scipy.special.log_softmax(logits, -1)).sum(-1)  # [1, 6]
    got = losses.pen_cross_entropy(logits, s5[:, 1:, 2:], max_len=6)
    np.testing.assert_allclose(got, ce.mean(-1), rtol=1e-6)
    masked = losses.pen_cross_entropy(logits, s5[:, 1:, 2:], max_len=6, mask_after_end=True)
    np.testing.assert_allclose(masked, ce[:, :4].sum(-1) / 6, rtol=1e-6)  # 3 rows + first end


def test_mask_through_first_end():
    pen = np.eye(3, dtype="float32")[[0, 1, 2, 2, 2]][None]
    np.testing.assert_array_equal(losses.mask_through_first_end(pen), [[1, 1, 1, 0, 0]])


def test_reparameterized_offsets_use_argmax_component_and_its_covariance():
    n = 20000
    log_pi = np.log(np.tile([[0.2, 0.5, 0.3]], [n, 1])).astype("float32")[None]
    p = dict(log_pi=log_pi, mu1=np.tile([[9.0, 1.0, 9.0]], [n, 1])[None],
             mu2=np.tile([[9.0, -1.0, 9.0]], [n, 1])[None],
             log_sigma1=np.log(np.tile([[1.0, 0.5, 1.0]], [n, 1]))[None],
             log_sigma2=np.log(np.tile([[1.0, 2.0, 1.0]], [n, 1]))[None],
             rho=np.tile([[0.0, -0.7, 0.0]], [n, 1])[None])
    p = {k: tf.constant(v, tf.float32) for k, v in p.items()}
    xy = losses.reparameterized_offsets(p, tf.random.stateless_normal([1, n, 2], [1, 1]))[0]
    np.testing.assert_allclose(np.mean(xy, 0), [1.0, -1.0], atol=0.05)
    np.testing.assert_allclose(np.cov(np.asarray(xy).T), [[0.25, -0.7], [-0.7, 4.0]], atol=0.08)


def test_reparameterized_offsets_gradient_reaches_mu_sigma_rho_not_pi():
    p = {k: tf.Variable(v) for k, v in _params((2, 5), seed=2).items()}
    with tf.GradientTape() as tape:
        xy = losses.reparameterized_offsets(p, tf.random.stateless_normal([2, 5, 2], [2, 2]))
        loss = tf.reduce_sum(tf.sin(xy))
    grads = dict(zip(p, tape.gradient(loss, list(p.values()))))
    for name in ("mu1", "mu2", "log_sigma1", "log_sigma2", "rho"):
        assert np.any(grads[name].numpy() != 0), name
    assert grads["log_pi"] is None and grads["pen_logits"] is None


def test_predicted_stroke5_prepends_start_token_and_uses_pen_probabilities():
    p = _params((2, 4))
    pred = losses.predicted_stroke5(p, tf.zeros([2, 4, 2])).numpy()
    assert pred.shape == (2, 5, 5)
    np.testing.assert_array_equal(pred[:, 0], [strokes.START_TOKEN] * 2)
    np.testing.assert_allclose(pred[:, 1:, 2:], tf.nn.softmax(p["pen_logits"]), rtol=1e-6)


def _one_hot_pen_prediction(s5, offsets):
    pred = s5.copy()
    pred[:, 1:, :2] = offsets
    return tf.constant(pred)


def test_pixel_loss_is_lowest_for_the_ground_truth_and_uses_its_bbox():
    s5 = _stroke5([12, 7], t_max=16, seed=3, scale=3.0)
    best = losses.pixel_loss(tf.constant(s5), tf.constant(s5), 28).numpy()
    # The prediction is placed with the ground truth's bounding box: a half-size copy is
    # not rescaled to fill the canvas (its own box would make its image identical).
    half = _one_hot_pen_prediction(s5, s5[:, 1:, :2] * 0.5)
    assert np.all(best < losses.pixel_loss(half, s5, 28).numpy())
    own_box = rasterize.render_stroke5(half, 28) - rasterize.render_stroke5(s5, 28)
    assert float(tf.reduce_max(tf.abs(own_box))) < 1e-4


# --- The pixel loss in closed form, with NumPy only (no project function), from the
# --- definitions in sketchembednet/data/rasterize.py's docstring and [W21] Sec. 3.


def _np_intensity(size, segments):
    """``sigmoid(2 - 5 d^2)``, d the distance of pixel centre (x=col, y=row) to the segments."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    pix = np.stack([cols, rows], -1)  # [S, S, 2]
    d2 = np.full((size, size), 1e10)  # no segment drawn: far away
    for a, b in segments:
        a, ab = np.asarray(a, np.float64), np.subtract(b, a)
        t = np.clip(((pix - a) @ ab) / (ab @ ab), 0.0, 1.0)  # [S, S]
        d2 = np.minimum(d2, np.sum((pix - a - t[..., None] * ab) ** 2, -1))
    return scipy.special.expit(2.0 - 5.0 * d2)


def _np_blur(image, sigma=2.0, size=5):
    """Normalised ``size x size`` Gaussian on offsets -2..2, zero padding, same size."""
    x = np.arange(size) - size // 2
    kernel = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    kernel /= kernel.sum()
    r = size // 2
    padded = np.pad(image, r)
    out = np.zeros_like(image)
    for i in range(size):
        for j in range(size):
            out += kernel[i, j] * padded[i:i + image.shape[0], j:j + image.shape[1]]
    return out


def _np_bce(target, pred, eps=1e-7):
    pred = np.clip(pred, eps, 1 - eps)
    return np.mean(-(target * np.log(pred) + (1 - target) * np.log(1 - pred)))


@pytest.mark.parametrize("pred_offset, pred_pen, pred_segments", [
    ((10.0, 5.0), (1, 0, 0), [((2.5, 13.5), (24.5, 24.5))]),  # a diagonal, same start
    ((10.0, 0.0), (0, 1, 0), []),  # pen lifted from the start: nothing drawn
], ids=["diagonal", "nothing_drawn"])
def test_pixel_loss_matches_numpy_closed_form(pred_offset, pred_pen, pred_segments):
    # Ground truth: one horizontal segment (0, 0) -> (10, 0). Fitted to S = 28 with
    # padding 2 * round(28 / 10) = 6: scale = (28 - 6) / 10 = 2.2 and the box centre
    # (5, 0) goes to the canvas centre (13.5, 13.5), so offset = (13.5 - 11, 13.5). The
    # prediction is placed with the same transform: (10, 5) -> (24.5, 24.5).
    gt = np.array([[[0, 0, 1, 0, 0], [10, 0, 0, 1, 0], [0, 0, 0, 0, 1]]], "float32")
    pred = np.array([[[0, 0, *pred_pen], [*pred_offset, 0, 1, 0], [0, 0, 0, 0, 1]]], "float32")
    target = _np_blur(_np_intensity(28, [((2.5, 13.5), (24.5, 13.5))]))
    want = _np_bce(target, _np_blur(_np_intensity(28, pred_segments)))
    got = losses.pixel_loss(tf.constant(pred), tf.constant(gt), 28).numpy()
    np.testing.assert_allclose(got, [want], rtol=2e-5)


def test_pixel_loss_gradient_is_finite_and_reaches_offsets():
    s5 = _stroke5([10, 4], t_max=12, seed=5, scale=2.0)
    offsets = tf.Variable(s5[:, 1:, :2] + 0.2)
    with tf.GradientTape() as tape:
        pred = tf.concat([s5[:, :1], tf.concat([offsets, s5[:, 1:, 2:]], -1)], axis=1)
        loss = tf.reduce_sum(losses.pixel_loss(pred, s5, 28))
    grad = tape.gradient(loss, offsets).numpy()
    assert np.all(np.isfinite(grad)) and np.any(grad[0] != 0) and np.any(grad[1] != 0)


def test_kl_divergence_matches_closed_form():
    rng = np.random.default_rng(6)
    mu, logvar = rng.normal(size=(2, 3, 5))
    want = 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, -1)
    np.testing.assert_allclose(losses.kl_divergence(mu, logvar), want, rtol=1e-10)
    assert float(losses.kl_divergence(tf.zeros([1, 4]), tf.zeros([1, 4]))[0]) == 0.0


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_total_loss_formula(alpha):
    pen, stroke, pixel, kl = (tf.constant([v], tf.float32) for v in (1.0, 2.0, 3.0, 4.0))
    got = losses.total_loss(pen, stroke, pixel, alpha, kl, kl_weight=0.5)
    np.testing.assert_allclose(got, [1.0 + (1 - alpha) * 2.0 + alpha * 3.0 + 2.0], rtol=1e-6)


def test_zero_kl_weight_leaves_an_infinite_kl_out():
    one = tf.constant([1.0])
    total = losses.total_loss(one, one, one, 0.5, kl=tf.constant([np.inf]), kl_weight=0.0)
    np.testing.assert_allclose(total, [2.0])


def _info_nce_reference(a, b, temperature):
    """Symmetric InfoNCE in float64 numpy: rows a_i against every b_j, and columns."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = a @ b.T / temperature  # [B, B]
    rows = scipy.special.logsumexp(logits, axis=1) - np.diag(logits)
    cols = scipy.special.logsumexp(logits, axis=0) - np.diag(logits)
    return 0.5 * (rows + cols), (logits.argmax(axis=1) == np.arange(len(a))).astype("float32")


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_info_nce_equals_a_hand_computation(temperature):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(5, 3))
    b = a + rng.normal(size=(5, 3)) * 0.7  # Some pairs match, some do not.
    loss, accuracy = losses.info_nce(tf.constant(a, tf.float32), tf.constant(b, tf.float32),
                                     temperature)
    want_loss, want_accuracy = _info_nce_reference(a, b, temperature)
    assert loss.dtype == accuracy.dtype == tf.float32 and loss.shape == (5,)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5)
    np.testing.assert_array_equal(accuracy, want_accuracy)
    assert 0 < want_accuracy.sum() < 5  # The case has hits and misses.
    # Swapping the views swaps rows and columns: the symmetric loss is the same.
    swapped, _ = losses.info_nce(tf.constant(b, tf.float32), tf.constant(a, tf.float32),
                                 temperature)
    np.testing.assert_allclose(swapped, loss, rtol=1e-6)


def test_info_nce_tiny_case_by_hand():
    """B = 2, orthogonal unit vectors, b = a: logits [[1/t, 0], [0, 1/t]], so every
    cross-entropy is log(1 + exp(-1/t))."""
    a = tf.constant([[1.0, 0.0], [0.0, 3.0]])  # Lengths do not matter (cosine).
    loss, accuracy = losses.info_nce(a, a, temperature=0.5)
    np.testing.assert_allclose(loss, [np.log1p(np.exp(-2.0))] * 2, rtol=1e-6)
    np.testing.assert_array_equal(accuracy, [1.0, 1.0])
    logits = losses.cosine_logits(a, tf.reverse(a, [0]), temperature=0.5)
    np.testing.assert_allclose(logits, [[0.0, 2.0], [2.0, 0.0]], atol=1e-6)
    loss, accuracy = losses.symmetric_info_nce(logits)  # Every match has the smaller logit.
    np.testing.assert_allclose(loss, [np.log1p(np.exp(2.0))] * 2, rtol=1e-6)
    np.testing.assert_array_equal(accuracy, [0.0, 0.0])


def test_info_nce_is_float32_for_bfloat16_inputs():
    a = tf.cast(tf.random.stateless_normal([4, 8], [1, 2]), tf.bfloat16)
    loss, accuracy = losses.info_nce(a, a, 0.1)
    assert loss.dtype == accuracy.dtype == tf.float32
    assert np.all(np.isfinite(loss))

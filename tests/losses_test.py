"""Tests for sketchembednet.losses."""

import doctest

import numpy as np
import pytest
import scipy.special
import tensorflow as tf

from sketchembednet import losses
from sketchembednet.data import rasterize

M = 3


def _stroke5(lengths, t_max, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    s5 = np.zeros((len(lengths), t_max + 1, 5), "float32")
    s5[:, 0] = losses.START_TOKEN
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


def test_bivariate_normal_log_prob_matches_graves_formula():
    rng = np.random.default_rng(1)
    x1, x2, m1, m2, ls1, ls2 = rng.normal(size=(6, 100))
    rho = np.tanh(rng.normal(size=100) * 2)
    s1, s2 = np.exp(ls1), np.exp(ls2)
    zz = ((x1 - m1) / s1) ** 2 + ((x2 - m2) / s2) ** 2 - 2 * rho * (x1 - m1) * (x2 - m2) / (s1 * s2)
    want = -zz / (2 * (1 - rho**2)) - np.log(2 * np.pi * s1 * s2 * np.sqrt(1 - rho**2))
    got = losses.bivariate_normal_log_prob(x1, x2, m1, m2, ls1, ls2, rho)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_stroke_nll_masks_end_rows_and_divides_by_configured_max_len():
    s5 = _stroke5([5, 2], t_max=8)
    params = _params((2, 8))
    log_p = losses.mixture_log_prob(params, s5[:, 1:, :2]).numpy()  # [2, 8]
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
    np.testing.assert_array_equal(pred[:, 0], [losses.START_TOKEN] * 2)
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


def test_pixel_loss_matches_manual_blur_bce():
    s5 = _stroke5([9], t_max=10, seed=4, scale=2.0)
    pred = _one_hot_pen_prediction(s5, s5[:, 1:, :2] + 0.3)
    points, seg, valid = rasterize.stroke5_to_points(s5)
    pred_points, pred_seg, _ = rasterize.stroke5_to_points(pred)
    scale, offset = rasterize.bbox_transform(points, valid, 28)
    gt = rasterize.gaussian_blur(rasterize.rasterize(points * scale + offset, seg, 28), 2.0, 5)
    pr = rasterize.gaussian_blur(rasterize.rasterize(pred_points * scale + offset, pred_seg, 28))
    pr = np.clip(pr.numpy(), 1e-7, 1 - 1e-7)
    want = -(gt * np.log(pr) + (1 - gt) * np.log(1 - pr)).numpy().mean()
    np.testing.assert_allclose(losses.pixel_loss(pred, s5, 28), [want], rtol=1e-5)


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

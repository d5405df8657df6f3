"""Tests for sketchembednet.layers.mixture_density_head."""

import doctest

import numpy as np
import pytest
import scipy.special
import scipy.stats
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.layers import mixture_density_head
from sketchembednet.layers.mixture_density_head import MixtureDensityHead

M = 4


def _head(num_mixtures=M, units=6):
    head = MixtureDensityHead(num_mixtures)
    head.build((None, units))
    return head


def test_layer_harness():
    h = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    testing.run_layer_test(MixtureDensityHead, dict(num_mixtures=M), [h],
                           expected_output_shape=(2, 5, 3 + 6 * M))


def test_doctests():
    assert doctest.testmod(mixture_density_head).failed == 0


def test_layout_and_activations_follow_sketch_rnn():
    raw = np.arange(3 + 6 * M, dtype="float32")[None] / 10.0  # [1, 27]
    p = _head().split(tf.constant(raw))
    np.testing.assert_allclose(p["pen_logits"], raw[:, :3])
    blocks = np.split(raw[:, 3:], 6, axis=-1)
    np.testing.assert_allclose(p["log_pi"], scipy.special.log_softmax(blocks[0], -1), atol=1e-6)
    np.testing.assert_allclose(p["mu1"], blocks[1])
    np.testing.assert_allclose(p["mu2"], blocks[2])
    np.testing.assert_allclose(p["log_sigma1"], blocks[3])
    np.testing.assert_allclose(p["log_sigma2"], blocks[4])
    rho = np.tanh(blocks[5]) * mixture_density_head.RHO_MAX
    np.testing.assert_allclose(p["rho"], rho, atol=1e-6)


def test_log_likelihood_matches_scipy():
    rng = np.random.default_rng(1)
    n = 200
    raw = rng.normal(size=(n, 3 + 6 * M)).astype("float32")
    raw[:, 3 + 5 * M:] *= 2.0  # Correlations up to |rho| ~ 0.999.
    xy = rng.normal(size=(n, 2)).astype("float32") * 2.0
    head = _head()
    got = head.log_likelihood(tf.constant(raw), tf.constant(xy)).numpy()
    p = {k: v.numpy().astype(np.float64) for k, v in head.split(tf.constant(raw)).items()}
    want = np.empty(n)
    for i in range(n):
        comps = []
        for j in range(M):
            s1, s2 = np.exp(p["log_sigma1"][i, j]), np.exp(p["log_sigma2"][i, j])
            r = p["rho"][i, j]
            cov = [[s1 * s1, r * s1 * s2], [r * s1 * s2, s2 * s2]]
            mean = [p["mu1"][i, j], p["mu2"][i, j]]
            log_n = scipy.stats.multivariate_normal(mean, cov).logpdf(xy[i])
            comps.append(p["log_pi"][i, j] + log_n)
        want[i] = scipy.special.logsumexp(comps)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "log_sigma, rho, offset",
    [(-50.0, 0.0, 3.0), (-50.0, 30.0, 50.0), (0.0, -30.0, 1.0), (50.0, 30.0, 0.0),
     (-7.5, 12.0, 1e3)],
)
def test_extreme_values_give_finite_loss_and_gradients(log_sigma, rho, offset):
    raw = np.zeros((2, 1000, 3 + 6 * M), "float32")  # a long sequence
    raw[..., 3 + 3 * M:3 + 5 * M] = log_sigma  # sigma -> 0 or huge
    raw[..., 3 + 5 * M:] = rho  # tanh saturates: |rho| -> 1
    raw[..., 3:3 + M] = 100.0 * np.arange(M)  # one dominant component
    xy = np.full((2, 1000, 2), offset, "float32")
    xy[:, ::2] = 0.0  # exact zeros, as in real data
    raw = tf.Variable(raw)
    head = _head()
    with tf.GradientTape() as tape:
        loss = -tf.reduce_sum(head.log_likelihood(raw, tf.constant(xy)))
    grad = tape.gradient(loss, raw)
    assert np.isfinite(loss.numpy())
    assert np.all(np.isfinite(grad.numpy()))


def test_bounds():
    raw = np.zeros((1, 3 + 6 * M), "float32")
    raw[:, 3 + 3 * M:3 + 4 * M] = -1e4
    raw[:, 3 + 4 * M:3 + 5 * M] = 1e4
    raw[:, 3 + 5 * M:] = 1e4
    p = _head().split(tf.constant(raw))
    assert float(tf.reduce_min(p["log_sigma1"])) == mixture_density_head.LOG_SIGMA_MIN
    assert float(tf.reduce_max(p["log_sigma2"])) == mixture_density_head.LOG_SIGMA_MAX
    assert float(tf.reduce_max(p["rho"])) < 1.0
    assert float(tf.reduce_min(1.0 - tf.square(p["rho"]))) > 1e-5


def _raw_single_gaussian(mu, log_sigma, rho_raw, pen=(0.0, 0.0, 0.0), n=1):
    raw = np.zeros((n, 3 + 6), "float32")
    raw[:, :3] = pen
    raw[:, 4:6] = mu
    raw[:, 6:8] = log_sigma
    raw[:, 8] = rho_raw
    return tf.constant(raw)


def test_greedy_sample_is_the_most_probable_component_mean_and_pen():
    head = _head(num_mixtures=2)
    raw = np.zeros((1, 15), "float32")
    raw[0, :3] = [0.0, 3.0, 1.0]  # pen: p2
    raw[0, 3:5] = [0.0, 2.0]  # pi: component 1
    raw[0, 5:7] = [-1.0, 4.0]  # mu1
    raw[0, 7:9] = [-2.0, 5.0]  # mu2
    row = head.sample(tf.constant(raw), greedy=True).numpy()
    np.testing.assert_allclose(row, [[4.0, 5.0, 0.0, 1.0, 0.0]])


@pytest.mark.parametrize("temperature", [1.0, 0.25])
def test_temperature_scales_the_covariance(temperature):
    head = _head(num_mixtures=1)
    n = 20000
    raw = _raw_single_gaussian([1.0, -2.0], [np.log(0.5), np.log(2.0)], np.arctanh(0.6), n=n)
    rows = head.sample(raw, temperature=temperature, seed=tf.constant([1, 2])).numpy()
    xy = rows[:, :2]
    np.testing.assert_allclose(xy.mean(0), [1.0, -2.0], atol=0.05)
    cov = np.array([[0.25, 0.6 * 1.0], [0.6 * 1.0, 4.0]]) * temperature
    np.testing.assert_allclose(np.cov(xy.T), cov, rtol=0.06, atol=0.01)


def test_low_temperature_sharpens_mixture_and_pen_choice():
    head = _head(num_mixtures=2)
    n = 4000
    raw = np.zeros((n, 15), "float32")
    raw[:, :3] = [np.log(0.6), np.log(0.4), -30.0]
    raw[:, 3:5] = [np.log(0.6), np.log(0.4)]
    raw[:, 5:7] = [0.0, 10.0]
    raw[:, 9:13] = -5.0
    for tau, (lo, hi) in [(1.0, (0.55, 0.65)), (0.1, (0.97, 1.0))]:
        rows = head.sample(tf.constant(raw), temperature=tau, seed=tf.constant([3, 4])).numpy()
        assert lo <= np.mean(rows[:, 0] < 5.0) <= hi  # share of component 0
        assert lo <= np.mean(rows[:, 2]) <= hi  # share of pen p1


def test_sampling_without_seed_is_an_error():
    with pytest.raises(ValueError, match="seed"):
        _head().sample(tf.zeros([1, 3 + 6 * M]))


def test_rejects_zero_mixtures():
    with pytest.raises(ValueError, match="num_mixtures"):
        MixtureDensityHead(0)

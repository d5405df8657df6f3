"""Tests for sketchembednet.layers.mixture."""

import doctest

import numpy as np
import tensorflow as tf

from sketchembednet.layers import mixture


def test_doctests():
    assert doctest.testmod(mixture).failed == 0


def test_bivariate_normal_log_prob_matches_graves_formula():
    rng = np.random.default_rng(1)
    x1, x2, m1, m2, ls1, ls2 = rng.normal(size=(6, 100))
    rho = np.tanh(rng.normal(size=100) * 2)
    s1, s2 = np.exp(ls1), np.exp(ls2)
    zz = ((x1 - m1) / s1) ** 2 + ((x2 - m2) / s2) ** 2 - 2 * rho * (x1 - m1) * (x2 - m2) / (s1 * s2)
    want = -zz / (2 * (1 - rho**2)) - np.log(2 * np.pi * s1 * s2 * np.sqrt(1 - rho**2))
    got = mixture.bivariate_normal_log_prob(x1, x2, m1, m2, ls1, ls2, rho)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_mixture_log_prob_is_the_log_of_the_weighted_sum_of_densities():
    pi = np.array([[0.2, 0.8]])
    params = dict(log_pi=np.log(pi), mu1=np.array([[0.0, 1.0]]), mu2=np.array([[0.0, -1.0]]),
                  log_sigma1=np.log([[1.0, 2.0]]), log_sigma2=np.log([[1.0, 0.5]]),
                  rho=np.array([[0.0, 0.0]]))
    xy = np.array([[0.5, -0.5]])

    def normal(x, m, s):  # rho = 0: a product of univariate normal densities
        return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))

    want = np.log(0.2 * normal(0.5, 0.0, 1.0) * normal(-0.5, 0.0, 1.0)
                  + 0.8 * normal(0.5, 1.0, 2.0) * normal(-0.5, -1.0, 0.5))
    np.testing.assert_allclose(mixture.mixture_log_prob(params, xy), [want], rtol=1e-12)


def test_correlated_normal_sample_has_the_component_covariance():
    n = 40000
    noise = tf.random.stateless_normal([n, 2], [7, 7])
    xy = mixture.correlated_normal_sample(1.0, -2.0, 0.5, 2.0, -0.6, noise).numpy()
    np.testing.assert_allclose(xy.mean(0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(np.cov(xy.T), [[0.25, -0.6], [-0.6, 4.0]], atol=0.06)

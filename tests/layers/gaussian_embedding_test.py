"""Tests for sketchembednet.layers.gaussian_embedding."""

import doctest

import numpy as np
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.layers import gaussian_embedding
from sketchembednet.layers.gaussian_embedding import GaussianEmbedding


def test_layer_harness():
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    testing.run_layer_test(GaussianEmbedding, dict(embedding_dim=8), [x],
                           call_kwargs=dict(training=False), expected_output_shape=(3, 8))


def test_doctests():
    assert doctest.testmod(gaussian_embedding).failed == 0


def test_z_is_mu_at_evaluation_and_reparameterised_in_training():
    layer = GaussianEmbedding(embedding_dim=64, seed=1)
    x = tf.random.stateless_normal([512, 5], seed=[1, 2])
    z, mu, logvar = layer(x, training=False)
    np.testing.assert_array_equal(z, mu)
    z, mu, logvar = layer(x, training=True)
    eps = (z - mu) / tf.exp(0.5 * logvar)  # Must be standard normal.
    assert abs(float(tf.reduce_mean(eps))) < 0.02
    assert abs(float(tf.math.reduce_std(eps)) - 1.0) < 0.02


def test_gradients_reach_both_heads_in_training():
    layer = GaussianEmbedding(embedding_dim=4, seed=0)
    x = tf.random.stateless_normal([8, 5], seed=[3, 4])
    layer(x)
    testing.assert_gradients_reach_all_weights(
        lambda: tf.reduce_sum(tf.square(layer(x, training=True)[0])), layer.trainable_weights
    )

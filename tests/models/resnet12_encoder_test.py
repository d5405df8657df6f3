"""Tests for sketchembednet.models.resnet12_encoder."""

import doctest

import numpy as np
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.models import resnet12_encoder
from sketchembednet.models.resnet12_encoder import ResNet12Encoder


def _images(size=28, channels=1, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(batch, size, size, channels)).astype("float32")


def test_config_round_trip_and_save_load():
    encoder = ResNet12Encoder(filters=(4, 8, 8, 16), embedding_dim=8)
    testing.assert_config_round_trip(encoder)
    testing.assert_save_load_equal(encoder, [_images()], dict(training=False))


def test_doctests():
    assert doctest.testmod(resnet12_encoder).failed == 0


def test_paper_widths_and_output_shapes():
    encoder = ResNet12Encoder()
    z, mu, _ = encoder(_images(84, 3), training=False)
    assert z.shape == mu.shape == (2, 256)
    assert [b.filters for b in encoder.blocks] == [64, 128, 256, 512]
    assert encoder.embedding.mu_dense.kernel.shape == (512, 256)


def test_gradients_reach_all_weights_in_training():
    encoder = ResNet12Encoder(filters=(4, 8), embedding_dim=8, seed=0)
    images = tf.constant(_images(batch=4))
    encoder(images)
    testing.assert_gradients_reach_all_weights(
        lambda: tf.reduce_sum(tf.square(encoder(images, training=True)[0])),
        encoder.trainable_weights,
    )

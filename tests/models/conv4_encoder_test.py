"""Tests for sketchembednet.models.conv4_encoder."""

import doctest

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.models import conv4_encoder
from sketchembednet.models.conv4_encoder import Conv4Encoder


def _images(size=28, channels=1, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(batch, size, size, channels)).astype("uint8")


def test_config_round_trip_and_save_load():
    encoder = Conv4Encoder(filters=8, embedding_dim=16)
    testing.assert_config_round_trip(encoder)
    testing.assert_save_load_equal(encoder, [_images()], dict(training=False))


def test_doctests():
    assert doctest.testmod(conv4_encoder).failed == 0


@pytest.mark.parametrize("size, channels, final", [(28, 1, 1), (28, 3, 1), (84, 3, 5)])
def test_shapes_for_sketch_and_photo_inputs(size, channels, final):
    encoder = Conv4Encoder(filters=8, embedding_dim=16)
    z, mu, logvar = encoder(_images(size, channels), training=False)
    assert z.shape == mu.shape == logvar.shape == (2, 16)
    shape = (None, size, size, channels)
    for block in encoder.blocks:
        shape = block.compute_output_shape(shape)
    assert shape[1:3] == (final, final)  # 28 -> 14 -> 7 -> 3 -> 1; 84 -> ... -> 5


def test_uint8_and_float_inputs_agree():
    encoder = Conv4Encoder(filters=8, embedding_dim=16)
    images = _images()
    np.testing.assert_allclose(encoder(images)[1], encoder(images.astype("float32"))[1], atol=1e-6)


def test_paper_size_backbone_has_about_0_11m_parameters():
    encoder = Conv4Encoder()
    encoder.build((None, 28, 28, 1))
    backbone = sum(int(np.prod(w.shape)) for b in encoder.blocks for w in b.weights)
    assert 0.105e6 < backbone < 0.115e6  # reference notes: Conv4 0.11M


def test_gradients_reach_all_weights_in_training():
    encoder = Conv4Encoder(filters=4, embedding_dim=8, seed=0)
    images = tf.constant(_images(batch=4))
    encoder(images)
    testing.assert_gradients_reach_all_weights(
        lambda: tf.reduce_sum(tf.square(encoder(images, training=True)[0])),
        encoder.trainable_weights,
    )

"""Tests for sketchembednet.layers.conv_block."""

import doctest

import keras
import numpy as np

from sketchembednet import testing
from sketchembednet.layers import conv_block
from sketchembednet.layers.conv_block import ConvBlock


def test_layer_harness():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 28, 28, 3)).astype("float32")
    testing.run_layer_test(ConvBlock, dict(filters=8), [x], call_kwargs=dict(training=False),
                           expected_output_shape=(2, 14, 14, 8))


def test_doctests():
    assert doctest.testmod(conv_block, extraglobs={"keras": keras}).failed == 0


def test_output_shape_and_relu():
    block = ConvBlock(filters=4)
    x = np.random.default_rng(1).normal(size=(2, 7, 7, 1)).astype("float32")
    y = block(x, training=True)
    assert y.shape == (2, 3, 3, 4) == block.compute_output_shape((2, 7, 7, 1))
    assert np.all(y.numpy() >= 0)

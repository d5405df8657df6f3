"""Tests for sketchembednet.layers.resnet12_block."""

import doctest

import keras
import numpy as np

from sketchembednet import testing
from sketchembednet.layers import resnet12_block
from sketchembednet.layers.resnet12_block import ResNet12Block


def test_layer_harness():
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 21, 21, 3)).astype("float32")
    testing.run_layer_test(ResNet12Block, dict(filters=8), [x], call_kwargs=dict(training=False),
                           expected_output_shape=(2, 11, 11, 8))


def test_doctests():
    assert doctest.testmod(resnet12_block, extraglobs={"keras": keras}).failed == 0


def test_structure_three_convs_and_a_projection_shortcut():
    block = ResNet12Block(filters=4)
    block.build((None, 10, 10, 2))
    kernels = sorted((w.path.split("/")[-2], tuple(w.shape)) for w in block.weights
                     if w.path.endswith("kernel"))
    assert kernels == [("conv0", (3, 3, 2, 4)), ("conv1", (3, 3, 4, 4)), ("conv2", (3, 3, 4, 4)),
                       ("shortcut_conv", (1, 1, 2, 4))]
    y = block(np.ones((1, 10, 10, 2), "float32"))
    assert y.shape == (1, 5, 5, 4) and np.all(y.numpy() >= 0)

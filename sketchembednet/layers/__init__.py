"""Keras layers of SketchEmbedNet (all registered as Keras-serializable)."""

from sketchembednet.layers.conv_block import ConvBlock
from sketchembednet.layers.gaussian_embedding import GaussianEmbedding
from sketchembednet.layers.hyper_lstm_cell import HyperLSTMCell
from sketchembednet.layers.mixture_density_head import MixtureDensityHead
from sketchembednet.layers.resnet12_block import ResNet12Block

__all__ = ["ConvBlock", "GaussianEmbedding", "HyperLSTMCell", "MixtureDensityHead", "ResNet12Block"]

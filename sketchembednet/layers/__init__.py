"""Keras layers of SketchEmbedNet (all registered as Keras-serializable).

Modules here import no project code outside this package (only TensorFlow, Keras, NumPy,
the standard library and each other). Besides the layers, ``hyper_lstm_kernels`` holds
the HyperLSTM cell's element-wise custom-gradient kernels and ``mixture`` the
bivariate-normal mixture math of the head (shared with ``sketchembednet.losses`` and
``sketchembednet.sampling``).
"""

from sketchembednet.layers.conv_block import ConvBlock
from sketchembednet.layers.gaussian_embedding import GaussianEmbedding
from sketchembednet.layers.hyper_lstm_cell import HyperLSTMCell
from sketchembednet.layers.mixture_density_head import MixtureDensityHead
from sketchembednet.layers.resnet12_block import ResNet12Block

__all__ = ["ConvBlock", "GaussianEmbedding", "HyperLSTMCell", "MixtureDensityHead", "ResNet12Block"]

"""Keras models: encoders, decoder, SketchEmbedNet and its baselines, plus named presets.

Importing this package registers every class, so a saved ``.keras`` file loads
with ``keras.models.load_model`` after ``import sketchembednet``.
"""

from sketchembednet.models.contrastive import ContrastiveEmbedNet
from sketchembednet.models.conv4_encoder import Conv4Encoder
from sketchembednet.models.conv_vae import ConvVAE
from sketchembednet.models.presets import PRESETS
from sketchembednet.models.presets import build_model
from sketchembednet.models.resnet12_encoder import ResNet12Encoder
from sketchembednet.models.sketch_decoder import SketchDecoder
from sketchembednet.models.sketch_embed_net import SketchEmbedNet

__all__ = ["ContrastiveEmbedNet", "Conv4Encoder", "ConvVAE", "PRESETS", "ResNet12Encoder",
           "SketchDecoder", "SketchEmbedNet", "build_model"]

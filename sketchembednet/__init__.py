"""SketchEmbedNet in TensorFlow 2 / Keras 3.

SketchEmbedNet (Wang, Lucas, Zemel et al., ICML 2021, arXiv:2009.04806) learns
image embeddings by learning to draw: a CNN encoder maps an image to an
embedding z, and a HyperLSTM decoder with a mixture-density head draws the
image as a stroke-5 sequence.

Submodules:
  data: stroke formats, the differentiable rasterizer, input pipelines.
  layers: HyperLSTMCell and MixtureDensityHead.
  models: encoders, decoder and the SketchEmbedNet model.
"""

__version__ = "0.1.0"

# Registers the Keras classes, so `.keras` files load after `import sketchembednet`.
from sketchembednet import layers  # noqa: E402,F401
from sketchembednet import models  # noqa: E402,F401
from sketchembednet.models import SketchEmbedNet  # noqa: E402,F401
from sketchembednet.models import build_model  # noqa: E402,F401

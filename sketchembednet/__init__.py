"""SketchEmbedNet in TensorFlow 2 / Keras 3.

SketchEmbedNet (Wang, Lucas, Zemel et al., ICML 2021, arXiv:2009.04806) learns
image embeddings by learning to draw: a CNN encoder maps an image to an
embedding z, and a HyperLSTM decoder with a mixture-density head draws the
image as a stroke-5 sequence.

Subpackages, in the one-way order of the data path (each imports only those
before it; ``tests/layering_test.py`` checks this):
  data: stroke formats and source parsers, the differentiable rasterizer, input pipelines.
  layers: HyperLSTMCell, MixtureDensityHead and the encoder blocks.
  models: encoders, decoder, SketchEmbedNet and its baselines, the model factory and
    the checkpoint layout.
  trainer / evaluation / export / tuning: training, evaluation, export, search.

Importing ``sketchembednet`` itself loads nothing heavy: ``sketchembednet.models``,
``sketchembednet.SketchEmbedNet`` and ``sketchembednet.build_model`` are loaded on first
use. Importing ``sketchembednet.models`` registers every Keras class, so a saved
``.keras`` file loads with ``keras.saving.load_model`` after it.

Example:
  >>> import sketchembednet
  >>> model = sketchembednet.build_model("cpu", image_shape=(28, 28, 1))  # doctest: +SKIP
"""

import importlib

__version__ = "0.1.0"

_LAZY = {"layers": ("sketchembednet.layers", None),
         "models": ("sketchembednet.models", None),
         "SketchEmbedNet": ("sketchembednet.models", "SketchEmbedNet"),
         "build_model": ("sketchembednet.models", "build_model")}

__all__ = ["SketchEmbedNet", "build_model", "layers", "models"]


def __getattr__(name):
    """Loads ``layers``, ``models``, ``SketchEmbedNet`` and ``build_model`` on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'sketchembednet' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


def __dir__():
    return sorted(list(globals()) + list(_LAZY))

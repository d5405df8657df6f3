"""TFDS dataset builders of sketchembednet.

Importing this package registers every builder with TFDS, so that
``tfds.load("kanjivg")`` and friends work.
"""

from tfds_builders import kanjivg  # noqa: F401  (registers the builder)
from tfds_builders import quickdraw  # noqa: F401  (registers the builder)
from tfds_builders import omniglot_strokes  # noqa: F401  (registers the builder)
from tfds_builders import sketchy  # noqa: F401  (registers the builder)
from tfds_builders import mini_imagenet  # noqa: F401  (registers the builder)
from tfds_builders import hanzi_medians  # noqa: F401  (registers the builder)
from tfds_builders import hershey  # noqa: F401  (registers the builder)

"""mini-ImageNet, Ravi & Larochelle split (manual download)."""

from tfds_builders.mini_imagenet.mini_imagenet_dataset_builder import Builder  # noqa: F401

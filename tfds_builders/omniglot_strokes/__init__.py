"""Omniglot images with online strokes (named to avoid TFDS's image-only omniglot)."""

from tfds_builders.omniglot_strokes.omniglot_strokes_dataset_builder import Builder  # noqa: F401

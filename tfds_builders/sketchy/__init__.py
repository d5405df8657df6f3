"""Sketchy photo-sketch pairs (manual download)."""

from tfds_builders.sketchy.sketchy_dataset_builder import Builder  # noqa: F401

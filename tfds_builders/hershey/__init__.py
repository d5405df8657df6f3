"""The Hershey vector fonts as stroke-3 sketches (32 fonts, embedded via Hershey-Fonts)."""

from tfds_builders.hershey.hershey_dataset_builder import Builder

__all__ = ["Builder"]

"""Make Me a Hanzi stroke medians (npm hanzi-writer-data) as stroke-3 sketches."""

from tfds_builders.hanzi_medians.hanzi_medians_dataset_builder import Builder  # noqa: F401

__all__ = ["Builder"]

"""KanjiVG stroke-order drawings (the embedded default dataset)."""

from tfds_builders.kanjivg.kanjivg_dataset_builder import Builder  # noqa: F401

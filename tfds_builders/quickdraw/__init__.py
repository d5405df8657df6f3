"""Quick, Draw! sketches with strokes (sketch-rnn npz or simplified ndjson)."""

from tfds_builders.quickdraw.quickdraw_dataset_builder import Builder  # noqa: F401

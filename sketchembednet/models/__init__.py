"""Keras models: encoders, decoder and SketchEmbedNet."""

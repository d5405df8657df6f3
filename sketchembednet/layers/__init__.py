"""Keras layers: HyperLSTMCell and MixtureDensityHead."""

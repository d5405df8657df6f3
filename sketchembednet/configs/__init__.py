"""ml_collections configs for training runs."""

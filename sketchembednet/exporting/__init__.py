"""Exporting helpers: the TF Hub modules and the model card (``sketchembednet.export``)."""

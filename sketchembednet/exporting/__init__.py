"""Exporting helpers: the TF Hub modules and the model card (``sketchembednet.export``)."""

import json
import os


def read_json(path):
    """The JSON document at ``path``, or None if there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)

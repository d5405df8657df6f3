"""The model of a training config: ``from_config(config, image_shape)``.

Training, evaluation, export and the tuner all build their model here, from a
config object or the dict of a saved ``config.json``, so a checkpoint always meets
the model it was written from.

Example:
  >>> from sketchembednet.configs import demo
  >>> model = from_config(demo.get_config("tiny"), (28, 28, 1))
  >>> model.built
  True
"""

from __future__ import annotations

import keras

from sketchembednet.models import presets


def from_config(config, image_shape) -> keras.Model:
    """The built (all variables created) model of a training config.

    Args:
      config: a training config, or the dict of a saved ``config.json``.
      image_shape: ``(S, S, C)`` of the dataset's images.
    """
    config = config.to_dict() if hasattr(config, "to_dict") else config
    fields = dict(config["model"])
    preset = fields.pop("preset")
    if isinstance(fields.get("encoder_filters"), list):
        fields["encoder_filters"] = tuple(fields["encoder_filters"])
    max_len = int(config["dataset"]["max_len"])
    model = presets.build_model(preset, image_shape=tuple(image_shape), max_seq_len=max_len,
                                **fields)
    model.build(((None, *image_shape), (None, max_len + 1, 5)))
    return model

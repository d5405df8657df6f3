"""An export's format, read back: its layout, its config and its weights in a Keras model.

An export (written by ``sketchembednet.exporting``) is a folder with ``config.json``
(the training config plus an ``export`` section), ``encoder/`` and, for SketchEmbedNet,
``decoder/`` (TF Hub reusable SavedModels). Reading one back is a model-level concern,
next to the model factory and the checkpoint layout, so that evaluation can load an
export without importing the exporter.

SavedModels carry functions, not Keras layers, so the supported way to train an export
further is :func:`load_for_finetuning`: ``factory.from_config`` on the export's
``config.json``, then each module's saved ``variables`` read into the matching Keras
variables (checked against the variable paths recorded at export time).

Example:
  >>> read_export_config("exported/sketchembednet")["export"]["kind"]  # doctest: +SKIP
  'sketchembednet'
  >>> model = load_for_finetuning("exported/sketchembednet")  # doctest: +SKIP
  >>> model.embed(images).shape  # doctest: +SKIP
  TensorShape([8, 256])
"""

from __future__ import annotations

import os

import tensorflow as tf
from absl import logging

from sketchembednet import jsonio
from sketchembednet.models import checkpoints
from sketchembednet.models import factory

ENCODER = "encoder"
DECODER = "decoder"
CONFIG_JSON = checkpoints.CONFIG_JSON  # An export's config.json is named as a workdir's.


def read_export_config(export_dir: str) -> dict:
    """The ``config.json`` of an export (its training config plus the ``export`` section).

    Raises:
      FileNotFoundError: naming ``export_dir`` if it holds no export's config.json.
      ValueError: naming the file if it is not valid JSON.
    """
    config = jsonio.read_json(os.path.join(export_dir, CONFIG_JSON))
    if config is None or "export" not in config:
        raise FileNotFoundError(f"{export_dir}: no config.json of an export")
    return config


def is_export(path: str) -> bool:
    """True if ``path`` is an export's folder (its config.json has an ``export`` section)."""
    config = os.path.join(path, CONFIG_JSON)
    if not os.path.isfile(config):
        return False
    return "export" in (jsonio.read_json(config) or {})


def exported_variables(keras_variables) -> list:
    """The variables worth exporting: all but RNG states (unused in inference)."""
    return [v for v in keras_variables if "seed_generator" not in v.path]


def relative_path(variable) -> str:
    """``block0/conv/kernel`` of ``sketch_embed_net/conv4_encoder/block0/conv/kernel``:
    the path below the model and sub-model names (those get process-dependent suffixes)."""
    return "/".join(variable.path.split("/")[2:])


def variable_paths(keras_variables) -> list[str]:
    """The paths (below the model's name) of the variables a module exports, in order.

    Example:
      >>> variable_paths([])
      []
    """
    return [relative_path(v) for v in exported_variables(keras_variables)]


def load_for_finetuning(export_dir: str):
    """The Keras model of an export, rebuilt from code, with the exported weights.

    The supported way to fine-tune (SavedModels carry functions, not Keras layers):
    ``models.factory.from_config`` on the exported ``config.json`` and the export's image shape,
    then the encoder's variables are read from ``encoder/`` and, for SketchEmbedNet, the
    decoder's from ``decoder/``. The baselines' other parts (the Conv-VAE's pixel
    decoder, the contrastive sketch LSTM) are not exported and keep their fresh
    initialisation. The model takes images at its own size, float 0..255
    (``sketchembednet.data.preprocessing.preprocess_images`` frames others as the
    exported encoder does).

    Args:
      export_dir: a folder written by ``sketchembednet.export.export``.

    Returns:
      The built Keras model (``SketchEmbedNet``, ``ConvVAE`` or ``ContrastiveEmbedNet``):
      ``model.embed(images)`` is the exported encoder's embedding; ``model.encoder`` the
      encoder alone; ``model.compute_losses`` for training.

    Raises:
      FileNotFoundError: if ``export_dir`` has no config.json.
      ValueError: if the rebuilt model's variables do not match the exported ones.

    Example:
      >>> model = load_for_finetuning("exported/kanjivg-cpu")  # doctest: +SKIP
      >>> with tf.GradientTape() as tape:  # doctest: +SKIP
      ...     loss = model.compute_losses(images, stroke5, alpha=0.5, training=True)["loss"]
    """
    config = read_export_config(export_dir)
    info = config["export"]
    model = factory.from_config(config, tuple(info["image_shape"]))
    load_module_variables(os.path.join(export_dir, ENCODER), model.encoder.variables,
                          info.get("encoder_variables"))
    if info["kind"] == "sketchembednet":
        load_module_variables(os.path.join(export_dir, DECODER), model.decoder.variables,
                              info.get("decoder_variables"))
    else:
        logging.info("%s: a %s model; only its encoder is exported (the rest is freshly "
                     "initialised)", export_dir, info["kind"])
    return model


def load_module_variables(saved_model_dir: str, keras_variables, expected_paths=None) -> None:
    """Reads a module's saved ``variables`` (in order) into the matching Keras variables.

    Args:
      saved_model_dir: an export's ``encoder/`` or ``decoder/``.
      keras_variables: the rebuilt model part's variables (``model.encoder.variables``).
      expected_paths: the paths recorded at export time (:func:`variable_paths`), or
        None to skip the check (exports that did not record them).

    Raises:
      ValueError: naming ``saved_model_dir`` and the first mismatch, if the variables'
        paths differ from ``expected_paths``.
    """
    targets = exported_variables(keras_variables)
    paths = [relative_path(v) for v in targets]
    if expected_paths is not None and paths != list(expected_paths):
        mismatch = next((f"{a!r} != {b!r}" for a, b in zip(paths, expected_paths) if a != b),
                        f"{len(paths)} != {len(expected_paths)} variables")
        raise ValueError(f"{saved_model_dir}: the model rebuilt from config.json does not match "
                         f"the exported variables ({mismatch}); use the sketchembednet version "
                         "that exported it")
    checkpoint = tf.train.Checkpoint(variables=[v.value for v in targets])
    prefix = os.path.join(saved_model_dir, "variables", "variables")
    checkpoint.read(prefix).assert_existing_objects_matched()

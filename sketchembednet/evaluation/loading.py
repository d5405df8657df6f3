"""``embed_fn``s for the evaluators: from a training workdir, a SavedModel, or a random encoder.

Every function returns ``embed_fn(images uint8 [n, S, S, C]) -> float32 numpy [n, D]``
with an ``image_shape`` attribute ``(S, S, C)`` (None when unknown). The
embedding is the encoder mean mu in inference mode (reference notes Sec. 5);
normalising is the evaluator's job.

Example:
  >>> embed_fn = random_encoder_embed_fn("tiny", (28, 28, 1), seed=0)
  >>> embed_fn(np.full([2, 28, 28, 1], 255, np.uint8)).shape
  (2, 16)
"""

from __future__ import annotations

import json
import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from sketchembednet import paths
from sketchembednet.evaluation import seeding
from sketchembednet.models import checkpoints
from sketchembednet.models import exported
from sketchembednet.models import factory
from sketchembednet.models import presets


def _wrap(fn, image_shape, dtype=tf.uint8):
    """A numpy-in, numpy-out embed_fn around a tf.function of fixed input signature."""
    spec = tf.TensorSpec([None, *image_shape] if image_shape else None, dtype)
    traced = tf.function(fn, input_signature=[spec], reduce_retracing=True)

    def embed_fn(images):
        images = np.asarray(images)
        if image_shape and tuple(images.shape[1:]) != tuple(image_shape):
            raise ValueError(f"embed_fn expects images [n, {', '.join(map(str, image_shape))}], "
                             f"got {images.shape}")
        return traced(tf.constant(images, dtype)).numpy().astype(np.float32)

    embed_fn.image_shape = tuple(image_shape) if image_shape else None
    return embed_fn


def dataset_image_shape(config: dict) -> tuple:
    """The model input shape of the config's dataset, from the builder (no data needed)."""
    import tensorflow_datasets as tfds

    from sketchembednet.data import pipeline  # Registers the project's builders.

    dataset = config["dataset"]
    builder = tfds.builder(dataset["name"], data_dir=paths.expand(dataset.get("data_dir")) or None)
    return pipeline.image_shape_of(builder)


class UntrainedModelError(ValueError):
    """The workdir's checkpoint is of step 0: the model was never trained."""


def _restore(model: keras.Model, workdir: str, checkpoint: str | None,
             allow_untrained: bool = False) -> str:
    """Restores the latest intact (or the given) training checkpoint into ``model``.

    Returns:
      The checkpoint prefix restored.
    """
    if checkpoint:
        checkpoints.restore_checkpoint(checkpoints.make_checkpoint(model), checkpoint,
                                       partial=True)
    else:
        checkpoint = checkpoints.restore_latest(checkpoints.make_checkpoint(model),
                                                os.path.join(workdir, "checkpoints"),
                                                partial=True)
        if checkpoint is None:
            raise FileNotFoundError(f"{workdir}: no checkpoint in {workdir}/checkpoints")
    step = checkpoint.rsplit("-", 1)[-1]
    if step == "0" and not allow_untrained:
        raise UntrainedModelError(
            f"{workdir}: the only checkpoint is {checkpoint}, the untrained model of step 0 "
            "(the run stopped before its first training checkpoint); train it further, or "
            "pass allow_untrained=True (--allow_untrained) to use it anyway")
    return checkpoint


def model_from_workdir(workdir: str, checkpoint: str | None = None,
                       image_shape: tuple | None = None, allow_untrained: bool = False):
    """Rebuilds the model of a training workdir and restores its trained weights.

    The latest checkpoint (``checkpoints/``) is restored, so runs can be used
    while they train.

    Args:
      workdir: a ``sketchembednet.trainer`` workdir (``config.json``, ``checkpoints/``).
      checkpoint: a checkpoint prefix to use instead of the latest one.
      image_shape: ``(S, S, C)``; default: the ``image`` feature of the config's
        dataset (read from the TFDS builder's info, without the data).
      allow_untrained: accept a workdir whose newest checkpoint is of step 0.

    Returns:
      ``(model, config, source)``: the built Keras model (a SketchEmbedNet,
      ConvVAE or ContrastiveEmbedNet, by ``config["model"]["kind"]``), the
      workdir's resolved config as a dict, and the checkpoint prefix restored.

    Raises:
      FileNotFoundError: naming the workdir if it has no config.json or checkpoint.
      UntrainedModelError: if the checkpoint is of step 0 (unless ``allow_untrained``).

    Example:
      >>> model, config, source = model_from_workdir("runs/kanjivg-cpu")  # doctest: +SKIP
      >>> z = model.embed(images)  # doctest: +SKIP
    """
    config_path = os.path.join(workdir, "config.json")
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"{config_path}: not found; is {workdir} a training workdir?")
    with open(config_path) as f:
        config = json.load(f)
    image_shape = tuple(image_shape or dataset_image_shape(config))
    model = factory.from_config(config, image_shape)
    source = _restore(model, workdir, checkpoint, allow_untrained)
    logging.info("restored %s (image shape %s)", source, image_shape)
    return model, config, source


def embed_fn_from_workdir(workdir: str, checkpoint: str | None = None,
                          image_shape: tuple | None = None, allow_untrained: bool = False):
    """An ``embed_fn`` of a training workdir's model (see :func:`model_from_workdir`).

    Returns:
      ``embed_fn`` (see the module docstring); ``embed_fn.source`` is the restored
      file and ``embed_fn.model`` the model.

    Raises:
      FileNotFoundError: naming the workdir if it has no config.json or checkpoint.
    """
    model, config, source = model_from_workdir(workdir, checkpoint, image_shape,
                                               allow_untrained)
    image_shape = tuple(image_shape or dataset_image_shape(config))
    embed_fn = _wrap(lambda images: model.embed(tf.cast(images, tf.float32)), image_shape)
    embed_fn.source = source
    embed_fn.model = model
    return embed_fn


def embed_fn_from_export(export_dir: str):
    """An ``embed_fn`` of an export's weights, rebuilt as the Keras model
    (``models.exported.load_for_finetuning``): it takes images already framed at the model's size,
    like :func:`embed_fn_from_workdir` (the evaluator's datasets are framed). For raw
    pages use the SavedModel itself (:func:`embed_fn_from_saved_model`).

    Returns:
      ``embed_fn``; ``embed_fn.source`` is ``export_dir`` and ``embed_fn.model`` the model.
    """
    model = exported.load_for_finetuning(export_dir)
    image_shape = tuple(exported.read_export_config(export_dir)["export"]["image_shape"])
    embed_fn = _wrap(lambda images: model.embed(tf.cast(images, tf.float32)), image_shape)
    embed_fn.source = os.path.abspath(export_dir)
    embed_fn.model = model
    return embed_fn


def embed_fn_from_saved_model(path: str, signature: str = "serving_default"):
    """An ``embed_fn`` from a SavedModel whose signature maps uint8 images to embeddings.

    The signature must take one image tensor (any dtype: images are cast to it)
    and return one tensor ``[n, D]``, or a dict with a single output.

    Raises:
      ValueError: naming the path if the signature is missing or has other inputs.
    """
    loaded = tf.saved_model.load(path)
    if signature not in loaded.signatures:
        raise ValueError(f"{path}: no signature {signature!r}; it has "
                         f"{sorted(loaded.signatures.keys())}")
    fn = loaded.signatures[signature]
    inputs = fn.structured_input_signature[1]
    if len(inputs) != 1 or fn.structured_input_signature[0]:
        raise ValueError(f"{path}: signature {signature!r} must take one image tensor, "
                         f"takes {fn.structured_input_signature}")
    name, spec = next(iter(inputs.items()))
    image_shape = tuple(spec.shape[1:]) if spec.shape.rank == 4 else None
    if image_shape and None in image_shape:
        image_shape = None

    def embed(images):
        outputs = fn(**{name: images})
        if isinstance(outputs, dict):
            if len(outputs) != 1:
                raise ValueError(f"{path}: signature {signature!r} returns {sorted(outputs)}; "
                                 "expected a single embedding output")
            outputs = next(iter(outputs.values()))
        return outputs  # [n, D]

    embed_fn = _wrap(embed, image_shape, spec.dtype)
    embed_fn.loaded = loaded  # Keeps the SavedModel's variables alive.
    return embed_fn


def random_encoder_embed_fn(preset: str = "cpu", image_shape: tuple = (28, 28, 1),
                            seed: int = 0):
    """The Random CNN baseline: the preset's encoder with its random initialisation.

    The weights are a function of ``seed`` alone, and no global random state changes
    (:func:`seeding.seeded_python_random`: the weights are those
    ``keras.utils.set_random_seed(seed)`` before the build gives).
    """
    cfg = presets.resolve_config(preset)
    with seeding.seeded_python_random(seed):
        encoder = presets.build_encoder(cfg["encoder"], cfg["encoder_filters"],
                                        cfg["embedding_dim"], seed=int(seed))
        encoder.build((None, *image_shape))
    fn = _wrap(lambda images: encoder(tf.cast(images, tf.float32), training=False)[1],
               tuple(image_shape))
    fn.model = encoder
    return fn

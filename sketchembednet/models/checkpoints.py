"""Training checkpoints: a run's layout, restore with clear errors, and recovery from damage.

A run's workdir holds ``config.json`` (:data:`CONFIG_JSON`), ``sources.json``
(:data:`SOURCES_JSON`: each training source's split, size and stroke scale),
``train_result.json`` (:data:`TRAIN_RESULT_JSON`) and ``checkpoints/``.

A run's ``checkpoints/`` folder holds ``ckpt-<step>.index`` / ``.data-*`` files and
TF's ``checkpoint`` index. Three things can go wrong, and each has its own answer:

* the checkpoint belongs to another model (a changed config):
  :class:`CheckpointMismatchError`, never a fallback to an older file, since
  every file of the run has the same layout;
* the newest checkpoint is damaged (truncated or missing files): it is reported
  by name and the newest intact one is used (:func:`restore_latest`);
* the ``checkpoint`` index is empty or unreadable: it is rebuilt from the
  ``ckpt-*.index`` files on disk (:func:`make_manager`).

Example:
  >>> ckpt = make_checkpoint(model, optimizer)  # doctest: +SKIP
  >>> manager = make_manager(ckpt, "runs/demo/checkpoints", max_to_keep=3)  # doctest: +SKIP
  >>> restore_latest(ckpt, "runs/demo/checkpoints")  # doctest: +SKIP
  'runs/demo/checkpoints/ckpt-2500'
"""

from __future__ import annotations

import glob
import os
import re

import keras
import tensorflow as tf
from absl import logging

CONFIG_JSON = "config.json"
SOURCES_JSON = "sources.json"
TRAIN_RESULT_JSON = "train_result.json"
CHECKPOINTS = "checkpoints"

_STEP = re.compile(r"ckpt-(\d+)\.index$")


class CheckpointMismatchError(ValueError):
    """The checkpoint's variables are not those of the model built from the config."""


class CorruptCheckpointError(RuntimeError):
    """A checkpoint's files are damaged or missing."""


def make_checkpoint(model: keras.Model, optimizer=None) -> tf.train.Checkpoint:
    """The checkpoint layout of training runs: variables as positional lists.

    Creation order is fixed by the code, so positions are stable across
    processes. (TF's object-graph tracking does not see Keras 3 layers kept in
    Python lists, such as the encoder blocks, and would silently skip them and
    their BatchNorm statistics.) Restore a model alone with ``partial=True``.
    """
    parts = {"model_variables": list(model.variables)}
    if optimizer is not None:
        parts["optimizer_variables"] = list(optimizer.variables)
    return tf.train.Checkpoint(**parts)


def restore_checkpoint(checkpoint: tf.train.Checkpoint, path: str, partial: bool = False) -> None:
    """Restores ``path`` into ``checkpoint``.

    Raises:
      CheckpointMismatchError: naming the checkpoint, if its variables are not this
        model's (a ``ValueError``).
      CorruptCheckpointError: naming the checkpoint, if its files are damaged.
    """
    try:
        status = checkpoint.restore(path)
        if partial:
            status.expect_partial().assert_existing_objects_matched()
        else:
            status.assert_consumed()
    except (IndexError, tf.errors.DataLossError, tf.errors.OutOfRangeError,
            tf.errors.NotFoundError) as e:
        raise CorruptCheckpointError(f"{path}: damaged checkpoint files ({_first_line(e)})") \
            from None
    except (AssertionError, ValueError, tf.errors.OpError) as e:
        raise CheckpointMismatchError(
            f"{path}: this checkpoint does not match the model built from the config (another "
            f"config, or a run of an older sketchembednet version): {_first_line(e)}") from None


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def checkpoint_paths(directory: str) -> list[str]:
    """The checkpoint prefixes in ``directory`` with an index file, oldest step first."""
    found = []
    for index in glob.glob(os.path.join(directory, "ckpt-*.index")):
        match = _STEP.search(os.path.basename(index))
        if match:
            found.append((int(match.group(1)), index[: -len(".index")]))
    return [path for _, path in sorted(found)]


def _quarantine(path: str) -> None:
    folder = os.path.join(os.path.dirname(path), "damaged")
    os.makedirs(folder, exist_ok=True)
    for name in glob.glob(glob.escape(path) + ".*"):
        os.replace(name, os.path.join(folder, os.path.basename(name)))
    logging.warning("moved the files of %s to %s", path, folder)


def write_index(directory: str, latest: str | None = None) -> None:
    """Rewrites the ``checkpoint`` index from the checkpoint files on disk (up to
    ``latest``, default the newest)."""
    paths = checkpoint_paths(directory)
    if latest is not None:
        paths = paths[: paths.index(latest) + 1]
    if paths:
        tf.compat.v1.train.update_checkpoint_state(directory, paths[-1],
                                                   all_model_checkpoint_paths=paths)


def make_manager(checkpoint: tf.train.Checkpoint, directory: str,
                 max_to_keep: int) -> tf.train.CheckpointManager:
    """A ``CheckpointManager``; an empty or unreadable ``checkpoint`` index is rebuilt
    (with a warning) from the checkpoint files on disk first."""
    try:
        tf.train.get_checkpoint_state(directory)
    except (ValueError, tf.errors.OpError) as e:
        paths = checkpoint_paths(directory)
        logging.warning("%s: unreadable checkpoint index (%s); rebuilt from %d checkpoint "
                        "file(s) on disk", os.path.join(directory, "checkpoint"),
                        _first_line(e), len(paths))
        os.remove(os.path.join(directory, "checkpoint"))
        write_index(directory)
    return tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep)


def restore_latest(checkpoint: tf.train.Checkpoint, directory: str, partial: bool = False,
                   quarantine: bool = False) -> str | None:
    """Restores the newest intact checkpoint of ``directory``; None if there is none.

    A damaged checkpoint is reported (by name, with the reason) and the next older
    one is tried. Files on disk count even if the ``checkpoint`` index lost them.

    Args:
      checkpoint: what to restore into.
      directory: the run's ``checkpoints/`` folder.
      partial: restore a model alone (no optimizer).
      quarantine: move damaged checkpoints' files to ``<directory>/damaged/`` (kept
        for inspection), so that a resumed run does not meet them again.

    Raises:
      CheckpointMismatchError: if a checkpoint belongs to another model.
      CorruptCheckpointError: if every checkpoint is damaged (all are named).
    """
    paths = checkpoint_paths(directory)
    damaged = []
    for path in reversed(paths):
        try:
            restore_checkpoint(checkpoint, path, partial)
        except CorruptCheckpointError as e:
            logging.warning("%s; falling back to an older checkpoint", e)
            damaged.append(str(e))
            if quarantine:
                _quarantine(path)
            continue
        if damaged:
            logging.warning("restored %s instead of the damaged newer checkpoint(s)", path)
        return path
    if damaged:
        raise CorruptCheckpointError("every checkpoint is damaged: " + "; ".join(damaged))
    return None

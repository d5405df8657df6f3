"""Runs or resumes a search in its project directory (:func:`search`).

The settings that define a search are recorded in ``<dir>/search.json``; a ``--dir``
holding a search with other settings is refused (:class:`SearchMismatchError`).
"""

from __future__ import annotations

import os

from absl import logging

from sketchembednet.configs import checks
from sketchembednet.jsonio import read_json
from sketchembednet.jsonio import write_json
from sketchembednet.tuning.objectives import Evaluator
from sketchembednet.tuning.objectives import describe_validation
from sketchembednet.tuning.objectives import load_validation
from sketchembednet.tuning.options import SearchOptions
from sketchembednet.tuning.options import check_config
from sketchembednet.tuning.report import write_outputs
from sketchembednet.tuning.tuner import SearchStopped
from sketchembednet.tuning.tuner import make_oracle
from sketchembednet.tuning.tuner import make_tuner

PROJECT_NAME = "keras_tuner"  # KerasTuner's project folder under --dir.


class SearchMismatchError(ValueError):
    """``--dir`` holds a search with other settings."""


def check_search_file(options: SearchOptions, config, write: bool = True) -> None:
    """Refuses a ``--dir`` that holds a search with other settings; with ``write``,
    records this search's settings in ``<dir>/search.json`` if none are there.

    Paths and budgets (``--max_trials``, the data dirs) may change between runs of a
    search: they are not part of :meth:`SearchOptions.fingerprint`.

    Raises:
      SearchMismatchError: naming the settings that differ.

    Example:
      >>> from sketchembednet.configs import demo
      >>> check_search_file(SearchOptions(directory="/tmp/no_such_search"),
      ...                   demo.get_config("tiny"), write=False)
    """
    path = os.path.join(options.directory, "search.json")
    fingerprint = options.fingerprint(config)
    old = read_json(path, corrupt_ok=True)
    if old is not None and old.get("fingerprint") != fingerprint:
        theirs = old.get("fingerprint") or {}
        keys = sorted(k for k in set(theirs) | set(fingerprint)
                      if theirs.get(k) != fingerprint.get(k))
        raise SearchMismatchError(
            f"{options.directory} holds a search with other settings ({', '.join(keys)} differ; "
            f"see {path}). Re-run with the same settings to continue it, or use another --dir.")
    if old is None and write:
        os.makedirs(options.directory, exist_ok=True)
        write_json(path, {"fingerprint": fingerprint, "command": options.command})


def search(config, options: SearchOptions, strategy=None) -> dict:
    """Runs (or continues) a search; returns the summary (also in ``<dir>/summary.json``).

    Args:
      config: the training config (``ml_collections.ConfigDict``) every trial starts from.
      options: :class:`SearchOptions`.
      strategy: ``tf.distribute.Strategy`` of the trials (default: the default strategy).

    Raises:
      ValueError: for invalid options or config (before anything trains).
      SearchMismatchError: if ``options.directory`` holds a search with other settings.
      SearchStopped: after too many consecutive failed trials (outputs are written).

    Example:
      >>> from sketchembednet.configs import demo
      >>> from sketchembednet.tuning.space import parse_space
      >>> options = SearchOptions(directory="/tmp/tune", max_trials=2,
      ...                         space=parse_space(alpha_max="0,1"))
      >>> summary = search(demo.get_config("tiny"), options)  # doctest: +SKIP
      >>> summary["best_trial"]["alpha_max"]  # doctest: +SKIP
      1.0
    """
    import tensorflow as tf

    from sketchembednet.data import pipeline

    options.validate()
    for warning in check_config(config, options):
        logging.warning("%s", warning)
    check_search_file(options, config, write=False)
    strategy = strategy or tf.distribute.get_strategy()
    _, info = pipeline.prepare(config.dataset.name, **checks.dataset_source(config.dataset))
    val_data = None
    if options.objective == "fewshot":
        val_data = load_validation(options, tuple(info.image_shape))
        logging.info("validation set %s: %d images of %d classes", val_data.name,
                     len(val_data.labels), val_data.num_classes)
    evaluator = Evaluator(options, val_data, options.pixel_split)
    check_search_file(options, config)  # Recorded once the settings proved valid.
    reloading = os.path.exists(os.path.join(options.directory, PROJECT_NAME, "tuner0.json"))
    tuner = make_tuner(make_oracle(options, config), config, options, evaluator, strategy,
                       val_description=describe_validation(options, val_data, config),
                       directory=options.directory, project_name=PROJECT_NAME)
    if not reloading:
        tuner.save()  # So that a search killed in its first trial reloads, not restarts.
    remaining = tuner.remaining_trials
    logging.info("search in %s: %s new trial(s) to go, %d interrupted one(s) to resume",
                 options.directory, "?" if remaining is None else max(remaining, 0),
                 len(getattr(tuner.oracle, "_retry_queue", ())))
    try:
        tuner.search(verbose=1 if options.progress else 0)
    except SearchStopped as e:
        write_outputs(tuner, stopped=str(e))
        raise
    return write_outputs(tuner)

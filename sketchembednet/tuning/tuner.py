"""The KerasTuner side of the search: the tuner that trains each trial, and the oracle.

Each trial trains with ``trainer.Trainer`` in ``<dir>/trials/<trial id>``; a Hyperband
trial that continues another starts from a copy of its checkpoints. The tuner is
:class:`AlphaScheduleTunerMixin` on ``keras_tuner.Tuner`` (:func:`tuner_class`,
:func:`make_tuner`); KerasTuner is only imported when a tuner or an oracle is made.
"""

from __future__ import annotations

import gc
import json
import math
import os
import shutil
import time
import traceback

from absl import logging

from sketchembednet.jsonio import read_json
from sketchembednet.jsonio import write_json
from sketchembednet.tuning.options import SearchOptions
from sketchembednet.tuning.report import write_outputs
from sketchembednet.tuning.space import config_values
from sketchembednet.tuning.space import format_value
from sketchembednet.tuning.space import space_values
from sketchembednet.tuning.space import trial_config


class SearchStopped(RuntimeError):
    """Too many consecutive failed trials; the search stopped (it can be resumed)."""


def hyperband_steps(epochs: int, num_steps: int, max_epochs: int) -> int:
    """Global steps of a Hyperband budget of ``epochs`` (of ``max_epochs`` = ``num_steps``).

    Example:
      >>> [hyperband_steps(e, 3000, 9) for e in (1, 3, 9)]
      [334, 1000, 3000]
    """
    return int(math.ceil(num_steps * epochs / max_epochs))


def seed_from_trial(source_workdir: str, workdir: str) -> bool:
    """Starts ``workdir`` from a copy of ``source_workdir``'s checkpoints, unless
    ``workdir`` already has its own (an interrupted trial resumes from those).

    Returns:
      True if the checkpoints were copied.

    Raises:
      FileNotFoundError: if the source trial has no checkpoint.
    """
    import tensorflow as tf

    own = os.path.join(workdir, "checkpoints")
    if tf.train.latest_checkpoint(own):
        return False
    source = os.path.join(source_workdir, "checkpoints")
    if not tf.train.latest_checkpoint(source):
        raise FileNotFoundError(f"{source}: no checkpoint to continue from")
    if os.path.exists(own):
        shutil.rmtree(own)
    os.makedirs(workdir, exist_ok=True)
    shutil.copytree(source, own)
    return True


def check_stale_workdir(workdir: str, config) -> None:
    """Refuses to resume a trial workdir trained with another config (e.g. left over
    from a deleted search), except for the step count and data paths.

    Raises:
      RuntimeError: naming the workdir and the config fields that differ.

    Example:
      >>> from sketchembednet.configs import demo
      >>> check_stale_workdir("/tmp/no_such_trial_workdir", demo.get_config("tiny"))
    """
    old = read_json(os.path.join(workdir, "config.json"), corrupt_ok=True)
    if old is None:
        return
    new = json.loads(config.to_json_best_effort())
    for plain in (old, new):
        plain.get("train", {}).pop("num_steps", None)
        for key in ("data_dir", "manual_dir"):
            plain.get("dataset", {}).pop(key, None)
    if old != new:
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        raise RuntimeError(f"{workdir} holds a run of another config ({', '.join(keys)} "
                           "differ); remove it, or search in a fresh --dir")


class AlphaScheduleTunerMixin:
    """The search's side of the KerasTuner tuner: runs each trial through
    ``trainer.Trainer`` and returns its objective.

    A mixin, so that the class is defined without importing KerasTuner:
    :func:`tuner_class` puts it on ``keras_tuner.Tuner``, and :func:`make_tuner`
    builds one.

    Args:
      oracle: a KerasTuner oracle over :data:`PARAMS` (plus Hyperband's ``tuner/*``).
      base_config: the training config every trial starts from.
      options: :class:`SearchOptions`.
      evaluator: :class:`Evaluator`.
      strategy: the ``tf.distribute.Strategy`` of every trial.
      val_description: what the objective is computed on (``describe_validation``),
        for the summaries.
      **kwargs: for ``keras_tuner.Tuner`` (``directory``, ``project_name``, ...).

    Example:
      >>> tuner_class().__mro__[1] is AlphaScheduleTunerMixin
      True
    """

    def __init__(self, oracle, base_config, options: SearchOptions, evaluator, strategy,
                 val_description: dict | None = None, **kwargs):
        self.base_config = base_config
        self.options = options
        self.evaluator = evaluator
        self.strategy = strategy
        self.val_description = val_description or {}
        self.root = options.directory
        super().__init__(oracle=oracle, overwrite=False, **kwargs)

    def trial_workdir(self, trial_id: str) -> str:
        """``<dir>/trials/<trial id>``: the trial's training workdir."""
        return os.path.join(self.root, "trials", str(trial_id))

    def _result_path(self, trial_id: str) -> str:
        return os.path.join(self.trial_workdir(trial_id), "tune_result.json")

    def _duplicate_of(self, trial) -> str | None:
        """A completed trial with the same parameters (not for Hyperband budgets)."""
        if self.options.tuner == "hyperband":
            return None
        values = space_values(trial.hyperparameters.values)
        for other in self.oracle.trials.values():
            if (other.trial_id != trial.trial_id and other.status == "COMPLETED"
                    and space_values(other.hyperparameters.values) == values):
                return other.trial_id
        return None

    def run_trial(self, trial, *args, **kwargs):
        """Trains and evaluates one trial (or takes the result of a duplicate); a
        failure is recorded and raised as ``keras_tuner.errors.FailedTrialError``."""
        import keras
        import keras_tuner

        del args, kwargs
        trial_id = trial.trial_id
        values = dict(trial.hyperparameters.values)
        workdir = self.trial_workdir(trial_id)
        os.makedirs(workdir, exist_ok=True)
        record = {"trial_id": trial_id, "values": values, "status": "RUNNING",
                  "objective_name": self.options.objective_name}
        logging.info("trial %s: %s", trial_id, ", ".join(
            f"{k}={format_value(v)}" for k, v in values.items()))
        start = time.time()
        try:
            duplicate = self._duplicate_of(trial)
            if duplicate is not None:
                self._copy_result(duplicate, record)
            else:
                self._train_and_evaluate(values, workdir, record)
        except Exception as e:  # A failed trial is recorded; the search goes on.
            record.update(status="FAILED", error=f"{type(e).__name__}: {e}",
                          traceback=traceback.format_exc(), seconds=time.time() - start)
            write_json(self._result_path(trial_id), record)
            logging.error("trial %s failed: %s\n%s", trial_id, record["error"],
                          record["traceback"])
            raise keras_tuner.errors.FailedTrialError(record["error"]) from e
        finally:
            keras.backend.clear_session()
            gc.collect()
        record["status"] = "COMPLETED"
        write_json(self._result_path(trial_id), record)
        logging.info("trial %s: %s = %.4f (%s steps, %.0f s)", trial_id,
                     self.options.objective_name, record["objective"],
                     record.get("steps", "no"), time.time() - start)
        return {self.options.objective_name: float(record["objective"])}

    def _copy_result(self, duplicate: str, record: dict) -> None:
        """Takes the objective of a completed trial with the same values."""
        other = read_json(self._result_path(duplicate), corrupt_ok=True) or {}
        if other.get("objective") is None:
            raise RuntimeError(f"trial {duplicate} has the same values but no objective")
        logging.info("trial %s has the values of trial %s: not re-trained",
                     record["trial_id"], duplicate)
        record.update(objective=other["objective"], duplicate_of=duplicate,
                      eval=other.get("eval"),
                      note=f"same values as trial {duplicate}: not re-trained")

    def _train_and_evaluate(self, values: dict, workdir: str, record: dict) -> None:
        """Trains the trial's config with ``trainer.Trainer`` (resuming from the
        workdir's checkpoints, or from the trial Hyperband continues), then
        computes the objective. Fills ``record``."""
        from sketchembednet import trainer

        num_steps = None
        if "tuner/epochs" in values:  # Hyperband: the budget in steps.
            num_steps = hyperband_steps(values["tuner/epochs"],
                                        int(self.base_config.train.num_steps),
                                        self.options.hyperband_max_epochs)
            past = values.get("tuner/trial_id")
            if past:
                copied = seed_from_trial(self.trial_workdir(past), workdir)
                record["note"] = f"continues trial {past}"
                logging.info("trial %s continues trial %s%s", record["trial_id"], past,
                             " (checkpoints copied)" if copied else "")
        config = trial_config(self.base_config, values, num_steps)
        check_stale_workdir(workdir, config)
        start = time.time()
        result = trainer.Trainer(config, workdir, self.strategy).train()
        record["train_seconds"] = time.time() - start
        record["steps"] = int(result.get("train/step", config.train.num_steps))
        start = time.time()
        evaluation = self.evaluator(workdir)
        record["eval_seconds"] = time.time() - start
        record.update(objective=float(evaluation.pop("value")), eval=evaluation)

    def _failed_streak(self) -> int:
        """Trials that failed in a row, counting back from the last one that ended."""
        streak = 0
        for trial_id in reversed(self.oracle.end_order):
            if self.oracle.trials[trial_id].status != "FAILED":
                break
            streak += 1
        return streak

    def on_trial_end(self, trial):
        """Rewrites the outputs; raises :class:`SearchStopped` after
        ``--max_consecutive_failed_trials`` failures in a row."""
        super().on_trial_end(trial)  # The oracle records the trial and saves.
        try:
            write_outputs(self)
        except Exception:  # Outputs are rewritten after the next trial.
            logging.exception("could not write the search summary")
        limit = self.options.max_consecutive_failed_trials
        streak = self._failed_streak()
        if limit and streak >= limit:
            record = read_json(self._result_path(trial.trial_id), corrupt_ok=True) or {}
            error = record.get("error") or (trial.message or "").strip()[-300:]
            raise SearchStopped(
                f"{streak} consecutive failed trials (--max_consecutive_failed_trials="
                f"{limit}); the last error: {error}. Fix the cause and re-run the same "
                "command to continue the search.")


def tuner_class():
    """The ``keras_tuner.Tuner`` subclass of the search: :class:`AlphaScheduleTunerMixin`
    on ``keras_tuner.Tuner`` (made on call, as keras_tuner imports TensorFlow).

    Example:
      >>> cls = tuner_class()
      >>> cls.__name__, [c.__name__ for c in cls.__mro__[1:3]]
      ('AlphaScheduleTuner', ['AlphaScheduleTunerMixin', 'Tuner'])
    """
    import keras_tuner

    return type("AlphaScheduleTuner", (AlphaScheduleTunerMixin, keras_tuner.Tuner),
                {"__module__": __name__, "__doc__": AlphaScheduleTunerMixin.__doc__})


def make_tuner(oracle, base_config, options: SearchOptions, evaluator, strategy,
               val_description: dict | None = None, **kwargs):
    """A tuner of :func:`tuner_class` (arguments as :class:`AlphaScheduleTunerMixin`);
    with ``overwrite=False``, it reloads the search saved in its project directory.

    Example:
      >>> tuner = make_tuner(make_oracle(options, config), config, options,  # doctest: +SKIP
      ...                    Evaluator(options), strategy, directory=options.directory,
      ...                    project_name="keras_tuner")
    """
    return tuner_class()(oracle=oracle, base_config=base_config, options=options,
                         evaluator=evaluator, strategy=strategy,
                         val_description=val_description, **kwargs)


def make_oracle(options: SearchOptions, config):
    """The KerasTuner oracle of ``--tuner`` over the options' search space."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    current = config_values(config)
    for name, param in options.space.items():
        param.declare(hp, current[name])
    objective = keras_tuner.Objective(options.objective_name, options.direction)
    # Consecutive failures are counted by the tuner (after the failure is saved).
    common = dict(objective=objective, hyperparameters=hp, seed=options.seed,
                  max_consecutive_failed_trials=10**9)
    if options.tuner == "random":
        return keras_tuner.oracles.RandomSearchOracle(max_trials=options.max_trials, **common)
    if options.tuner == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(max_trials=options.max_trials,
                                                              **common)
    oracle = keras_tuner.oracles.HyperbandOracle(
        max_epochs=options.hyperband_max_epochs, factor=options.hyperband_factor,
        hyperband_iterations=options.hyperband_iterations, **common)
    oracle.max_trials = options.max_trials or None  # A cap on top of Hyperband's budget.
    return oracle

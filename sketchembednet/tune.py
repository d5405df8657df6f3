r"""KerasTuner search over the α curriculum: ``python -m sketchembednet.tune``.

    python -m sketchembednet.tune --config=demo --tuner=random --max_trials=5 --dir=runs/tune
    python -m sketchembednet.tune --config=demo --tuner=bayesian --max_trials=12 \
        --dir=runs/tune_bo --alpha_max=0:1 --alpha_interval=50,100,200 --learning_rate=3e-4:3e-3
    python -m sketchembednet.tune --config=demo --tuner=hyperband --hyperband_max_epochs=9 \
        --dir=runs/tune_hb
    python -m sketchembednet.tune --config=demo:tiny --config.train.num_steps=200 \
        --objective=val_pixel --max_trials=3 --dir=/tmp/tune_smoke

Every trial trains with the project's one training loop, ``trainer.Trainer(config,
<dir>/trials/<trial id>, strategy).train()`` (exactly what ``sketchembednet.train``
runs), on the ``--config`` config (packaged name or file path, dotted overrides as in
``train``) with the trial's α fields (``alpha.max``, ``alpha.increment``,
``alpha.interval``, ``alpha.start_step``) and ``optim.learning_rate`` substituted.

**Search space.** Each of ``--alpha_max``, ``--alpha_increment``, ``--alpha_interval``
(steps), ``--alpha_start_step`` and ``--learning_rate`` is

* empty: fixed to the config's value (the default for all but ``--alpha_max``);
* one value (``0.5``): fixed to it;
* comma-separated values (``0,0.25,0.5``): a ``Choice``;
* a range ``lo:hi`` or ``lo:hi:step``: ``Float``/``Int`` (the learning rate is
  sampled log-uniformly; its ``step`` is then a factor).

``--alpha_max`` defaults to the choice ``0,0.25,0.5,0.75,1.0``; the learning rate is
not tuned unless given.

**Objectives.** ``fewshot`` (default, maximised): ``--ways``-way ``--shots``-shot
accuracy over ``--episodes`` seeded episodes (the same episodes for every trial) with
the project's evaluator, on a validation set that no trial trains on. By default it
is a fixed half (``--val_half``, default 0) of the Omniglot *background* classes of
the shared npz, split by a seeded permutation (:func:`omniglot_half`); any
``datasets.load`` spec can be used instead (``--val_dataset=quickdraw_unseen
--val_manual_dir=...``). The Omniglot evaluation set is never used. ``val_pixel``
(minimised) is a cheap proxy: the mean pixel-loss term of the trained model on the
config's ``dataset.eval_split`` (computed at α = 1, i.e. unweighted). It favours large
α by construction (those runs optimise it), so use it for smoke tests and
α-insensitive questions, not to pick α_max.

**Hyperband.** KerasTuner's "epochs" are a budget unit: one epoch =
``config.train.num_steps / --hyperband_max_epochs`` steps, so ``tuner/epochs`` = E
trains to ``ceil(E * num_steps / hyperband_max_epochs)`` global steps. A trial that
continues an earlier one (``tuner/trial_id``) starts from a copy of that trial's last
checkpoint and trains on to its own step count (α and the learning rate are
functions of the global step, so this equals training straight through).

**Resume.** Re-running the same command with the same ``--dir`` continues the search
(KerasTuner project ``<dir>/keras_tuner``, ``overwrite=False``): completed and failed
trials are kept, an interrupted trial is run again and its trainer resumes from
``<dir>/trials/<id>/checkpoints``. The settings that define the search (tuner,
objective, space, validation set, the config without its data paths) are stored in
``<dir>/search.json`` and must match; ``--max_trials`` may be raised to extend a search.

**Failures.** An exception in a trial's training or evaluation marks it FAILED (via
``keras_tuner.errors.FailedTrialError``), logs the error, records it in
``<dir>/trials/<id>/tune_result.json`` and the summary, and the search goes on;
``--max_consecutive_failed_trials`` (default 3, 0 = never) failures in a row stop it.

**Outputs** (rewritten after every trial): ``<dir>/summary.md`` (table of trials),
``summary.json``, ``objective_vs_alpha_max.png`` and ``best_config.py``, a config file
for ``python -m sketchembednet.train --config=<dir>/best_config.py``.

Library use (no flags):
  >>> space = parse_space(alpha_max="0,0.5,1")
  >>> space["alpha_max"].describe(), space["alpha_interval"].describe()
  ('choice 0, 0.5, 1', "config's value")
"""

from __future__ import annotations

import os
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from sketchembednet import cli
from sketchembednet import configs
from sketchembednet.tuning import DEFAULT_ALPHA_MAX
from sketchembednet.tuning import OBJECTIVES
from sketchembednet.tuning import OMNIGLOT_HALF
from sketchembednet.tuning import PARAMS
from sketchembednet.tuning import PROJECT_NAME
from sketchembednet.tuning import TUNERS
from sketchembednet.tuning import VAL_SPLIT_SEED
from sketchembednet.tuning import Evaluator
from sketchembednet.tuning import Param
from sketchembednet.tuning import SearchMismatchError
from sketchembednet.tuning import SearchOptions
from sketchembednet.tuning import SearchStopped
from sketchembednet.tuning import alpha_at
from sketchembednet.tuning import best_row
from sketchembednet.tuning import check_config
from sketchembednet.tuning import collect_trials
from sketchembednet.tuning import config_values
from sketchembednet.tuning import format_value
from sketchembednet.tuning import hyperband_steps
from sketchembednet.tuning import load_validation
from sketchembednet.tuning import make_oracle
from sketchembednet.tuning import omniglot_half
from sketchembednet.tuning import parse_param
from sketchembednet.tuning import parse_space
from sketchembednet.tuning import plot_objective
from sketchembednet.tuning import search
from sketchembednet.tuning import seed_from_trial
from sketchembednet.tuning import trial_config
from sketchembednet.tuning import unreachable_alpha_warning
from sketchembednet.tuning import write_best_config
from sketchembednet.tuning import write_outputs
from sketchembednet.tuning import write_summary

STRATEGIES = ("default", "one_device", "mirrored")

# The library API of ``sketchembednet.tuning``, re-exported (``tune.omniglot_half``, ...),
# and the CLI's own functions.
__all__ = [
    "DEFAULT_ALPHA_MAX", "OBJECTIVES", "OMNIGLOT_HALF", "PARAMS", "PROJECT_NAME", "TUNERS",
    "VAL_SPLIT_SEED", "Evaluator", "Param", "SearchMismatchError", "SearchOptions",
    "SearchStopped", "alpha_at", "best_row", "check_config", "collect_trials", "config_values",
    "hyperband_steps", "load_validation", "make_oracle", "omniglot_half", "parse_param",
    "parse_space", "plot_objective", "search", "seed_from_trial", "trial_config",
    "unreachable_alpha_warning", "write_best_config", "write_outputs", "write_summary",
    "STRATEGIES", "define_flags", "options_from_flags", "main", "run",
]


def define_flags(flag_values=flags.FLAGS) -> None:
    """Defines the CLI's flags (only ``run()`` does this, so importing the module
    never clashes with the flags of ``sketchembednet.train`` / ``evaluate``)."""
    fv = dict(flag_values=flag_values)
    config_flags.DEFINE_config_file(
        "config", configs.config_path("demo"),
        "Training config of every trial: a packaged name or a file path (as in train).", **fv)
    flags.DEFINE_string("dir", "", "Project directory (default runs/tune-<dataset>-<preset>); "
                        "re-running with it continues the search.", **fv)
    flags.DEFINE_enum("tuner", "random", list(TUNERS), "KerasTuner oracle.", **fv)
    flags.DEFINE_integer("max_trials", 10, "Trials in all (hyperband: a cap, 0 = none).", **fv)
    flags.DEFINE_enum("objective", "fewshot", list(OBJECTIVES),
                      "fewshot: few-shot accuracy on the validation set (maximised); "
                      "val_pixel: mean pixel loss on the config's eval split (minimised).", **fv)
    flags.DEFINE_string("alpha_max", DEFAULT_ALPHA_MAX,
                        "α_max: choices a,b,c, a range lo:hi[:step], one value, or empty "
                        "(the config's).", **fv)
    flags.DEFINE_string("alpha_increment", "", "α increment (same syntax; empty = config's).",
                        **fv)
    flags.DEFINE_string("alpha_interval", "", "Steps between increments (same syntax).", **fv)
    flags.DEFINE_string("alpha_start_step", "", "Step the curriculum starts (same syntax).", **fv)
    flags.DEFINE_string("learning_rate", "", "Adam learning rate (same syntax; ranges are "
                        "log-uniform; empty = config's, not tuned).", **fv)
    flags.DEFINE_integer("seed", 1, "Oracle seed (>= 1).", **fv)
    flags.DEFINE_integer("ways", 20, "fewshot: N.", **fv)
    flags.DEFINE_integer("shots", 1, "fewshot: K.", **fv)
    flags.DEFINE_integer("episodes", 500, "fewshot: episodes per trial (same for every trial).",
                         **fv)
    flags.DEFINE_integer("num_query", None, "fewshot: query examples per class (default: rest).",
                         **fv)
    flags.DEFINE_integer("fewshot_seed", 0, "fewshot: episode seed.", **fv)
    flags.DEFINE_string("val_dataset", OMNIGLOT_HALF,
                        "fewshot validation set: omniglot_half (half of the Omniglot background "
                        "classes of --val_npz) or any datasets.load spec (quickdraw_unseen, "
                        "folder:<path>, ...).", **fv)
    flags.DEFINE_string("val_npz", "", "images_background.npz (default: "
                        "$SKETCHEMBEDNET_SHARED_DATA or ../shared/data, omniglot/npz_105x105/).",
                        **fv)
    flags.DEFINE_integer("val_half", 0, "omniglot_half: which half (0 or 1) of the classes.", **fv)
    flags.DEFINE_string("val_split", None, "--val_dataset TFDS split.", **fv)
    flags.DEFINE_string("val_data_dir", None, "--val_dataset TFDS data dir.", **fv)
    flags.DEFINE_string("val_manual_dir", None, "--val_dataset manual dir.", **fv)
    flags.DEFINE_integer("val_max_per_class", 0, "Use at most this many images per class "
                         "(seeded; 0 = all).", **fv)
    flags.DEFINE_string("pixel_split", "", "val_pixel: split (default: dataset.eval_split).", **fv)
    flags.DEFINE_integer("hyperband_max_epochs", 9,
                         "hyperband: budget units of a full run; one = num_steps / this.", **fv)
    flags.DEFINE_integer("hyperband_factor", 3, "hyperband: reduction factor.", **fv)
    flags.DEFINE_integer("hyperband_iterations", 1, "hyperband: iterations.", **fv)
    flags.DEFINE_integer("max_consecutive_failed_trials", 3,
                         "Stop after this many failed trials in a row (0 = never).", **fv)
    flags.DEFINE_enum("strategy", "default", list(STRATEGIES), "tf.distribute strategy.", **fv)
    flags.DEFINE_integer("cpu_replicas", 0, "Split the CPU into this many logical devices.", **fv)


def options_from_flags(flag_values=flags.FLAGS, command: str = ""):
    """``(config, SearchOptions)`` of parsed flags.

    Raises:
      app.UsageError: naming the flag, for invalid values.
    """
    f = flag_values
    config = f["config"].value
    directory = f["dir"].value
    if not directory:
        kind = config.model.get("kind", "sketchembednet")
        suffix = "" if kind == "sketchembednet" else f"-{kind}"
        dataset = config.dataset.name.replace("/", "_")
        directory = f"runs/tune-{dataset}-{config.model.preset}{suffix}"
    try:
        space = parse_space(f["alpha_max"].value, f["alpha_increment"].value,
                            f["alpha_interval"].value, f["alpha_start_step"].value,
                            f["learning_rate"].value)
        options = SearchOptions(
            directory=directory, tuner=f["tuner"].value, max_trials=f["max_trials"].value,
            objective=f["objective"].value, space=space, seed=f["seed"].value,
            ways=f["ways"].value, shots=f["shots"].value, episodes=f["episodes"].value,
            num_query=f["num_query"].value, fewshot_seed=f["fewshot_seed"].value,
            val_dataset=f["val_dataset"].value, val_npz=f["val_npz"].value,
            val_half=f["val_half"].value, val_split=f["val_split"].value,
            val_data_dir=f["val_data_dir"].value, val_manual_dir=f["val_manual_dir"].value,
            val_max_per_class=f["val_max_per_class"].value, pixel_split=f["pixel_split"].value,
            hyperband_max_epochs=f["hyperband_max_epochs"].value,
            hyperband_factor=f["hyperband_factor"].value,
            hyperband_iterations=f["hyperband_iterations"].value,
            max_consecutive_failed_trials=f["max_consecutive_failed_trials"].value,
            command=command)
        options.validate()
        check_config(config, options)
    except ValueError as e:
        raise app.UsageError(str(e)) from None
    return config, options


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    import shlex

    command = " ".join(["python -m sketchembednet.tune", *map(shlex.quote, sys.argv[1:])])
    config, options = options_from_flags(flags.FLAGS, command)
    from sketchembednet import distribute

    distribute.split_cpu(flags.FLAGS["cpu_replicas"].value)
    strategy = distribute.get_strategy(flags.FLAGS["strategy"].value)
    try:
        summary = search(config, options, strategy)
    except SearchMismatchError as e:
        raise app.UsageError(str(e)) from None
    except SearchStopped as e:
        print(f"search stopped: {e}\noutputs in {options.directory}", file=sys.stderr)
        sys.exit(1)
    best = summary["best_trial"]
    counts = ", ".join(f"{n} {s.lower()}" for s, n in summary["counts"].items())
    print(f"search done ({counts}); summary in {os.path.join(options.directory, 'summary.md')}")
    if best is None:
        print("no trial completed: no best config", file=sys.stderr)
        sys.exit(1)
    print(f"best: trial {best['trial_id']}, {options.objective_name} = {best['objective']:.4f}, "
          f"α_max = {format_value(best.get('alpha_max'))}; train it with\n"
          f"  python -m sketchembednet.train --config={summary.get('best_config')}")


def _resolve(value: str) -> str:
    path = configs.config_path(value)
    if not os.path.exists(path.split(":", 1)[0]):
        sys.exit(f"--config={value}: no such config file; use a path or one of "
                 f"{', '.join(configs.PACKAGED)}")
    return path


def run():
    """Entry point: defines the flags and maps packaged config names to their files."""
    define_flags()
    argv = list(sys.argv)
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            argv[i] = "--config=" + _resolve(arg.split("=", 1)[1])
        elif arg == "--config" and i + 1 < len(argv):
            argv[i + 1] = _resolve(argv[i + 1])
    app.run(cli.one_line_errors(main), argv=argv)


if __name__ == "__main__":
    run()

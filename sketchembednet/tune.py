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

import dataclasses
import gc
import json
import math
import os
import pprint
import shutil
import sys
import time
import traceback

import numpy as np
from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from sketchembednet import configs

TUNERS = ("random", "bayesian", "hyperband")
OBJECTIVES = {"fewshot": ("fewshot_accuracy", "max"), "val_pixel": ("val_pixel_loss", "min")}
OMNIGLOT_HALF = "omniglot_half"  # --val_dataset of the default validation set.
VAL_SPLIT_SEED = 0  # Seed of the class permutation that halves the Omniglot background set.
PROJECT_NAME = "keras_tuner"  # KerasTuner's project folder under --dir.
STRATEGIES = ("default", "one_device", "mirrored")


class SearchStopped(RuntimeError):
    """Too many consecutive failed trials; the search stopped (it can be resumed)."""


class SearchMismatchError(ValueError):
    """``--dir`` holds a search with other settings."""


# ---------------------------------------------------------------- Search space


@dataclasses.dataclass(frozen=True)
class _ParamSpec:
    field: str  # Dotted config field the value goes to.
    integer: bool
    check: str  # Condition text, for errors.
    valid: object  # value -> bool
    log: bool = False  # Ranges sample log-uniformly.


PARAMS = {
    "alpha_max": _ParamSpec("alpha.max", False, "in [0, 1]", lambda v: 0.0 <= v <= 1.0),
    "alpha_increment": _ParamSpec("alpha.increment", False, "in (0, 1]", lambda v: 0.0 < v <= 1.0),
    "alpha_interval": _ParamSpec("alpha.interval", True, "an integer >= 1", lambda v: v >= 1),
    "alpha_start_step": _ParamSpec("alpha.start_step", True, "an integer >= 0", lambda v: v >= 0),
    "learning_rate": _ParamSpec("optim.learning_rate", False, "> 0", lambda v: v > 0, log=True),
}
DEFAULT_ALPHA_MAX = "0,0.25,0.5,0.75,1.0"


@dataclasses.dataclass(frozen=True)
class Param:
    """One searched (or fixed) hyperparameter.

    Attributes:
      name: the KerasTuner name (a key of ``PARAMS``).
      kind: ``"config"`` (the config's value), ``"fixed"``, ``"choice"`` or ``"range"``.
      values: ``()`` / ``(v,)`` / the choices / ``(lo, hi)``.
      step: a range's step (None: continuous, or 1 for integers).

    Example:
      >>> parse_param("alpha_interval", "100:400:100").describe()
      'range 100..400 step 100'
    """

    name: str
    kind: str
    values: tuple = ()
    step: float | int | None = None

    @property
    def spec(self) -> _ParamSpec:
        return PARAMS[self.name]

    def declare(self, hp, config_value) -> None:
        """Registers this parameter in a ``keras_tuner.HyperParameters``."""
        if self.kind in ("config", "fixed"):
            value = config_value if self.kind == "config" else self.values[0]
            hp.Fixed(self.name, int(value) if self.spec.integer else float(value))
        elif self.kind == "choice":
            hp.Choice(self.name, list(self.values))
        elif self.spec.integer:
            hp.Int(self.name, self.values[0], self.values[1], step=self.step or 1)
        else:
            hp.Float(self.name, self.values[0], self.values[1], step=self.step,
                     sampling="log" if self.spec.log else "linear")

    def bounds(self, config_value) -> tuple:
        """``(lowest, highest)`` value a trial can get."""
        if self.kind == "config":
            return config_value, config_value
        return min(self.values), max(self.values)

    def describe(self) -> str:
        if self.kind == "config":
            return "config's value"
        if self.kind == "range":
            text = f"range {_fmt(self.values[0])}..{_fmt(self.values[1])}"
            return text + (f" step {_fmt(self.step)}" if self.step else "") + (
                " (log)" if self.spec.log else "")
        return f"{self.kind} " + ", ".join(_fmt(v) for v in self.values)

    def to_json(self) -> dict:
        return {"kind": self.kind, "values": list(self.values), "step": self.step}


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _number(name: str, text: str):
    spec = PARAMS[name]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--{name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"--{name}: {text!r} is not finite")
    if spec.integer:
        if not value.is_integer():
            raise ValueError(f"--{name}: {text!r} is not an integer")
        value = int(value)
    if not spec.valid(value):
        raise ValueError(f"--{name}={text}: must be {spec.check}")
    return value


def parse_param(name: str, text: str) -> Param:
    """Parses one search-space flag (see the module docstring).

    Raises:
      ValueError: naming the flag, for unknown names, empty choices, values out of
        range, non-numbers, duplicate choices or an empty range.

    Example:
      >>> parse_param("alpha_max", "0.25, 0.75").values
      (0.25, 0.75)
      >>> parse_param("alpha_max", "1.5")
      Traceback (most recent call last):
      ...
      ValueError: --alpha_max=1.5: must be in [0, 1]
    """
    if name not in PARAMS:
        raise ValueError(f"unknown search parameter {name!r}; use one of {', '.join(PARAMS)}")
    text = (text or "").strip()
    if not text:
        return Param(name, "config")
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"--{name}={text}: a range is lo:hi or lo:hi:step")
        lo, hi = _number(name, parts[0]), _number(name, parts[1])
        if not lo < hi:
            raise ValueError(f"--{name}={text}: empty range (need lo < hi)")
        step = None
        if len(parts) == 3:
            try:
                step = float(parts[2])
            except ValueError:
                raise ValueError(f"--{name}={text}: step {parts[2]!r} is not a number") from None
            if not step > 0:
                raise ValueError(f"--{name}={text}: step must be > 0")
            if PARAMS[name].integer:
                if not step.is_integer():
                    raise ValueError(f"--{name}={text}: step must be an integer")
                step = int(step)
        return Param(name, "range", (lo, hi), step)
    parts = [p.strip() for p in text.split(",")]
    if not any(parts):
        raise ValueError(f"--{name}={text!r}: empty list of choices")
    if not all(parts):
        raise ValueError(f"--{name}={text!r}: empty value in the list of choices")
    values = tuple(_number(name, p) for p in parts)
    if len(set(values)) != len(values):
        raise ValueError(f"--{name}={text}: repeated choices")
    return Param(name, "fixed" if len(values) == 1 else "choice", values)


def parse_space(alpha_max: str = DEFAULT_ALPHA_MAX, alpha_increment: str = "",
                alpha_interval: str = "", alpha_start_step: str = "",
                learning_rate: str = "") -> dict[str, Param]:
    """The search space of the five flags, as ``{name: Param}``."""
    texts = dict(alpha_max=alpha_max, alpha_increment=alpha_increment,
                 alpha_interval=alpha_interval, alpha_start_step=alpha_start_step,
                 learning_rate=learning_rate)
    return {name: parse_param(name, text) for name, text in texts.items()}


def _get(config, dotted: str):
    for key in dotted.split("."):
        config = config[key]
    return config


def _set(config, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        config = config[key]
    config[last] = value


def config_values(config) -> dict:
    """The config's current value of each search parameter."""
    return {name: _get(config, spec.field) for name, spec in PARAMS.items()}


def trial_config(base, values: dict, num_steps: int | None = None):
    """A copy of ``base`` with a trial's parameter ``values`` (and step count) set.

    Example:
      >>> from sketchembednet.configs import demo
      >>> c = trial_config(demo.get_config("tiny"), {"alpha_max": 1.0, "alpha_interval": 2})
      >>> c.alpha.max, c.alpha.interval
      (1.0, 2)
    """
    config = base.copy_and_resolve_references()
    for name, value in values.items():
        if name in PARAMS:
            spec = PARAMS[name]
            _set(config, spec.field, int(value) if spec.integer else float(value))
    if num_steps is not None:
        config.train.num_steps = int(num_steps)
    return config


def alpha_at(step: int, values: dict) -> float:
    """α at a global step for a trial's values (``schedules.alpha`` in plain Python),
    with ``values["alpha_start"]`` the config's ``alpha.start``."""
    done = max(step - values["alpha_start_step"], 0)
    value = values["alpha_start"] + values["alpha_increment"] * (done // values["alpha_interval"])
    return float(min(values["alpha_max"], value))


def unreachable_alpha_warning(space: dict, config) -> str | None:
    """A warning if some α_max of the space can never be reached in ``train.num_steps``
    (such trials train exactly like one with a lower α_max), else None."""
    current = config_values(config)
    lo_interval = space["alpha_interval"].bounds(current["alpha_interval"])[0]
    lo_start = space["alpha_start_step"].bounds(current["alpha_start_step"])[0]
    hi_increment = space["alpha_increment"].bounds(current["alpha_increment"])[1]
    steps = int(config.train.num_steps)
    best = alpha_at(steps, dict(alpha_start=float(config.alpha.start), alpha_start_step=lo_start,
                                alpha_increment=hi_increment, alpha_interval=lo_interval,
                                alpha_max=1.0))
    highest = space["alpha_max"].bounds(current["alpha_max"])[1]
    if highest > best + 1e-9:
        return (f"α reaches at most {best:g} by train.num_steps={steps} (alpha.start="
                f"{float(config.alpha.start):g}, increment <= {hi_increment:g}, interval >= "
                f"{lo_interval}, start_step >= {lo_start}): trials with α_max above {best:g} "
                f"train like α_max={best:g}. Raise num_steps or the increment, or lower the "
                "interval.")
    return None


# ---------------------------------------------------------------- Options


@dataclasses.dataclass
class SearchOptions:
    """Everything but the training config that defines a search (the CLI's flags).

    Example:
      >>> SearchOptions(directory="/tmp/t", tuner="random").objective_name
      'fewshot_accuracy'
    """

    directory: str
    tuner: str = "random"
    max_trials: int = 10
    objective: str = "fewshot"
    space: dict = dataclasses.field(default_factory=parse_space)
    seed: int = 1
    ways: int = 20
    shots: int = 1
    episodes: int = 500
    num_query: int | None = None
    fewshot_seed: int = 0
    val_dataset: str = OMNIGLOT_HALF
    val_npz: str = ""
    val_half: int = 0
    val_split: str | None = None
    val_data_dir: str | None = None
    val_manual_dir: str | None = None
    val_max_per_class: int = 0
    pixel_split: str = ""
    hyperband_max_epochs: int = 9
    hyperband_factor: int = 3
    hyperband_iterations: int = 1
    max_consecutive_failed_trials: int = 3
    progress: bool = True
    command: str = ""

    @property
    def objective_name(self) -> str:
        return OBJECTIVES[self.objective][0]

    @property
    def direction(self) -> str:
        return OBJECTIVES[self.objective][1]

    def validate(self) -> None:
        """Raises ValueError naming the flag for an invalid setting."""
        if self.tuner not in TUNERS:
            raise ValueError(f"--tuner={self.tuner}: unknown tuner; use one of {', '.join(TUNERS)}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"--objective={self.objective}: use one of {', '.join(OBJECTIVES)}")
        if not self.directory:
            raise ValueError("--dir: a project directory is needed")
        if self.max_trials < (0 if self.tuner == "hyperband" else 1):
            raise ValueError(f"--max_trials={self.max_trials}: must be >= 1 "
                             "(hyperband: >= 0, 0 = no cap)")
        checks = [("ways", self.ways >= 2), ("shots", self.shots >= 1),
                  ("episodes", self.episodes >= 1), ("seed", self.seed >= 1),
                  ("val_half", self.val_half in (0, 1)),
                  ("val_max_per_class", self.val_max_per_class >= 0),
                  ("num_query", self.num_query is None or self.num_query >= 1),
                  ("hyperband_max_epochs", self.hyperband_max_epochs >= 1),
                  ("hyperband_factor", self.hyperband_factor >= 2),
                  ("hyperband_iterations", self.hyperband_iterations >= 1),
                  ("max_consecutive_failed_trials", self.max_consecutive_failed_trials >= 0)]
        rules = {"ways": ">= 2", "seed": ">= 1 (KerasTuner treats 0 as 'random')",
                 "val_half": "0 or 1", "hyperband_factor": ">= 2", "max_consecutive_failed_trials":
                 ">= 0", "val_max_per_class": ">= 0"}
        for name, ok in checks:
            if not ok:
                rule = rules.get(name, ">= 1")
                raise ValueError(f"--{name}={getattr(self, name)}: must be {rule}")
        if set(self.space) != set(PARAMS):
            raise ValueError(f"search space must define {sorted(PARAMS)}")
        if self.val_dataset == OMNIGLOT_HALF and self.objective == "fewshot":
            if not os.path.exists(self.val_npz_path()):
                raise ValueError(
                    f"--val_npz: {self.val_npz_path()} not found; pass --val_npz or set "
                    "SKETCHEMBEDNET_SHARED_DATA to the shared data pack (it holds "
                    "omniglot/npz_105x105/images_background.npz)")
        if self.val_dataset.startswith("omniglot_strokes/") and (
                self.val_split is None or "test" in self.val_split):
            raise ValueError(f"--val_dataset={self.val_dataset}: its test split is (or holds) "
                             "the Omniglot evaluation set, which is never used for tuning; pass "
                             "--val_split with background splits only")

    def val_npz_path(self) -> str:
        from sketchembednet.evaluation import datasets

        if self.val_npz:
            return self.val_npz
        shared = os.environ.get("SKETCHEMBEDNET_SHARED_DATA", os.path.join("..", "shared", "data"))
        return os.path.join(shared, datasets.SHARED_NPZ)

    def fingerprint(self, config) -> dict:
        """What must not change when a search resumes (paths and budgets excluded)."""
        plain = json.loads(config.to_json_best_effort())
        for key in ("data_dir", "manual_dir"):
            plain["dataset"].pop(key, None)
        for source in plain["dataset"].get("mix", []) or []:
            for key in ("data_dir", "manual_dir"):
                source.pop(key, None)
        keep = ("tuner", "objective", "seed", "ways", "shots", "episodes", "num_query",
                "fewshot_seed", "val_dataset", "val_half", "val_split", "val_max_per_class",
                "pixel_split")
        out = {k: getattr(self, k) for k in keep}
        if self.tuner == "hyperband":
            out.update(hyperband_max_epochs=self.hyperband_max_epochs,
                       hyperband_factor=self.hyperband_factor,
                       hyperband_iterations=self.hyperband_iterations)
        out["space"] = {k: v.to_json() for k, v in sorted(self.space.items())}
        out["config"] = plain
        return json.loads(json.dumps(out))


def check_config(config, options: SearchOptions) -> list[str]:
    """Checks a training config against the options; returns warnings.

    Raises:
      ValueError: for a model the α schedule does not affect, a hyperband budget
        finer than one step per epoch, or a validation set that is not disjoint
        from the training data.
    """
    kind = config.model.get("kind", "sketchembednet")
    if kind != "sketchembednet":
        raise ValueError(f"model.kind={kind}: the α schedule only affects SketchEmbedNet "
                         "(the pixel-loss weight); nothing to tune")
    steps = int(config.train.num_steps)
    if options.tuner == "hyperband" and steps < options.hyperband_max_epochs:
        raise ValueError(f"hyperband: train.num_steps={steps} is less than "
                         f"--hyperband_max_epochs={options.hyperband_max_epochs} "
                         "(one epoch must be at least one step)")
    trained = [config.dataset.name] + [s["name"] for s in (config.dataset.get("mix") or ())]
    if options.objective == "fewshot":
        from sketchembednet.evaluation import datasets

        val = datasets._ALIASES.get(options.val_dataset, options.val_dataset)
        if val in trained:
            raise ValueError(f"--val_dataset={options.val_dataset} is (a config of) the training "
                             f"dataset {trained}; tune on data no trial trains on")
        if options.val_dataset in (OMNIGLOT_HALF, "omniglot_background") and any(
                t.startswith("omniglot") for t in trained):
            raise ValueError(f"the config trains on {trained}: Omniglot validation classes "
                             "would not be disjoint from the training data")
    warnings = []
    warning = unreachable_alpha_warning(options.space, config)
    if warning:
        warnings.append(warning)
    if options.objective == "fewshot" and options.val_dataset == "omniglot_background":
        warnings.append("--val_dataset=omniglot_background is the whole background set, the "
                        "set of the README's results table: tuned numbers there would be "
                        "biased. The default omniglot_half keeps half of it apart.")
    return warnings


# ---------------------------------------------------------------- Validation data


def omniglot_half(npz_path, half: int = 0, image_size: int = 28, seed: int = VAL_SPLIT_SEED):
    """Half of the Omniglot background classes, by a seeded permutation of the classes.

    ``half=0`` is the first ``ceil(C / 2)`` classes of
    ``np.random.default_rng(seed).permutation(C)`` (482 of 964), ``half=1`` the rest;
    all 20 drawings of a class go to the same half. The search tunes on one half
    (``--val_half``, default 0); report a tuned model on the other one.

    Returns:
      ``datasets.LabelledImages`` with the original class labels (npz rows).

    Example:
      >>> data = omniglot_half("images_background.npz", half=1)  # doctest: +SKIP
      >>> data.num_classes  # doctest: +SKIP
      482
    """
    from sketchembednet.evaluation import datasets

    if half not in (0, 1):
        raise ValueError(f"half must be 0 or 1, got {half}")
    data = datasets.omniglot_background(npz_path, image_size)
    classes = np.unique(data.labels)
    order = np.random.default_rng(seed).permutation(classes)
    first = (len(classes) + 1) // 2
    chosen = np.sort(order[:first] if half == 0 else order[first:])
    keep = np.isin(data.labels, chosen)
    return datasets.LabelledImages(data.images[keep], data.labels[keep],
                                   name=f"omniglot_background half {half} (seed {seed})")


def load_validation(options: SearchOptions, image_shape: tuple):
    """The few-shot validation set of the options, at the model's image shape.

    Raises:
      ValueError: if its images cannot match ``image_shape`` or it has too few
        classes for ``--ways``-way ``--shots``-shot episodes.
    """
    from sketchembednet.evaluation import datasets
    from sketchembednet.evaluation import fewshot

    size, channels = int(image_shape[0]), int(image_shape[-1])
    if options.val_dataset == OMNIGLOT_HALF:
        if channels != 1:
            raise ValueError(f"the model takes {channels}-channel images; Omniglot is grayscale")
        data = omniglot_half(options.val_npz_path(), options.val_half, size)
    else:
        data = datasets.load(options.val_dataset, split=options.val_split,
                             data_dir=options.val_data_dir, manual_dir=options.val_manual_dir,
                             data_path=options.val_npz_path(), image_size=size, channels=channels)
    if options.val_max_per_class:
        data = datasets.select_per_class(data, options.shots + 1, options.val_max_per_class,
                                         seed=VAL_SPLIT_SEED)
    if data.image_shape != tuple(image_shape):
        raise ValueError(f"{data.name}: images {data.image_shape}, the model takes {image_shape}")
    next(fewshot.sample_episodes(data.labels, options.ways, options.shots, 1, options.num_query))
    return data


# ---------------------------------------------------------------- Objectives


class Evaluator:
    """Computes a trial's objective from its trained workdir.

    Args:
      options: the search options (objective, few-shot settings).
      val_data: the few-shot validation set (``LabelledImages``), for ``fewshot``.
      pixel_split: the split of ``val_pixel`` (default: the config's eval split).
    """

    def __init__(self, options: SearchOptions, val_data=None, pixel_split: str = ""):
        self.options = options
        self.val_data = val_data
        self.pixel_split = pixel_split

    def __call__(self, workdir: str) -> dict:
        """``{"value": objective, ...details}``."""
        if self.options.objective == "fewshot":
            return self.fewshot(workdir)
        return self.val_pixel(workdir)

    def fewshot(self, workdir: str) -> dict:
        from sketchembednet.evaluation import fewshot
        from sketchembednet.evaluation import loading

        o = self.options
        embed_fn = loading.embed_fn_from_workdir(workdir)
        if embed_fn.image_shape and embed_fn.image_shape != self.val_data.image_shape:
            raise ValueError(f"{self.val_data.name} has images {self.val_data.image_shape}; "
                             f"the model takes {embed_fn.image_shape}")
        embeddings = fewshot.compute_embeddings(embed_fn, self.val_data.images, progress=False)
        result = fewshot.evaluate_embeddings(embeddings, self.val_data.labels, o.ways, o.shots,
                                             o.episodes, o.num_query, o.fewshot_seed,
                                             progress=o.progress)
        return {"value": result["accuracy"], "ci95": result["ci95"], "fewshot": result,
                "restored": embed_fn.source}

    def val_pixel(self, workdir: str) -> dict:
        import tensorflow as tf

        from sketchembednet import trainer
        from sketchembednet.data import pipeline
        from sketchembednet.evaluation import loading

        model, config, source = loading.model_from_workdir(workdir)
        dataset = config["dataset"]
        split = self.pixel_split or dataset["eval_split"]
        ds, _ = pipeline.load(dataset["name"], split, int(dataset["max_len"]),
                              int(config["train"]["batch_size"]), **trainer.dataset_source(dataset),
                              drop_remainder=False, cache=False)

        @tf.function(reduce_retracing=True)
        def pixel(images, stroke5):  # [b]
            return model.compute_losses(tf.cast(images, tf.float32), stroke5, alpha=1.0,
                                        training=False, per_example=True)["pixel"]

        total, count = 0.0, 0
        for batch in ds:
            values = pixel(batch["image"], batch["stroke5"]).numpy()
            total += float(values.sum())
            count += len(values)
        if count == 0:
            raise ValueError(f"{dataset['name']}[{split}]: no examples for val_pixel")
        return {"value": total / count, "examples": count, "split": split, "restored": source}


# ---------------------------------------------------------------- Hyperband


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


# ---------------------------------------------------------------- The tuner


def _read_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True, default=str)
    os.replace(tmp, path)


def _space_values(values: dict) -> dict:
    return {k: values[k] for k in PARAMS if k in values}


def _check_stale_workdir(workdir: str, config) -> None:
    """Refuses to resume a trial workdir trained with another config (e.g. left over
    from a deleted search), except for the step count and data paths."""
    old = _read_json(os.path.join(workdir, "config.json"))
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


def _make_tuner_class():
    """The ``keras_tuner.Tuner`` subclass (defined lazily: keras_tuner imports TF)."""
    import keras
    import keras_tuner

    from sketchembednet import trainer

    class AlphaScheduleTuner(keras_tuner.Tuner):
        """Runs each trial through ``trainer.Trainer`` and returns its objective.

        Args:
          oracle: a KerasTuner oracle over :data:`PARAMS` (plus Hyperband's ``tuner/*``).
          base_config: the training config every trial starts from.
          options: :class:`SearchOptions`.
          evaluator: :class:`Evaluator`.
          strategy: the ``tf.distribute.Strategy`` of every trial.
          **kwargs: for ``keras_tuner.Tuner`` (``directory``, ``project_name``, ...).
        """

        def __init__(self, oracle, base_config, options, evaluator, strategy, **kwargs):
            self.base_config = base_config
            self.options = options
            self.evaluator = evaluator
            self.strategy = strategy
            self.root = options.directory
            super().__init__(oracle=oracle, overwrite=False, **kwargs)

        def trial_workdir(self, trial_id: str) -> str:
            return os.path.join(self.root, "trials", str(trial_id))

        def _duplicate_of(self, trial) -> str | None:
            """A completed trial with the same parameters (not for Hyperband budgets)."""
            if self.options.tuner == "hyperband":
                return None
            values = _space_values(trial.hyperparameters.values)
            for other in self.oracle.trials.values():
                if (other.trial_id != trial.trial_id and other.status == "COMPLETED"
                        and _space_values(other.hyperparameters.values) == values):
                    return other.trial_id
            return None

        def run_trial(self, trial, *args, **kwargs):
            del args, kwargs
            trial_id = trial.trial_id
            values = dict(trial.hyperparameters.values)
            workdir = self.trial_workdir(trial_id)
            os.makedirs(workdir, exist_ok=True)
            record = {"trial_id": trial_id, "values": values, "status": "RUNNING",
                      "objective_name": self.options.objective_name}
            logging.info("trial %s: %s", trial_id, ", ".join(
                f"{k}={_fmt(v)}" for k, v in values.items()))
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
                _write_json(os.path.join(workdir, "tune_result.json"), record)
                logging.error("trial %s failed: %s\n%s", trial_id, record["error"],
                              record["traceback"])
                raise keras_tuner.errors.FailedTrialError(record["error"]) from e
            finally:
                keras.backend.clear_session()
                gc.collect()
            record["status"] = "COMPLETED"
            _write_json(os.path.join(workdir, "tune_result.json"), record)
            logging.info("trial %s: %s = %.4f (%s steps, %.0f s)", trial_id,
                         self.options.objective_name, record["objective"],
                         record.get("steps", "no"), time.time() - start)
            return {self.options.objective_name: float(record["objective"])}

        def _copy_result(self, duplicate: str, record: dict) -> None:
            """Takes the objective of a completed trial with the same values."""
            other = _read_json(os.path.join(self.trial_workdir(duplicate),
                                            "tune_result.json")) or {}
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
            _check_stale_workdir(workdir, config)
            start = time.time()
            result = trainer.Trainer(config, workdir, self.strategy).train()
            record["train_seconds"] = time.time() - start
            record["steps"] = int(result.get("train/step", config.train.num_steps))
            start = time.time()
            evaluation = self.evaluator(workdir)
            record["eval_seconds"] = time.time() - start
            record.update(objective=float(evaluation.pop("value")), eval=evaluation)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)  # The oracle records the trial and saves.
            try:
                write_outputs(self)
            except Exception:  # Outputs are rewritten after the next trial.
                logging.exception("could not write the search summary")
            limit = self.options.max_consecutive_failed_trials
            streak = 0
            for trial_id in reversed(self.oracle.end_order):
                if self.oracle.trials[trial_id].status != "FAILED":
                    break
                streak += 1
            if limit and streak >= limit:
                record = _read_json(os.path.join(self.trial_workdir(trial.trial_id),
                                                 "tune_result.json")) or {}
                error = record.get("error") or (trial.message or "").strip()[-300:]
                raise SearchStopped(
                    f"{streak} consecutive failed trials (--max_consecutive_failed_trials="
                    f"{limit}); the last error: {error}. Fix the cause and re-run the same "
                    "command to continue the search.")

    return AlphaScheduleTuner


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


def _check_search_file(options: SearchOptions, config, write: bool = True) -> None:
    """Refuses a ``--dir`` that holds a search with other settings; with ``write``,
    records this search's settings in ``<dir>/search.json`` if none are there."""
    path = os.path.join(options.directory, "search.json")
    fingerprint = options.fingerprint(config)
    old = _read_json(path)
    if old is not None and old.get("fingerprint") != fingerprint:
        theirs = old.get("fingerprint") or {}
        keys = sorted(k for k in set(theirs) | set(fingerprint)
                      if theirs.get(k) != fingerprint.get(k))
        raise SearchMismatchError(
            f"{options.directory} holds a search with other settings ({', '.join(keys)} differ; "
            f"see {path}). Re-run with the same settings to continue it, or use another --dir.")
    if old is None and write:
        os.makedirs(options.directory, exist_ok=True)
        _write_json(path, {"fingerprint": fingerprint, "command": options.command})


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
      >>> options = SearchOptions(directory="/tmp/tune", max_trials=2,
      ...                         space=parse_space(alpha_max="0,1"))
      >>> summary = search(demo.get_config("tiny"), options)  # doctest: +SKIP
      >>> summary["best_trial"]["alpha_max"]  # doctest: +SKIP
      1.0
    """
    import tensorflow as tf

    from sketchembednet import trainer
    from sketchembednet.data import pipeline

    options.validate()
    for warning in check_config(config, options):
        logging.warning("%s", warning)
    _check_search_file(options, config, write=False)
    strategy = strategy or tf.distribute.get_strategy()
    _, info = pipeline.prepare(config.dataset.name, **trainer.dataset_source(config.dataset))
    val_data = None
    if options.objective == "fewshot":
        val_data = load_validation(options, tuple(info.image_shape))
        logging.info("validation set %s: %d images of %d classes", val_data.name,
                     len(val_data.labels), val_data.num_classes)
    evaluator = Evaluator(options, val_data, options.pixel_split)
    _check_search_file(options, config)  # Recorded once the settings proved valid.
    reloading = os.path.exists(os.path.join(options.directory, PROJECT_NAME, "tuner0.json"))
    tuner = _make_tuner_class()(
        oracle=make_oracle(options, config), base_config=config, options=options,
        evaluator=evaluator, strategy=strategy, directory=options.directory,
        project_name=PROJECT_NAME)
    if not reloading:
        tuner.save()  # So that a search killed in its first trial reloads, not restarts.
    tuner.val_description = _describe_validation(options, val_data, config)
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


def _describe_validation(options: SearchOptions, val_data, config) -> dict:
    if options.objective == "val_pixel":
        split = options.pixel_split or config.dataset.eval_split
        return {"objective": "val_pixel", "dataset": config.dataset.name, "split": split,
                "text": f"mean pixel-loss term (α = 1) on {config.dataset.name}[{split}]"}
    out = {"objective": "fewshot", "dataset": options.val_dataset, "name": val_data.name,
           "images": int(len(val_data.labels)), "classes": int(val_data.num_classes),
           "text": (f"{options.ways}-way {options.shots}-shot, {options.episodes} episodes "
                    f"(seed {options.fewshot_seed}) on {val_data.name}: "
                    f"{val_data.num_classes} classes, {len(val_data.labels)} images")}
    if options.val_dataset == OMNIGLOT_HALF:
        out.update(npz=os.path.abspath(options.val_npz_path()), half=options.val_half,
                   split_seed=VAL_SPLIT_SEED,
                   class_ids=[int(c) for c in np.unique(val_data.labels)])
    return out


# ---------------------------------------------------------------- Outputs


def collect_trials(tuner) -> list[dict]:
    """One row per trial of the oracle (all statuses), in trial order."""
    rows = []
    alpha_start = float(tuner.base_config.alpha.start)
    for trial_id in sorted(tuner.oracle.trials, key=lambda t: (len(str(t)), str(t))):
        trial = tuner.oracle.trials[trial_id]
        values = dict(trial.hyperparameters.values)
        workdir = tuner.trial_workdir(trial_id)
        record = _read_json(os.path.join(workdir, "tune_result.json")) or {}
        train = _read_json(os.path.join(workdir, "train_result.json")) or {}
        row = {"trial_id": str(trial_id), "status": str(trial.status)}
        row.update(_space_values(values))
        steps = train.get("train/step", record.get("steps"))
        row["steps"] = steps
        row["steps_run"] = train.get("total_steps_run")
        if steps is not None and all(k in values for k in PARAMS):
            row["alpha_end"] = alpha_at(int(steps), dict(values, alpha_start=alpha_start))
        row["objective"] = trial.score if trial.status == "COMPLETED" else None
        row["ci95"] = (record.get("eval") or {}).get("ci95")
        row["train_seconds"] = train.get("total_wall_seconds")
        row["eval_seconds"] = record.get("eval_seconds")
        row["wall_seconds"] = sum(v for v in (row["train_seconds"], row["eval_seconds"]) if v) \
            or record.get("seconds")
        if "tuner/epochs" in values:
            row["epochs"] = values["tuner/epochs"]
            row["continues"] = values.get("tuner/trial_id")
        row["duplicate_of"] = record.get("duplicate_of")
        error = record.get("error") if trial.status in ("FAILED", "INVALID") else None
        if error is None and trial.status in ("FAILED", "INVALID") and trial.message:
            error = trial.message.strip().splitlines()[-1]
        row["error"] = error
        row["note"] = error or record.get("note")
        row["workdir"] = workdir
        rows.append(row)
    return rows


def best_row(rows: list[dict], direction: str) -> dict | None:
    """The completed trial with the best finite objective (the first on ties).

    Hyperband rows (with ``epochs``) compete only with those of the largest budget
    completed: a short run that happens to score well says little about the schedule
    trained to the end.
    """
    done = [r for r in rows if r["status"] == "COMPLETED" and r["objective"] is not None
            and math.isfinite(r["objective"])]
    if not done:
        return None
    if any(r.get("epochs") is not None for r in done):
        largest = max(r.get("epochs") or 0 for r in done)
        done = [r for r in done if (r.get("epochs") or 0) == largest]
    sign = -1.0 if direction == "max" else 1.0
    return min(done, key=lambda r: sign * r["objective"])


def _tuple_fields(config, prefix: str = "") -> list[str]:
    """Dotted paths of the tuple-valued fields (JSON turns them into lists)."""
    out = []
    for key, value in config.items():
        path = f"{prefix}{key}"
        if hasattr(value, "items"):
            out += _tuple_fields(value, path + ".")
        elif isinstance(value, tuple):
            out.append(path)
    return out


_BEST_CONFIG = '''"""The best configuration of the α-schedule search in {root}.

Written by ``python -m sketchembednet.tune``. Trial {trial_id}: {objective_name} = {objective};
{values}.

Train it (``--config`` takes this file's path; dotted overrides work as usual):

    python -m sketchembednet.train --config={path} --workdir=runs/best_alpha
"""

import copy

import ml_collections

# The trial's resolved training config{note}.
_CONFIG = {config}

_TUPLE_FIELDS = {tuples}  # Tuples in the original config (JSON stores lists).


def get_config(arg: str = ""):
    if arg:
        raise ValueError(f"best_config.py takes no argument, got {{arg!r}}")
    fields = copy.deepcopy(_CONFIG)
    for dotted in _TUPLE_FIELDS:
        *parents, last = dotted.split(".")
        node = fields
        for key in parents:
            node = node[key]
        node[last] = tuple(node[last])
    return ml_collections.ConfigDict(fields)
'''


def write_best_config(path: str, row: dict, trained_config: dict, tuple_fields: list[str],
                      objective_name: str, root: str, num_steps: int | None = None) -> str:
    """Writes ``best_config.py`` (a ``get_config(arg="")`` config file) for a trial."""
    config = json.loads(json.dumps(trained_config))
    note = ""
    if num_steps is not None and config["train"]["num_steps"] != num_steps:
        note = (f"; train.num_steps is the full budget {num_steps} (the trial trained "
                f"{config['train']['num_steps']})")
        config["train"]["num_steps"] = int(num_steps)
    values = ", ".join(f"{k}={_fmt(row[k])}" for k in PARAMS if k in row)
    text = _BEST_CONFIG.format(
        root=os.path.abspath(root), trial_id=row["trial_id"], objective_name=objective_name,
        objective=_fmt(row["objective"]), values=values, path=path, note=note,
        config=pprint.pformat(config, indent=1, width=96, sort_dicts=True),
        tuples=repr(tuple(tuple_fields)))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def _cell(value, kind: str = "") -> str:
    if value is None:
        return "–"
    if kind == "objective":
        return f"{value:.4f}"
    if kind == "seconds":
        return f"{value / 60:.1f} min" if value >= 60 else f"{value:.0f} s"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_summary(root: str, rows: list[dict], objective_name: str, direction: str,
                  validation: dict, tuner_name: str, stopped: str | None = None,
                  command: str = "") -> dict:
    """Writes ``summary.md``, ``summary.json`` and ``objective_vs_alpha_max.png``."""
    best = best_row(rows, direction)
    hyperband = any("epochs" in r for r in rows)
    header = ["trial", "status", "α_max", "increment", "interval", "start_step", "lr",
              "α at end", objective_name, "steps", "wall time"]
    if hyperband:
        header[9:9] = ["epochs"]
    header.append("note / error")
    lines = [f"# α-schedule search ({tuner_name})", ""]
    if command:
        lines += ["```bash", command, "```", ""]
    sense = "maximised" if direction == "max" else "minimised"
    lines += [f"Objective: **{objective_name}** ({sense}); {validation.get('text', '')}.", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        objective = _cell(r["objective"], "objective")
        if r.get("ci95") is not None and r["objective"] is not None:
            objective += f" ± {r['ci95']:.4f}"
        if best is not None and r["trial_id"] == best["trial_id"]:
            objective = f"**{objective}**"
        cells = [r["trial_id"], r["status"], _cell(r.get("alpha_max")),
                 _cell(r.get("alpha_increment")), _cell(r.get("alpha_interval")),
                 _cell(r.get("alpha_start_step")), _cell(r.get("learning_rate")),
                 _cell(r.get("alpha_end")), objective, _cell(r.get("steps")),
                 _cell(r.get("wall_seconds") or None, "seconds")]
        if hyperband:
            cells[9:9] = [_cell(r.get("epochs"))]
        note = r.get("note")
        cells.append(_cell(note[:300] if note else None))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if best is not None:
        lines.append(f"Best: trial {best['trial_id']} ({objective_name} = "
                     f"{best['objective']:.4f}); config in `best_config.py`; plot in "
                     "`objective_vs_alpha_max.png`.")
        if hyperband:
            lines.append(f"(Hyperband: the best among the trials of the largest budget "
                         f"completed, {best.get('epochs')} epochs.)")
    else:
        lines.append("No trial has completed yet: no best config.")
    if stopped:
        lines += ["", f"**Search stopped:** {stopped}"]
    failed = [r for r in rows if r.get("error")]
    if failed:
        lines += ["", "## Errors", ""]
        lines += [f"- trial {r['trial_id']}: `{r['error']}` (traceback in "
                  f"`trials/{r['trial_id']}/tune_result.json`)" for r in failed]
    with open(os.path.join(root, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    summary = {"tuner": tuner_name, "objective": objective_name, "direction": direction,
               "validation": validation, "command": command, "stopped": stopped,
               "best_trial": best, "trials": rows,
               "counts": {s: sum(r["status"] == s for r in rows)
                          for s in sorted({r["status"] for r in rows})}}
    _write_json(os.path.join(root, "summary.json"), summary)
    plot_objective(os.path.join(root, "objective_vs_alpha_max.png"), rows, objective_name, best)
    return summary


def plot_objective(path: str, rows: list[dict], objective_name: str, best: dict | None) -> str:
    """Objective against α_max, one point per completed trial, the best one starred."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    done = [r for r in rows if r["objective"] is not None and r.get("alpha_max") is not None]
    if done:
        x = np.array([r["alpha_max"] for r in done], float)
        y = np.array([r["objective"] for r in done], float)
        err = np.array([r.get("ci95") or 0.0 for r in done], float)
        ax.errorbar(x, y, yerr=err if err.any() else None, fmt="o", color="tab:blue",
                    ecolor="0.6", capsize=3, label="trial")
        for r in done:
            ax.annotate(r["trial_id"], (r["alpha_max"], r["objective"]), fontsize=7,
                        xytext=(4, 3), textcoords="offset points", color="0.35")
    if best is not None:
        ax.plot([best["alpha_max"]], [best["objective"]], "*", color="tab:red", markersize=16,
                label=f"best (trial {best['trial_id']})")
    failed = sum(r["status"] in ("FAILED", "INVALID") for r in rows)
    ax.set_xlabel("α_max")
    with_ci = any(r.get("ci95") for r in done)
    ax.set_ylabel(objective_name + (" (± 95% CI)" if with_ci else ""))
    ax.set_title(f"{objective_name} vs α_max ({len(done)} trials"
                 + (f", {failed} failed" if failed else "") + ")")
    ax.set_xlim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    if done or best:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_outputs(tuner, stopped: str | None = None) -> dict:
    """Summary files and ``best_config.py`` of a tuner's current state."""
    options = tuner.options
    rows = collect_trials(tuner)
    summary = write_summary(options.directory, rows, options.objective_name, options.direction,
                            getattr(tuner, "val_description", {}), options.tuner, stopped,
                            options.command)
    best = summary["best_trial"]
    if best is not None:
        trained = _read_json(os.path.join(best["workdir"], "config.json"))
        if trained is None and best.get("duplicate_of"):
            trained = _read_json(os.path.join(tuner.trial_workdir(best["duplicate_of"]),
                                              "config.json"))
        if trained is not None:
            full = int(tuner.base_config.train.num_steps) if options.tuner == "hyperband" else None
            summary["best_config"] = write_best_config(
                os.path.join(options.directory, "best_config.py"), best, trained,
                _tuple_fields(tuner.base_config), options.objective_name, options.directory,
                num_steps=full)
    return summary


# ---------------------------------------------------------------- The CLI


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
          f"α_max = {_fmt(best.get('alpha_max'))}; train it with\n"
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
    app.run(main, argv=argv)


if __name__ == "__main__":
    run()

"""The search space of the α-schedule search: parsing the flags, trial configs, α.

Each of the five search parameters (:data:`PARAMS`) is fixed to the config's value,
fixed to a value, a ``Choice`` or a ``Float``/``Int`` range (see
``sketchembednet.tune``).
"""

from __future__ import annotations

import dataclasses
import math


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
            text = f"range {format_value(self.values[0])}..{format_value(self.values[1])}"
            return text + (f" step {format_value(self.step)}" if self.step else "") + (
                " (log)" if self.spec.log else "")
        return f"{self.kind} " + ", ".join(format_value(v) for v in self.values)

    def to_json(self) -> dict:
        return {"kind": self.kind, "values": list(self.values), "step": self.step}


def format_value(value) -> str:
    """A parameter value as the summaries and logs show it: floats with ``:g``,
    None as ``n/a``.

    Example:
      >>> format_value(0.25), format_value(3e-4), format_value(100), format_value(None)
      ('0.25', '0.0003', '100', 'n/a')
    """
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


def space_values(values: dict) -> dict:
    """The search parameters among a trial's hyperparameter ``values``, in
    :data:`PARAMS` order (KerasTuner's own ``tuner/*`` entries left out).

    Example:
      >>> space_values({"tuner/epochs": 3, "alpha_interval": 2, "alpha_max": 0.5})
      {'alpha_max': 0.5, 'alpha_interval': 2}
    """
    return {k: values[k] for k in PARAMS if k in values}


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

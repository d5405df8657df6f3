"""Outputs of a search, rewritten after every trial: ``summary.md``, ``summary.json``,
``objective_vs_alpha_max.png`` and ``best_config.py`` (a config file for ``train``)."""

from __future__ import annotations

import json
import math
import os
import pprint

import numpy as np

from sketchembednet.jsonio import read_json
from sketchembednet.jsonio import write_json
from sketchembednet.tuning.space import PARAMS
from sketchembednet.tuning.space import alpha_at
from sketchembednet.tuning.space import format_value
from sketchembednet.tuning.space import space_values


def collect_trials(tuner) -> list[dict]:
    """One row per trial of the oracle (all statuses), in trial order."""
    rows = []
    alpha_start = float(tuner.base_config.alpha.start)
    for trial_id in sorted(tuner.oracle.trials, key=lambda t: (len(str(t)), str(t))):
        trial = tuner.oracle.trials[trial_id]
        values = dict(trial.hyperparameters.values)
        workdir = tuner.trial_workdir(trial_id)
        # A corrupt file (a trial killed while writing) reads as missing here.
        record = read_json(os.path.join(workdir, "tune_result.json"), corrupt_ok=True) or {}
        train = read_json(os.path.join(workdir, "train_result.json"), corrupt_ok=True) or {}
        row = {"trial_id": str(trial_id), "status": str(trial.status)}
        row.update(space_values(values))
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


def tuple_fields(config, prefix: str = "") -> list[str]:
    """Dotted paths of the tuple-valued fields of a config (JSON turns them into
    lists; ``best_config.py`` turns them back).

    Example:
      >>> import ml_collections
      >>> tuple_fields(ml_collections.ConfigDict({"a": {"b": (1, 2), "c": 3}, "d": (4,)}))
      ['a.b', 'd']
    """
    out = []
    for key, value in config.items():
        path = f"{prefix}{key}"
        if hasattr(value, "items"):
            out += tuple_fields(value, path + ".")
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
    values = ", ".join(f"{k}={format_value(row[k])}" for k in PARAMS if k in row)
    text = _BEST_CONFIG.format(
        root=os.path.abspath(root), trial_id=row["trial_id"], objective_name=objective_name,
        objective=format_value(row["objective"]), values=values, path=path, note=note,
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
    write_json(os.path.join(root, "summary.json"), summary)
    plot_objective(os.path.join(root, "objective_vs_alpha_max.png"), rows, objective_name, best)
    return summary


def plot_objective(path: str, rows: list[dict], objective_name: str, best: dict | None) -> str:
    """Objective against α_max, one point per completed trial, the best one starred."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), dpi=120)
    ax = fig.subplots()
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
    return path


def write_outputs(tuner, stopped: str | None = None) -> dict:
    """Summary files and ``best_config.py`` of a tuner's current state."""
    options = tuner.options
    rows = collect_trials(tuner)
    summary = write_summary(options.directory, rows, options.objective_name, options.direction,
                            tuner.val_description, options.tuner, stopped,
                            options.command)
    best = summary["best_trial"]
    if best is not None:
        trained = read_json(os.path.join(best["workdir"], "config.json"), corrupt_ok=True)
        if trained is None and best.get("duplicate_of"):
            trained = read_json(os.path.join(tuner.trial_workdir(best["duplicate_of"]),
                                             "config.json"), corrupt_ok=True)
        if trained is not None:
            full = int(tuner.base_config.train.num_steps) if options.tuner == "hyperband" else None
            summary["best_config"] = write_best_config(
                os.path.join(options.directory, "best_config.py"), best, trained,
                tuple_fields(tuner.base_config), options.objective_name, options.directory,
                num_steps=full)
    return summary

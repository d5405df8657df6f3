"""Several finished α searches side by side: one table and one plot of objective vs α_max.

A single search says little about α_max when training-seed noise is as large as the
differences between trials. Re-running the same search with another
``--config.train.seed`` and comparing the two here separates the two sources of noise:
the per-trial 95% CI only covers the sampling of few-shot episodes.

Example:
  >>> a = {"objective": "fewshot_accuracy", "direction": "max", "trials": [
  ...     {"alpha_max": 0.0, "objective": 0.50, "ci95": 0.01, "status": "COMPLETED"},
  ...     {"alpha_max": 0.5, "objective": 0.60, "ci95": 0.01, "status": "COMPLETED"}]}
  >>> b = {"objective": "fewshot_accuracy", "direction": "max", "trials": [
  ...     {"alpha_max": 0.0, "objective": 0.54, "ci95": 0.01, "status": "COMPLETED"},
  ...     {"alpha_max": 0.5, "objective": 0.56, "ci95": 0.01, "status": "COMPLETED"}]}
  >>> table = alpha_table([("seed 0", a), ("seed 1", b)], mean_of=["seed 0", "seed 1"])
  >>> table["mean"]
  {0.0: 0.52, 0.5: 0.58}
  >>> print(markdown_table(table).splitlines()[2])
  | 0 | 0.5000 ± 0.0100 | 0.5400 ± 0.0100 | 0.5200 |
"""

from __future__ import annotations

import os

import numpy as np

from sketchembednet.jsonio import read_json


def load_summary(path: str) -> dict:
    """A search's ``summary.json``, given the file or the search directory.

    Raises:
      FileNotFoundError: naming the file if it does not exist.
      ValueError: naming the file if it is not a search summary.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file or directory (expected a search "
                                "directory or its summary.json)")
    if os.path.isdir(path):
        path = os.path.join(path, "summary.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no search summary (has sketchembednet.tune "
                                    "completed a trial in this directory?)")
    summary = read_json(path)  # ValueError naming the file if it is not valid JSON.
    if not isinstance(summary, dict) or not isinstance(summary.get("trials"), list) or \
            "objective" not in summary:
        raise ValueError(f"{path}: not a sketchembednet.tune summary.json (no objective/trials)")
    return summary


def alpha_table(searches: list[tuple[str, dict]], mean_of: list[str] | None = None) -> dict:
    """Objective ± CI by α_max for each ``(label, summary)``, and optionally their mean.

    Only completed trials with an α_max count. Where a search has several completed
    trials at one α_max (Hyperband budgets, a repeated value), the one trained for the
    most steps is kept, the later one on a tie.

    Args:
      searches: labelled ``summary.json`` contents, all with the same objective.
      mean_of: labels whose objectives are averaged per α_max (only α_max values that all
        of them have); ``None`` for no mean.

    Returns:
      dict: ``objective``, ``direction``, ``labels``, ``alphas`` (sorted), ``cells``
      (``{label: {alpha: (objective, ci95 or None)}}``), ``mean`` (``{alpha: mean}`` or
      ``None``) and ``mean_of``.

    Raises:
      ValueError: for no searches, duplicate labels, mixed objectives or unknown
        ``mean_of`` labels.
    """
    if not searches:
        raise ValueError("no searches to compare")
    labels = [label for label, _ in searches]
    if len(set(labels)) != len(labels):
        raise ValueError(f"duplicate search labels: {labels}")
    objectives = {s["objective"] for _, s in searches}
    if len(objectives) != 1:
        raise ValueError(f"the searches have different objectives {sorted(objectives)}")
    cells = {}
    for label, summary in searches:
        done = [t for t in summary["trials"] if t.get("status") == "COMPLETED"
                and t.get("objective") is not None and t.get("alpha_max") is not None]
        done.sort(key=lambda t: t.get("steps") or 0)  # Stable: the later trial wins ties.
        cells[label] = {float(t["alpha_max"]): (float(t["objective"]), t.get("ci95"))
                        for t in done}
    alphas = sorted({a for by_alpha in cells.values() for a in by_alpha})
    mean = None
    if mean_of:
        unknown = set(mean_of) - set(labels)
        if unknown:
            raise ValueError(f"--mean_of labels {sorted(unknown)} are not among {labels}")
        common = [a for a in alphas if all(a in cells[label] for label in mean_of)]
        mean = {a: round(float(np.mean([cells[label][a][0] for label in mean_of])), 10)
                for a in common}
    return {"objective": objectives.pop(), "direction": searches[0][1].get("direction", "max"),
            "labels": labels, "alphas": alphas, "cells": cells, "mean": mean,
            "mean_of": list(mean_of or ())}


def _fmt_alpha(alpha: float) -> str:
    return f"{alpha:g}"


def markdown_table(table: dict) -> str:
    """The :func:`alpha_table` as Markdown: one row per α_max, one column per search."""
    header = ["α_max"] + table["labels"] + (["mean"] if table["mean"] is not None else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for alpha in table["alphas"]:
        row = [_fmt_alpha(alpha)]
        for label in table["labels"]:
            value = table["cells"][label].get(alpha)
            if value is None:
                row.append("–")
            else:
                row.append(f"{value[0]:.4f}" + (f" ± {value[1]:.4f}" if value[1] else ""))
        if table["mean"] is not None:
            mean = table["mean"].get(alpha)
            row.append("–" if mean is None else f"{mean:.4f}")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot_table(path: str, table: dict, title: str | None = None) -> str:
    """Objective against α_max: one series per search (± CI), the mean as a black line."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), dpi=120)
    ax = fig.subplots()
    n = len(table["labels"])
    for i, label in enumerate(table["labels"]):
        by_alpha = table["cells"][label]
        x = np.array(sorted(by_alpha), float)
        y = np.array([by_alpha[a][0] for a in x], float)
        err = np.array([by_alpha[a][1] or 0.0 for a in x], float)
        shift = (i - (n - 1) / 2) * 0.012  # Side by side, so the error bars stay readable.
        ax.errorbar(x + shift, y, yerr=err if err.any() else None, fmt="o-", capsize=3,
                    alpha=0.85, linewidth=1, label=label)
    if table["mean"]:
        x = np.array(sorted(table["mean"]), float)
        ax.plot(x, [table["mean"][a] for a in x], "k--", linewidth=2,
                label="mean of " + ", ".join(table["mean_of"]))
    ax.set_xlabel("α_max")
    ax.set_ylabel(table["objective"] + " (± 95% CI of the episodes)")
    ax.set_title(title or f"{table['objective']} vs α_max")
    ax.set_xlim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path

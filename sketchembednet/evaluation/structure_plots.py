"""Figures of the emergent-structure experiments (PNG files, matplotlib's object API).

* :func:`plot_categorical`: a 2-D projection of the embeddings coloured by label,
  with numbered example composites below (``umap_<set>.png``);
* :func:`plot_continuous`: one panel per continuous variable (distance, angle, size);
* :func:`plot_arithmetic`: per equation ``a - b + c``, an input of each operand,
  the decoding of each operand's mean embedding and the decoded results.

Figures are ``matplotlib.figure.Figure`` objects saved directly: no pyplot, no
backend selection, nothing global.

Example:
  >>> import os, tempfile
  >>> xy = np.array([[0., 0.], [1., 1.], [0., 1.], [1., 0.]])
  >>> images = np.full([4, 28, 28, 1], 255, np.uint8)
  >>> path = os.path.join(tempfile.mkdtemp(), "umap.png")
  >>> plot_categorical(path, xy, ["1", "2", "1", "2"], images, "example") == path
  True
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from sketchembednet import visualize


def _label_order(labels: Iterable[str]) -> list[str]:
    """Distinct labels, shortest first (so "2" < "10"), then alphabetically."""
    return sorted(set(labels), key=lambda s: (len(s), s))


def _thumbnail_indices(labels: Sequence | None, n: int, per_label: int = 2,
                       max_thumbs: int = 8) -> list[int]:
    if labels is None:
        return list(range(min(max_thumbs, n)))
    picked = []
    for value in _label_order(labels):
        picked += [i for i, l in enumerate(labels) if l == value][:per_label]
    return picked[:max_thumbs]


def _draw_thumbnails(fig, spec, images, indices, captions):
    sub = spec.subgridspec(1, max(len(indices), 1), wspace=0.15)
    for k, (i, caption) in enumerate(zip(indices, captions)):
        ax = fig.add_subplot(sub[0, k])
        ax.imshow(np.asarray(images[i])[..., 0], cmap="gray", vmin=0, vmax=255)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"#{k + 1}\n{caption}", fontsize=7)


def _mark(ax, xy, indices):
    for k, i in enumerate(indices):
        ax.scatter(*xy[i], s=60, facecolors="none", edgecolors="black", linewidths=1.2)
        ax.annotate(f"#{k + 1}", xy[i], xytext=(4, 4), textcoords="offset points", fontsize=8,
                    fontweight="bold")


def _save(fig: Figure, path) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return str(path)


def plot_categorical(path, xy: np.ndarray, labels: Sequence[str], images: np.ndarray,
                     title: str, method: str = "umap") -> str:
    """Scatter of a 2-D projection coloured by label, with example composites below.

    The examples (2 per label) are numbered and circled in the scatter.
    Returns ``str(path)`` (module docstring has an example).
    """
    labels = [str(l) for l in labels]
    names = _label_order(labels)
    colors = matplotlib.colormaps["tab10"]
    fig = Figure(figsize=(7.5, 8))
    spec = fig.add_gridspec(2, 1, height_ratios=[5, 1.3], hspace=0.25)
    ax = fig.add_subplot(spec[0])
    labels_arr = np.asarray(labels)
    for k, name in enumerate(names):
        rows = labels_arr == name
        ax.scatter(xy[rows, 0], xy[rows, 1], s=10, color=colors(k % 10), label=name, alpha=0.8)
    thumbs = _thumbnail_indices(labels, len(labels), per_label=max(1, 8 // len(names)))
    _mark(ax, xy, thumbs)
    ax.legend(title="label", fontsize=8, markerscale=1.5, loc="best")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"{method.upper()} 1")
    ax.set_ylabel(f"{method.upper()} 2")
    _draw_thumbnails(fig, spec[1], images, thumbs, [labels[i] for i in thumbs])
    return _save(fig, path)


def plot_continuous(path, xy: np.ndarray, variables: Mapping[str, Sequence], images: np.ndarray,
                    title: str, method: str = "umap") -> str:
    """One scatter panel per variable (with a colour bar), example composites below.

    A variable named ``angle`` uses a cyclic colour map.

    Example:
      >>> plot_continuous("spatial.png", xy, {"size": sizes}, images, "t")  # doctest: +SKIP
      'spatial.png'
    """
    names = list(variables)
    fig = Figure(figsize=(5.0 * len(names), 6.2))
    spec = fig.add_gridspec(2, 1, height_ratios=[3.6, 1.3], hspace=0.6)
    top = spec[0].subgridspec(1, len(names), wspace=0.45)
    thumbs = _thumbnail_indices(None, len(xy), max_thumbs=10)
    for k, name in enumerate(names):
        ax = fig.add_subplot(top[0, k])
        values = np.asarray(variables[name], np.float64)
        cmap = "twilight" if name == "angle" else "viridis"
        points = ax.scatter(xy[:, 0], xy[:, 1], c=values, s=6, cmap=cmap)
        fig.colorbar(points, ax=ax, label=name + (" (rad)" if name == "angle" else ""))
        _mark(ax, xy, thumbs)
        ax.set_title(f"coloured by {name}", fontsize=9)
        ax.set_xlabel(f"{method.upper()} 1")
        ax.set_ylabel(f"{method.upper()} 2")
    fig.suptitle(title, fontsize=10)
    captions = ["\n".join(f"{n}={variables[n][i]:.2f}" for n in names) for i in thumbs]
    _draw_thumbnails(fig, spec[1], images, thumbs, captions)
    return _save(fig, path)


def plot_arithmetic(path, rows: Sequence[Mapping]) -> str:
    """Rows = equations ``a - b + c``: an input example of each operand, the decoding of
    each operand's mean embedding, then the decoded results.

    Each row is a dict with ``operands`` (3 names), ``inputs`` (3 images),
    ``operand_sketches`` (3 stroke-5) and ``results`` (list of ``(caption, stroke-5)``).

    Example:
      >>> plot_arithmetic("arithmetic.png", rows)  # doctest: +SKIP
      'arithmetic.png'
    """
    n_cols = 6 + max(len(r["results"]) for r in rows)
    fig = Figure(figsize=(1.5 * n_cols, 2.1 * len(rows)))
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    signs = ("", "\u2212 ", "+ ")
    for r, row in enumerate(rows):
        for k in range(3):
            ax = axes[r, k]
            ax.imshow(np.asarray(row["inputs"][k])[..., 0], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{signs[k]}{row['operands'][k]}\n(input example)", fontsize=7)
            visualize.plot_stroke5(axes[r, 3 + k], row["operand_sketches"][k])
            axes[r, 3 + k].set_title(f"{signs[k]}{row['operands'][k]}\n(decoded mean z)",
                                     fontsize=7)
        equation = " ".join(f"{s}{o}" for s, o in zip(signs, row["operands"]))
        for k, (caption, sketch) in enumerate(row["results"]):
            ax = axes[r, 6 + k]
            visualize.plot_stroke5(ax, sketch, color="tab:red")
            ax.set_title(f"= {equation}\n{caption}" if k == 0 else caption, fontsize=7,
                         color="tab:red")
        for k in range(6 + len(row["results"]), n_cols):
            axes[r, k].axis("off")
    fig.suptitle("Embedding arithmetic z(a) \u2212 z(b) + z(c) of class-mean embeddings: "
                 "inputs, decoded operands, decoded results (red)", fontsize=9)
    fig.tight_layout(pad=0.4, h_pad=1.2)
    return _save(fig, path)

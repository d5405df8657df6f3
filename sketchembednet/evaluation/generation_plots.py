"""Figures of the generation experiments (PNG files, matplotlib's object API).

* :func:`save_pairs`: a grid of cells ``[image | sketch]`` (sample grids and the
  recognisability examples);
* :func:`plot_one_shot`: one row per class, one example image then its samples.

Figures are ``matplotlib.figure.Figure`` objects saved directly: no pyplot, no
backend selection, nothing global. Each function returns the PNG's layout
(``file``: its base name, ``panels``: the axes drawn, ...).

Example:
  >>> import os, tempfile
  >>> images = np.full([2, 28, 28, 1], 255, np.uint8)
  >>> path = os.path.join(tempfile.mkdtemp(), "pairs.png")
  >>> save_pairs(path, images, images, ["a", "b"], ["a", "b"], "title")
  {'file': 'pairs.png', 'panels': 4, 'cells': 2, 'rows': 1, 'columns': 2}
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure

from sketchembednet import visualize


def image_panel(ax, image, title=None, color="black"):
    """Shows a uint8 image ``[S, S, C]`` on ``ax`` without ticks, with an optional title."""
    ax.imshow(np.asarray(image).squeeze(), cmap="gray" if image.shape[-1] == 1 else None,
              vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7, color=color)


def save_figure(fig: Figure, path) -> dict:
    """Writes the PNG; returns its file name and the number of panels shown."""
    panels = sum(1 for ax in fig.axes if ax.axison)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.95))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    return {"file": os.path.basename(path), "panels": panels}


def save_pairs(path, lefts, rights, left_titles, right_titles, title: str, columns: int = 6,
               right_colors=None) -> dict:
    """A PNG grid of cells ``[image | sketch]``; a right item is a stroke-5 or an image.

    Returns:
      ``{"file", "panels", "cells", "rows", "columns"}`` (panels = axes drawn).
    """
    n = len(lefts)
    columns = max(1, min(columns, n))
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(2.2 * columns, 1.3 * rows + 0.5))
    axes = fig.subplots(rows, 2 * columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, columns)
        ax_left, ax_right = axes[r, 2 * c], axes[r, 2 * c + 1]
        ax_left.axis("on")
        image_panel(ax_left, lefts[i], left_titles[i])
        ax_right.axis("on")
        right = np.asarray(rights[i])
        color = right_colors[i] if right_colors is not None else "black"
        if right.ndim == 2 and right.shape[-1] == 5:
            visualize.plot_stroke5(ax_right, right)
            ax_right.set_title(right_titles[i], fontsize=7, color=color)
        else:
            image_panel(ax_right, right, right_titles[i], color)
    fig.suptitle(title, fontsize=9)
    return dict(save_figure(fig, path), cells=n, rows=rows, columns=columns)


def plot_one_shot(path, examples, row_names, sketches, title: str) -> dict:
    """One row per example: the example image, then its sketches.

    Args:
      path: the PNG.
      examples: uint8 images ``[rows, S, S, C]``.
      row_names: the label of each row (its class).
      sketches: stroke-5 ``[rows * K, T + 1, 5]``, the K sketches of each row in turn.
      title: the figure's title.

    Returns:
      ``{"file", "panels"}`` (panels = axes drawn).

    Example:
      >>> plot_one_shot("one_shot.png", images, ["cat"], s5, "cat")  # doctest: +SKIP
      {'file': 'one_shot.png', 'panels': 9}
    """
    rows = len(examples)
    samples = len(sketches) // max(rows, 1)
    fig = Figure(figsize=(1.2 * (samples + 1) + 0.6, 1.25 * rows + 0.5))
    axes = fig.subplots(rows, samples + 1, squeeze=False)
    for r in range(rows):
        image_panel(axes[r, 0], examples[r], "example" if r == 0 else None)
        axes[r, 0].set_ylabel(row_names[r], fontsize=7)
        for k in range(samples):
            visualize.plot_stroke5(axes[r, k + 1], sketches[r * samples + k])
            if r == 0:
                axes[r, k + 1].set_title(f"sample {k + 1}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)

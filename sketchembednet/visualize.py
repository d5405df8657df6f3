"""Pictures: sketch grids of input images beside strokes.

Figures are drawn with matplotlib's object-oriented API (``matplotlib.figure.Figure``),
which needs no backend: importing this module leaves a notebook's backend alone.

Example:
  >>> import numpy as np
  >>> from sketchembednet.data import strokes
  >>> s5 = strokes.stroke3_to_stroke5(np.array([[5, 0, 0], [0, 5, 1]]), 4)
  >>> path = save_sketch_grid("/tmp/grid.png", [np.full((28, 28, 1), 255, np.uint8)], [s5])
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from sketchembednet.data import strokes


def plot_stroke5(ax, stroke5, color: str = "black", linewidth: float = 1.5) -> None:
    """Draws one stroke-5 sketch (start token in row 0) on a matplotlib axis.

    Pen-up moves are not drawn and the sketch ends at its first end token. The
    y axis points down, as in the images.
    """
    stroke3 = strokes.stroke5_to_stroke3(np.asarray(stroke5))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    ax.invert_yaxis()
    for spine in ax.spines.values():
        spine.set_color("0.85")
    if len(stroke3) == 0:
        return
    for line in strokes.stroke3_to_polylines(stroke3):
        ax.plot(line[:, 0], line[:, 1], color=color, linewidth=linewidth, solid_capstyle="round")


def save_sketch_grid(
    path: str | os.PathLike,
    images: Sequence[np.ndarray],
    sketches: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    columns: int = 8,
    sketch_label: str = "strokes",
) -> str:
    """Writes a PNG grid: each cell shows an input image and a stroke-5 sketch.

    Args:
      path: output ``.png`` file (parent folders are created).
      images: uint8 ``[S, S, C]`` images (white background).
      sketches: stroke-5 ``[N, 5]`` arrays, one per image (ground truth or samples).
      titles: optional caption per cell.
      columns: cells per row.
      sketch_label: caption of the sketch panels in the first row.

    Returns:
      The path written, as a string.
    """
    n = len(images)
    if n != len(sketches):
        raise ValueError(f"got {n} images but {len(sketches)} sketches")
    rows = max(1, -(-n // columns))
    fig = Figure(figsize=(2 * columns * 1.1, rows * 1.25))
    axes = fig.subplots(rows, 2 * columns, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (image, sketch) in enumerate(zip(images, sketches)):
        r, c = divmod(i, columns)
        ax_img, ax_sk = axes[r, 2 * c], axes[r, 2 * c + 1]
        ax_img.imshow(np.asarray(image).squeeze(), cmap="gray", vmin=0, vmax=255)
        ax_img.axis("on")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_sk.axis("on")
        plot_stroke5(ax_sk, sketch)
        if titles is not None:
            ax_img.set_title(titles[i], fontsize=7)
        if r == 0:
            ax_sk.set_title(sketch_label, fontsize=7)
    fig.tight_layout(pad=0.3)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    return str(path)

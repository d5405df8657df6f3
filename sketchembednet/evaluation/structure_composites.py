"""Composites of real drawings on a unit canvas, and their fixed-frame rendering.

The emergent-structure experiments (:mod:`sketchembednet.evaluation.structure`)
embed sketches made of several real drawings. **Composites are built at the
stroke level**, not by pasting resized images as the original code did (14 x 14
shapes in halves / quadrants of a 28 x 28 canvas): each drawing's absolute points
are scaled (aspect kept) and centred into a target box of the unit canvas
``[0, 1]^2`` (x right, y down), and the parts are joined into one stroke-3 whose
parts are separated by pen-up moves (:class:`Composite`).

**Rendering uses a fixed frame.** ``rasterize.render_image`` (the renderer of the
TFDS builders' ``image`` feature) fits every sketch's own bounding box to the
canvas, which would normalise placement, size and distance away (a shape in the
top-left quadrant would fill the canvas). :func:`render_composites` therefore runs
the same pipeline (``stroke5_to_points`` -> ``rasterize.rasterize`` ->
``round(255 (1 - intensity))``, white background, black ink, uint8) with an explicit
transform: the unit canvas maps to the box that ``render_image`` fills, i.e. the
canvas minus ``default_padding(S)`` (``[2.5, 24.5]`` pixels at S = 28). A drawing
fitted to the whole unit canvas is thus rendered exactly like a training input
(tests check this), and smaller parts are smaller on the canvas. Unlike resized
images, line width stays that of the training images.

Example:
  >>> square = strokes.polylines_to_stroke3([[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]])
  >>> c = compose([square, square], [(0, 0, 0.5, 0.5), (0.5, 0.5, 1, 1)], label="2")
  >>> c.num_parts, c.stroke3().shape, c.stroke3()[:, 2].tolist()
  (2, (9, 3), [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0])
  >>> render_composites([c], (28, 28, 1)).shape
  (1, 28, 28, 1)
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from sketchembednet.data import rasterize, strokes

Box = tuple  # (x0, y0, x1, y1) on the unit canvas, x right, y down.
UNIT_BOX: Box = (0.0, 0.0, 1.0, 1.0)


def fit_to_box(polylines: Sequence[np.ndarray], box: Box) -> list[np.ndarray]:
    """Scales (aspect ratio kept) and centres polylines into ``box = (x0, y0, x1, y1)``.

    The longer side of the drawing's bounding box fills the box's matching side
    (or the box's limiting side); a drawing with no extent goes to the box centre.

    Example:
      >>> [line.tolist() for line in fit_to_box([np.array([[0., 0.], [4., 2.]])], (0, 0, 1, 1))]
      [[[0.0, 0.25], [1.0, 0.75]]]
    """
    points = np.concatenate([np.asarray(line, np.float64) for line in polylines])  # [P, 2]
    lo, hi = points.min(axis=0), points.max(axis=0)
    extent = hi - lo  # [2]
    x0, y0, x1, y1 = (float(v) for v in box)
    size = np.array([x1 - x0, y1 - y0])
    with np.errstate(divide="ignore"):
        ratios = np.where(extent > 1e-9, size / np.maximum(extent, 1e-300), np.inf)
    scale = float(ratios.min()) if np.isfinite(ratios).any() else 1.0
    centre_in, centre_out = (lo + hi) / 2.0, np.array([x0 + x1, y0 + y1]) / 2.0
    return [(np.asarray(line, np.float64) - centre_in) * scale + centre_out for line in polylines]


@dataclasses.dataclass
class Composite:
    """Several drawings joined into one sketch on the unit canvas.

    Attributes:
      polylines: absolute strokes ``[n_i, 2]`` on the unit canvas, part after part.
      part_sizes: the number of strokes of each part.
      boxes: the target box ``(x0, y0, x1, y1)`` of each part.
      classes: the class of each part.
      label: the categorical label of the composite (None for continuous sets).
      targets: the continuous (or numeric) variables of the composite.
    """

    polylines: list
    part_sizes: tuple
    boxes: tuple
    classes: tuple = ()
    label: str | None = None
    targets: dict = dataclasses.field(default_factory=dict)

    @property
    def num_parts(self) -> int:
        return len(self.part_sizes)

    @property
    def origin(self) -> np.ndarray:
        """The absolute first point ``[2]`` (stroke-3 is relative to it)."""
        return np.asarray(self.polylines[0][0], np.float64)

    def part(self, i: int) -> list[np.ndarray]:
        """The strokes of part ``i``."""
        start = sum(self.part_sizes[:i])
        return self.polylines[start : start + self.part_sizes[i]]

    def stroke3(self) -> np.ndarray:
        """The composite as one stroke-3 ``[L, 3]``; parts are joined by pen-up moves.

        The last point of every stroke, hence of every part, has ``pen_lifted = 1``.
        """
        return strokes.polylines_to_stroke3(self.polylines)


def compose(drawings: Sequence, boxes: Sequence[Box], classes: Sequence[str] = (),
            label: str | None = None, targets: Mapping | None = None) -> Composite:
    """Fits each stroke-3 drawing into its box and joins them (see :class:`Composite`).

    Example:
      >>> line = np.array([[10., 0., 1.]])
      >>> c = compose([line, line], [(0, 0, .5, .5), (.5, .5, 1, 1)])
      >>> [p.round(2).tolist() for p in c.polylines]
      [[[0.0, 0.25], [0.5, 0.25]], [[0.5, 0.75], [1.0, 0.75]]]
    """
    if len(drawings) != len(boxes) or not drawings:
        raise ValueError(f"compose: got {len(drawings)} drawings and {len(boxes)} boxes")
    polylines, sizes = [], []
    for drawing, box in zip(drawings, boxes):
        fitted = fit_to_box(strokes.stroke3_to_polylines(drawing), box)
        polylines.extend(fitted)
        sizes.append(len(fitted))
    return Composite(polylines, tuple(sizes), tuple(tuple(float(v) for v in b) for b in boxes),
                     tuple(classes), label, dict(targets or {}))


def frame_transform(canvas_size: int, padding: int | None = None) -> tuple[float, float]:
    """``(scale, offset)`` mapping the unit canvas to pixels: ``pixel = unit * scale + offset``.

    The unit canvas fills the region ``render_image`` fits a sketch's bounding box
    to: side ``S - padding``, centred at ``(S - 1) / 2``.

    Example:
      >>> scale, offset = frame_transform(28)
      >>> offset, scale + offset
      (2.5, 24.5)
    """
    pad = rasterize.default_padding(canvas_size) if padding is None else padding
    scale = float(canvas_size - pad)
    return scale, (canvas_size - 1) / 2.0 - scale / 2.0


def render_composites(composites: Sequence[Composite], image_shape=(28, 28, 1),
                      batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """Renders composites with the FIXED unit-canvas frame (module docstring).

    Args:
      composites: the composites.
      image_shape: ``(S, S, C)``; the grey image is repeated over C channels.
      batch_size: composites per rasterizer call.
      progress: show a progress bar.

    Returns:
      uint8 ``[n, S, S, C]``, white background (255), black ink.

    Example:
      >>> left = compose([np.array([[0., 10., 1.]])], [(0, 0, 0.5, 1)])
      >>> image = render_composites([left])[0, :, :, 0]
      >>> bool((image[:, :14] < 128).any()), bool((image[:, 14:] < 128).any())
      (True, False)
    """
    size, channels = int(image_shape[0]), int(image_shape[-1])
    scale, offset = frame_transform(size)
    out = np.empty((len(composites), size, size, channels), np.uint8)
    starts = range(0, len(composites), batch_size)
    for start in tqdm(starts, desc="render", disable=not progress, leave=False):
        batch = composites[start : start + batch_size]
        s3 = [c.stroke3() for c in batch]
        max_len = -(-max(len(s) for s in s3) // 32) * 32  # fewer retraces
        s5 = np.stack([strokes.stroke3_to_stroke5(s, max_len) for s in s3])  # [B, T+1, 5]
        points, segment_mask, _ = rasterize.stroke5_to_points(tf.constant(s5))  # [B, T+1, 2]
        origins = np.stack([c.origin for c in batch])[:, None, :].astype(np.float32)  # [B, 1, 2]
        pixels = (points + origins) * scale + offset  # [B, T+1, 2]
        intensity = rasterize.rasterize(pixels, segment_mask, size)  # [B, S, S, 1]
        image = tf.cast(tf.round(255.0 * (1.0 - intensity)), tf.uint8).numpy()
        out[start : start + len(batch)] = np.repeat(image, channels, axis=-1)
    return out


def render_drawings(drawings: Sequence, image_shape=(28, 28, 1), batch_size: int = 64,
                    progress: bool = False) -> np.ndarray:
    """Model inputs of single stroke-3 drawings (each fitted to the whole frame).

    Identical (up to float rounding) to ``rasterize.render_image``, the training inputs.

    Example:
      >>> line = np.array([[10., 0., 0.], [0., 10., 1.]])
      >>> render_drawings([line, line]).shape
      (2, 28, 28, 1)
    """
    composites = [compose([d], [UNIT_BOX]) for d in drawings]
    return render_composites(composites, image_shape, batch_size, progress)

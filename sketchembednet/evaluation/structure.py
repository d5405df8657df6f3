"""Emergent structure of the embedding space (Wang et al. 2021, Sec. 6, Figs. 5-7).

Composites of real Quick, Draw! drawings that vary one conceptual factor are
embedded with the model (the encoder mean ``mu``), projected to 2-D with UMAP and
read out with linear models:

1. **numerosity**: 1-4 copies (different drawings) of one class in random,
   non-overlapping cells of a 2 x 2 grid; label = the count.
2. **placement**: one shape in one of the 4 quadrants (or 2 halves); label = position.
3. **containment**: A inside B, B inside A, or side by side; label = the relation.
4. **spatial**: two shapes with a continuous distance, angle and size; targets.
5. **arithmetic**: ``z(snowman) - z(circle) + z(square)`` and
   ``z(television) - z(square) + z(circle)`` from class-mean embeddings, decoded by
   the model's sampler and compared (cosine) with the classes' mean embeddings.

Readouts (reference notes): logistic regression for the categorical labels (100
train / 200 test composites) and ridge regression for the continuous variables
(100 train / 2000 test), on L2-normalised ``mu``, with the same readouts on raw
pixels as a reference. The classifier is the few-shot protocol's
``LogisticRegression(lbfgs, C=1)`` (``fewshot.logistic_regression``); the regressor
is ridge with its penalty chosen on the training split by leave-one-out
(``RidgeCV``), so that embeddings and pixels, of very different dimension, each get
a suitable penalty. The original also used an ``MLPRegressor``; it is not run here.

**Composites are built at the stroke level**, not by pasting resized images as
the original code did (14 x 14 shapes in halves / quadrants of a 28 x 28 canvas):
each drawing's absolute points are scaled (aspect kept) and centred into a target
box of the unit canvas ``[0, 1]^2`` (x right, y down), and the parts are joined
into one stroke-3 whose parts are separated by pen-up moves (:class:`Composite`).

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
import logging
import math
import os
import pathlib
from typing import Callable, Iterable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from sketchembednet import visualize  # noqa: E402
from sketchembednet.data import quickdraw, rasterize, strokes  # noqa: E402
from sketchembednet.evaluation import fewshot  # noqa: E402

logger = logging.getLogger(__name__)

Box = tuple  # (x0, y0, x1, y1) on the unit canvas, x right, y down.
UNIT_BOX: Box = (0.0, 0.0, 1.0, 1.0)
QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right")
HALVES = ("left", "right", "top", "bottom")
SIDE_BY_SIDE = "side by side"
DEFAULT_EQUATIONS = (("snowman", "circle", "square"), ("television", "square", "circle"))
DEFAULT_PLACEMENT_CLASSES = ("circle", "square", "triangle", "hexagon", "octagon", "star")
# Composites per set: categorical 100 train + 200 test, continuous 100 + 2000 (notes).
CATEGORICAL_SPLIT = (100, 200)
CONTINUOUS_SPLIT = (100, 2000)


# ----------------------------------------------------------------------------- data
def load_quickdraw_folder(folder, classes: Iterable[str] | None,
                          max_per_class: int | None = None,
                          recognized_only: bool = False) -> dict[str, list[np.ndarray]]:
    """Real drawings from a folder of Google "simplified" ndjson files ``<class>.ndjson``.

    Args:
      folder: the folder (e.g. ``$SKETCHEMBEDNET_SHARED_DATA/quickdraw/simplified_345cls_25each``).
      classes: class names (file names without ``.ndjson``); None: every file, sorted.
      max_per_class: keep at most this many drawings per class (in file order).
      recognized_only: keep only drawings the game recognised.

    Returns:
      ``{class: [stroke-3 float32 [L, 3], ...]}`` in the order of ``classes``;
      drawings of fewer than two points are skipped.

    Raises:
      FileNotFoundError: naming the folder and every class without a file.
      ValueError: if a class has no usable drawing.

    Example:
      >>> load_quickdraw_folder("/nonexistent", ["circle"])  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      FileNotFoundError: /nonexistent: no Quickdraw file for class 'circle' (expected ...)
    """
    folder = pathlib.Path(folder)
    if classes is None:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not a folder of Quickdraw <class>.ndjson files")
        classes = sorted(p.name[: -len(".ndjson")] for p in folder.glob("*.ndjson"))
    classes = list(classes)
    missing = [c for c in classes if not (folder / f"{c}.ndjson").is_file()]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        plural = "es" if len(missing) > 1 else ""
        raise FileNotFoundError(
            f"{folder}: no Quickdraw file for class{plural} {names} "
            f"(expected {folder / (missing[0] + '.ndjson')})"
        )
    out = {}
    for name in classes:
        kept = []
        for drawing in quickdraw.read_simplified_ndjson(folder / f"{name}.ndjson"):
            if drawing.stroke3 is None or (recognized_only and not drawing.recognized):
                continue
            kept.append(drawing.stroke3)
            if max_per_class is not None and len(kept) >= max_per_class:
                break
        if not kept:
            raise ValueError(f"{folder / (name + '.ndjson')}: no usable drawing")
        out[name] = kept
    return out


# ------------------------------------------------------------------------ composites
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
    """
    composites = [compose([d], [UNIT_BOX]) for d in drawings]
    return render_composites(composites, image_shape, batch_size, progress)


# ----------------------------------------------------------------------- set builders
def _pick(rng: np.random.Generator, drawings: Sequence, k: int) -> list:
    """``k`` different drawings (repeats only when there are fewer than k)."""
    idx = rng.choice(len(drawings), size=k, replace=len(drawings) < k)
    return [drawings[i] for i in idx]


def _box_in_cell(rng, cell: Box, fill=(0.6, 0.9)) -> Box:
    """A random square box of side ``U(fill) * cell side`` placed at random inside ``cell``."""
    x0, y0, x1, y1 = cell
    side = rng.uniform(*fill) * min(x1 - x0, y1 - y0)
    bx = rng.uniform(x0, x1 - side)
    by = rng.uniform(y0, y1 - side)
    return (bx, by, bx + side, by + side)


def grid_cells(grid: int) -> list[Box]:
    """The ``grid x grid`` cells of the unit canvas, row by row.

    Example:
      >>> grid_cells(2)
      [(0.0, 0.0, 0.5, 0.5), (0.5, 0.0, 1.0, 0.5), (0.0, 0.5, 0.5, 1.0), (0.5, 0.5, 1.0, 1.0)]
    """
    step = 1.0 / grid
    return [(c * step, r * step, (c + 1) * step, (r + 1) * step)
            for r in range(grid) for c in range(grid)]


def _balanced(rng, labels: Sequence, n: int) -> list:
    """``n`` labels, each of ``labels`` equally often (up to one), in random order."""
    return [labels[i] for i in rng.permutation(np.arange(n) % len(labels))]


def numerosity_set(drawings: Sequence, class_name: str, n: int, rng: np.random.Generator,
                   max_count: int = 4, grid: int = 2) -> list[Composite]:
    """1..``max_count`` different drawings of one class in distinct random grid cells.

    Each part's box is a random square of 60-90 % of its cell, so parts never overlap.
    Label: the count as a string; ``targets["count"]`` the number.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> c = numerosity_set([np.array([[5., 5., 1.]])] * 4, "line", 8, rng)
      >>> sorted(x.label for x in c), c[0].num_parts == int(c[0].label)
      (['1', '1', '2', '2', '3', '3', '4', '4'], True)
    """
    cells = grid_cells(grid)
    if max_count > len(cells):
        raise ValueError(f"numerosity: max_count={max_count} > {len(cells)} grid cells")
    out = []
    for count in _balanced(rng, list(range(1, max_count + 1)), n):
        chosen = rng.choice(len(cells), size=count, replace=False)
        boxes = [_box_in_cell(rng, cells[i]) for i in chosen]
        out.append(compose(_pick(rng, drawings, count), boxes, (class_name,) * count,
                           label=str(count), targets={"count": float(count)}))
    return out


def position_cells(layout: str = "quadrants") -> dict[str, Box]:
    """Named cells: 4 ``quadrants`` or 4 ``halves`` (left, right, top, bottom).

    Example:
      >>> position_cells("halves")["right"]
      (0.5, 0.0, 1.0, 1.0)
    """
    if layout == "quadrants":
        return dict(zip(QUADRANTS, grid_cells(2)))
    if layout == "halves":
        halves = [(0, 0, .5, 1), (.5, 0, 1, 1), (0, 0, 1, .5), (0, .5, 1, 1)]
        return {name: tuple(float(v) for v in box) for name, box in zip(HALVES, halves)}
    raise ValueError(f"unknown layout {layout!r}; choose 'quadrants' or 'halves'")


def placement_set(drawings_by_class: Mapping, classes: Sequence[str], n: int,
                  rng: np.random.Generator, layout: str = "quadrants") -> list[Composite]:
    """One drawing (random class of ``classes``) in one named cell; label = the cell name.

    In the ``halves`` layout the shape is a square box inside the half (so
    ``left`` and ``top`` can look alike in the top-left corner; use quadrants for
    an unambiguous task).
    """
    cells = position_cells(layout)
    out = []
    for position in _balanced(rng, list(cells), n):
        name = classes[rng.integers(len(classes))]
        box = _box_in_cell(rng, cells[position])
        out.append(compose(_pick(rng, drawings_by_class[name], 1), [box], (name,),
                           label=position))
    return out


def containment_labels(a: str, b: str) -> tuple[str, str, str]:
    """The three relation labels of :func:`containment_set`.

    Example:
      >>> containment_labels("circle", "square")
      ('circle in square', 'square in circle', 'side by side')
    """
    return (f"{a} in {b}", f"{b} in {a}", SIDE_BY_SIDE)


def containment_set(drawings_a: Sequence, drawings_b: Sequence, names: tuple[str, str], n: int,
                    rng: np.random.Generator) -> list[Composite]:
    """A inside B, B inside A, or A and B side by side (random left/right order).

    Inside: the outer box has side ``U(0.7, 1)`` at a random place on the canvas and
    the inner one ``U(0.35, 0.5)`` of it, centred in it (a square of half the side
    of a circle's box lies within the circle). Side by side: boxes of side
    ``U(0.35, 0.5)`` in the left and right halves. Parts are listed outer first.
    ``targets["inner_size"] / ["outer_size"]`` hold the box sides.
    """
    a, b = names
    labels = containment_labels(a, b)
    out = []
    for label in _balanced(rng, list(labels), n):
        if label == SIDE_BY_SIDE:
            first_a = bool(rng.integers(2))
            boxes = [_box_in_cell(rng, (0, 0, .5, 1), (0.7, 1.0)),
                     _box_in_cell(rng, (.5, 0, 1, 1), (0.7, 1.0))]
            parts = [(drawings_a, a), (drawings_b, b)]
            if not first_a:
                parts.reverse()
            sizes = {"left_size": boxes[0][2] - boxes[0][0],
                     "right_size": boxes[1][2] - boxes[1][0]}
        else:
            inner, outer = ((drawings_a, a), (drawings_b, b)) if label == labels[0] else (
                (drawings_b, b), (drawings_a, a))
            outer_box = _box_in_cell(rng, UNIT_BOX, (0.7, 1.0))
            side = (outer_box[2] - outer_box[0]) * rng.uniform(0.35, 0.5)
            cx, cy = (outer_box[0] + outer_box[2]) / 2, (outer_box[1] + outer_box[3]) / 2
            inner_box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
            boxes, parts = [outer_box, inner_box], [outer, inner]
            sizes = {"outer_size": outer_box[2] - outer_box[0], "inner_size": side}
        drawings = [_pick(rng, pool, 1)[0] for pool, _ in parts]
        out.append(compose(drawings, boxes, [name for _, name in parts], label=label,
                           targets=sizes))
    return out


def spatial_set(drawings_a: Sequence, drawings_b: Sequence, names: tuple[str, str], n: int,
                rng: np.random.Generator, size_range=(0.15, 0.35)) -> list[Composite]:
    """Two shapes (A then B) with a continuous distance, angle and size.

    Both parts are square boxes of side ``size ~ U(size_range)``; the vector between
    their centres, from A to B, has length ``distance`` and angle ``angle`` (radians
    in ``[-pi, pi)``, counter-clockwise from the x axis as seen on screen:
    ``atan2(-dy, dx)`` in image coordinates). Draws are rejected until both boxes
    lie on the canvas without overlapping; the midpoint is then uniform among the
    feasible positions. Targets: ``distance``, ``angle``, ``size`` and the
    regression targets ``angle_cos`` / ``angle_sin`` (angle is circular).
    """
    out = []
    while len(out) < n:
        size = rng.uniform(*size_range)
        angle = rng.uniform(-math.pi, math.pi)
        distance = rng.uniform(size, math.sqrt(2.0) * (1.0 - size))
        dx, dy = distance * math.cos(angle), -distance * math.sin(angle)
        if max(abs(dx), abs(dy)) < size:  # boxes would overlap
            continue
        half = size / 2.0
        lo_x, hi_x = half + abs(dx) / 2, 1.0 - half - abs(dx) / 2
        lo_y, hi_y = half + abs(dy) / 2, 1.0 - half - abs(dy) / 2
        if lo_x > hi_x or lo_y > hi_y:  # does not fit on the canvas
            continue
        mx, my = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
        centres = [(mx - dx / 2, my - dy / 2), (mx + dx / 2, my + dy / 2)]
        boxes = [(x - half, y - half, x + half, y + half) for x, y in centres]
        drawings = [_pick(rng, drawings_a, 1)[0], _pick(rng, drawings_b, 1)[0]]
        targets = dict(distance=distance, angle=angle, size=size,
                       angle_cos=math.cos(angle), angle_sin=math.sin(angle))
        out.append(compose(drawings, boxes, names, targets=targets))
    return out


# --------------------------------------------------------------------------- readouts
def model_image_shape(model, default=(28, 28, 1)) -> tuple:
    """``(S, S, C)`` the model was built for (its encoder's input), else ``default``.

    Reads Keras' record of the build shape, or an ``image_shape`` attribute (ConvVAE).
    """
    for obj in (getattr(model, "encoder", None), model):
        shape = (getattr(obj, "_build_shapes_dict", None) or {}).get("input_shape")
        if shape and isinstance(shape[0], (tuple, list)):
            shape = shape[0]  # (images, strokes) of SketchEmbedNet
        if shape and len(shape) == 4 and all(v is not None for v in shape[1:]):
            return tuple(int(v) for v in shape[1:])
    if getattr(model, "image_shape", None):
        return tuple(int(v) for v in model.image_shape)
    logger.info("model is not built: using image shape %s", default)
    return tuple(default)


def embed_images(model, images: np.ndarray, batch_size: int = 256,
                 progress: bool = False) -> np.ndarray:
    """``model.embed`` (the encoder mean mu) of uint8 images, as float32 ``[n, D]``."""
    parts = []
    starts = range(0, len(images), batch_size)
    for start in tqdm(starts, desc="embed", disable=not progress, leave=False):
        batch = tf.constant(images[start : start + batch_size], tf.float32)
        parts.append(np.asarray(model.embed(batch), np.float32))
    return np.concatenate(parts)


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Ink intensities ``1 - image / 255`` flattened: ``[n, S * S * C]`` float32.

    Example:
      >>> pixel_features(np.array([[[[255], [0]]]], np.uint8)).tolist()
      [[0.0, 1.0]]
    """
    images = np.asarray(images, np.float32)
    return (1.0 - images / 255.0).reshape(len(images), -1)


def split_sizes(n: int, n_train: int, n_test: int) -> tuple[int, int]:
    """``(n_train, n_test)``, scaled down proportionally when ``n < n_train + n_test``.

    Example:
      >>> split_sizes(3000, 100, 200), split_sizes(30, 100, 200)
      ((100, 200), (10, 20))
    """
    if n >= n_train + n_test:
        return n_train, n_test
    train = min(max(int(round(n * n_train / (n_train + n_test))), 2), n - 1)
    return train, n - train


def classification_readout(features: np.ndarray, labels: Sequence, n_train: int = 100,
                           n_test: int = 200, seed: int = 0, normalize: bool = True) -> dict:
    """Test accuracy of logistic regression (``fewshot.logistic_regression``).

    The split is stratified and seeded; sizes are scaled down when there are
    fewer than ``n_train + n_test`` examples (:func:`split_sizes`).

    Returns:
      dict: ``accuracy``, ``chance`` (majority share of the test labels),
      ``n_train``, ``n_test``.

    Example:
      >>> labels = np.repeat(["a", "b"], 30)
      >>> x = np.where(labels[:, None] == "a", [1., 0.], [0., 1.])
      >>> classification_readout(x, labels, 20, 40)["accuracy"]
      1.0
    """
    from sklearn.model_selection import train_test_split

    features, labels = np.asarray(features, np.float32), np.asarray(labels)
    if normalize:
        features = fewshot.l2_normalize(features)
    k_train, k_test = split_sizes(len(labels), n_train, n_test)
    idx = np.arange(len(labels))
    train, rest = train_test_split(idx, train_size=k_train, random_state=seed, stratify=labels)
    test = rest[:k_test]
    classifier = fewshot.logistic_regression().fit(features[train], labels[train])
    _, counts = np.unique(labels[test], return_counts=True)
    return dict(accuracy=float(np.mean(classifier.predict(features[test]) == labels[test])),
                chance=float(counts.max() / len(test)), n_train=int(k_train), n_test=int(len(test)))


def make_regressor():
    """Ridge regression with its penalty chosen by leave-one-out on the training split."""
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.logspace(-4, 3, 15))


def regression_readout(features: np.ndarray, targets: Mapping[str, Sequence], n_train: int = 100,
                       n_test: int = 2000, seed: int = 0, normalize: bool = True,
                       make_model: Callable | None = None) -> dict:
    """Test R^2 of ridge regression of each target (one model per target).

    A target pair ``<name>_cos`` / ``<name>_sin`` (a circular variable) also gets
    ``<name>``: the mean of their two R^2.

    Returns:
      dict: ``r2`` (``{target: R^2}``), ``n_train``, ``n_test``.

    Example:
      >>> x = np.random.default_rng(0).normal(size=(300, 5))
      >>> out = regression_readout(x, {"t": x @ np.arange(5.)}, 100, 200, normalize=False)
      >>> round(out["r2"]["t"], 3)
      1.0
    """
    from sklearn.metrics import r2_score

    features = np.asarray(features, np.float32)
    if normalize:
        features = fewshot.l2_normalize(features)
    k_train, k_test = split_sizes(len(features), n_train, n_test)
    order = np.random.default_rng(seed).permutation(len(features))
    train, test = order[:k_train], order[k_train : k_train + k_test]
    r2 = {}
    for name, values in targets.items():
        y = np.asarray(values, np.float64)
        model = (make_model or make_regressor)().fit(features[train], y[train])
        r2[name] = float(r2_score(y[test], model.predict(features[test])))
    for name in list(r2):
        if name.endswith("_cos") and name[:-4] + "_sin" in r2:
            r2[name[:-4]] = (r2[name] + r2[name[:-4] + "_sin"]) / 2.0
    return dict(r2=r2, n_train=int(k_train), n_test=int(len(test)))


def project_2d(features: np.ndarray, seed: int = 0, method: str = "umap") -> np.ndarray:
    """2-D projection ``[n, 2]`` of L2-normalised features.

    ``umap``: ``umap.UMAP`` defaults with ``random_state=seed`` (deterministic; the
    first call in a process JIT-compiles for ~30 s); ``n_neighbors`` is lowered to
    ``n - 1`` for fewer than 16 points. ``pca``: the top two principal components
    (fast; for tests and quick looks).
    """
    x = fewshot.l2_normalize(np.asarray(features, np.float32))
    if method == "pca":
        centred = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        return (centred @ vt[:2].T).astype(np.float32)
    if method != "umap":
        raise ValueError(f"unknown projection {method!r}; choose 'umap' or 'pca'")
    import warnings

    import umap

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # random_state => 1 job
        reducer = umap.UMAP(random_state=seed, n_neighbors=min(15, len(x) - 1))
        return np.asarray(reducer.fit_transform(x), np.float32)


# ---------------------------------------------------------------------------- figures
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


def plot_categorical(path, xy: np.ndarray, labels: Sequence[str], images: np.ndarray,
                     title: str, method: str = "umap") -> str:
    """Scatter of a 2-D projection coloured by label, with example composites below.

    The examples (2 per label) are numbered and circled in the scatter.
    """
    labels = [str(l) for l in labels]
    names = _label_order(labels)
    colors = plt.get_cmap("tab10")
    fig = plt.figure(figsize=(7.5, 8))
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
    """
    names = list(variables)
    fig = plt.figure(figsize=(5.0 * len(names), 6.2))
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


def _save(fig, path) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return str(path)


# ------------------------------------------------------------------------- arithmetic
def class_mean_embeddings(model, drawings_by_class: Mapping, classes: Iterable[str],
                          image_shape=(28, 28, 1), per_class: int = 10,
                          progress: bool = False) -> dict[str, np.ndarray]:
    """Mean ``mu`` ``[D]`` of the first ``per_class`` drawings of each class."""
    classes = list(classes)
    drawings, owners = [], []
    for name in classes:
        chosen = list(drawings_by_class[name][:per_class])
        drawings += chosen
        owners += [name] * len(chosen)
    mu = embed_images(model, render_drawings(drawings, image_shape, progress=progress),
                      progress=progress)
    owners = np.asarray(owners)
    return {name: mu[owners == name].mean(axis=0) for name in classes}


def arithmetic(means: Mapping[str, np.ndarray], a: str, b: str, c: str) -> np.ndarray:
    """``means[a] - means[b] + means[c]``.

    Example:
      >>> arithmetic({"a": np.array([1., 1]), "b": np.array([1., 0]), "c": np.array([0., 2])},
      ...            "a", "b", "c").tolist()
      [0.0, 3.0]
    """
    return np.asarray(means[a]) - np.asarray(means[b]) + np.asarray(means[c])


def nearest_classes(z: np.ndarray, means: Mapping[str, np.ndarray], k: int = 5,
                    exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
    """The ``k`` classes whose mean embedding has the highest cosine with ``z``.

    Example:
      >>> nearest_classes(np.array([1., 0.1]), {"x": np.array([2., 0]), "y": np.array([0., 1])}, 1)
      [('x', 0.995)]
    """
    exclude = set(exclude)
    names = [n for n in means if n not in exclude]
    if not names:
        return []
    matrix = fewshot.l2_normalize(np.stack([means[n] for n in names]).astype(np.float64))
    cos = matrix @ (np.asarray(z, np.float64) / max(np.linalg.norm(z), 1e-12))
    order = np.argsort(-cos, kind="stable")[:k]
    return [(names[i], round(float(cos[i]), 4)) for i in order]


def decode(model, z: np.ndarray, temperature: float = 0.1, greedy: bool = False,
           seed: int = 0) -> list[np.ndarray]:
    """Stroke-5 sketches ``[T + 1, 5]`` drawn by ``model.sample`` from embeddings ``[n, D]``."""
    stroke5, _ = model.sample(tf.constant(np.asarray(z, np.float32)), temperature=temperature,
                              greedy=greedy, seed=seed)
    return list(np.asarray(stroke5))


def plot_arithmetic(path, rows: Sequence[Mapping]) -> str:
    """Rows = equations ``a - b + c``: an input example of each operand, the decoding of
    each operand's mean embedding, then the decoded results.

    Each row is a dict with ``operands`` (3 names), ``inputs`` (3 images),
    ``operand_sketches`` (3 stroke-5) and ``results`` (list of ``(caption, stroke-5)``).
    """
    n_cols = 6 + max(len(r["results"]) for r in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.5 * n_cols, 2.1 * len(rows)),
                             squeeze=False)
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


# --------------------------------------------------------------------------------- run
def _check_classes(drawings_by_class: Mapping, needed: Iterable[str]) -> None:
    missing = sorted(set(needed) - set(drawings_by_class))
    if missing:
        have = sorted(drawings_by_class)
        shown = ", ".join(have[:20]) + (f" and {len(have) - 20} more" if len(have) > 20 else "")
        raise ValueError(f"drawings_by_class lacks the classes {missing} needed by the "
                         f"experiments (pass other class arguments); it has: {shown}")


def _set_seed(seed: int, index: int) -> np.random.Generator:
    """One independent generator per set: adding or skipping a set changes no other."""
    return np.random.default_rng([int(seed), int(index)])


def run(model, drawings_by_class: Mapping[str, Sequence], out_dir, *, seed: int = 0,
        progress: bool = True, image_shape=None,
        numerosity_classes: Sequence[str] = ("circle", "square"),
        placement_classes: Sequence[str] = DEFAULT_PLACEMENT_CLASSES,
        placement_layout: str = "quadrants",
        containment_pair: tuple[str, str] = ("circle", "square"),
        spatial_pair: tuple[str, str] = ("circle", "square"),
        equations: Sequence[tuple[str, str, str]] = DEFAULT_EQUATIONS,
        candidate_classes: Sequence[str] | None = None,
        n_categorical: int = sum(CATEGORICAL_SPLIT), n_continuous: int = sum(CONTINUOUS_SPLIT),
        arithmetic_per_class: int = 10, temperature: float = 0.1, num_samples: int = 2,
        projection: str = "umap") -> dict:
    """Runs the emergent-structure experiments; writes PNGs into ``out_dir``.

    Args:
      model: a trained SketchEmbedNet (``embed``; ``sample`` for decoding: models
        without it get the nearest classes but no decoded results).
      drawings_by_class: ``{class: [stroke-3, ...]}`` of real drawings
        (:func:`load_quickdraw_folder`).
      out_dir: folder for the figures (created).
      seed: seeds composition, splits, UMAP and sampling; the same seed gives the
        same composites, numbers and figures.
      progress: show progress bars and log each step.
      image_shape: ``(S, S, C)``; default :func:`model_image_shape`.
      numerosity_classes: one numerosity set per class (``numerosity_<class>``).
      placement_classes: classes of the placement set's shapes.
      placement_layout: ``quadrants`` or ``halves``.
      containment_pair / spatial_pair: the classes ``(A, B)`` of those sets.
      equations: ``(a, b, c)`` triples for ``z(a) - z(b) + z(c)``; empty to skip.
      candidate_classes: classes compared (cosine) with the results; default all
        classes of ``drawings_by_class``.
      n_categorical / n_continuous: composites per categorical / continuous set
        (defaults 300 = 100 train + 200 test, and 2100 = 100 + 2000).
      arithmetic_per_class: drawings averaged per class mean embedding.
      temperature / num_samples: the results are decoded greedily and as
        ``num_samples`` seeded samples at ``temperature``.
      projection: ``umap`` (the paper) or ``pca`` (fast).

    Returns:
      A JSON-able dict: ``sets`` (per set: ``kind``, ``classes``, ``num_composites``,
      ``label_counts`` or ``targets``, ``figure``, ``readout`` with ``embedding``
      and ``pixels`` results), ``arithmetic`` (``figure``, per equation the nearest
      classes) and ``figures`` (all PNG file names, relative to ``out_dir``).

    Raises:
      ValueError: naming the classes missing from ``drawings_by_class``.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    image_shape = tuple(image_shape or model_image_shape(model))
    candidate_classes = list(candidate_classes or drawings_by_class)
    _check_classes(drawings_by_class, [*numerosity_classes, *placement_classes,
                                       *containment_pair, *spatial_pair,
                                       *(c for eq in equations for c in eq), *candidate_classes])
    log = logger.info if progress else logger.debug
    builders = []  # (name, kind, classes, build(rng))
    for name in numerosity_classes:
        builders.append((f"numerosity_{name}", "categorical", [name],
                         lambda rng, name=name: numerosity_set(
                             drawings_by_class[name], name, n_categorical, rng)))
    builders.append(("placement", "categorical", list(placement_classes),
                     lambda rng: placement_set(drawings_by_class, placement_classes,
                                               n_categorical, rng, placement_layout)))
    a, b = containment_pair
    builders.append(("containment", "categorical", [a, b],
                     lambda rng: containment_set(drawings_by_class[a], drawings_by_class[b],
                                                 (a, b), n_categorical, rng)))
    sa, sb = spatial_pair
    builders.append(("spatial", "continuous", [sa, sb],
                     lambda rng: spatial_set(drawings_by_class[sa], drawings_by_class[sb],
                                             (sa, sb), n_continuous, rng)))
    result = dict(seed=int(seed), image_shape=list(image_shape), projection=projection,
                  sets={}, figures=[])
    for index, (name, kind, classes, build) in enumerate(
            tqdm(builders, desc="structure sets", disable=not progress)):
        rng = _set_seed(seed, index)
        log("structure: %s: composing and rendering", name)
        composites = build(rng)
        images = render_composites(composites, image_shape, progress=progress)
        mu = embed_images(model, images, progress=progress)
        pixels = pixel_features(images)
        log("structure: %s: projecting %d embeddings (%s)", name, len(mu), projection)
        xy = project_2d(mu, seed, projection)
        figure = f"umap_{name}.png"
        title = f"{name}: {projection.upper()} of mu ({len(mu)} composites of {', '.join(classes)})"
        entry = dict(kind=kind, classes=classes, num_composites=len(composites), figure=figure)
        if kind == "categorical":
            labels = [c.label for c in composites]
            plot_categorical(out_dir / figure, xy, labels, images, title, projection)
            entry["label_counts"] = {l: labels.count(l) for l in sorted(set(labels))}
            entry["readout"] = {
                feature: classification_readout(x, labels, *CATEGORICAL_SPLIT, seed=seed)
                for feature, x in (("embedding", mu), ("pixels", pixels))}
        else:
            shown = {k: [c.targets[k] for c in composites] for k in ("distance", "angle", "size")}
            targets = {k: [c.targets[k] for c in composites]
                       for k in ("distance", "size", "angle_cos", "angle_sin")}
            plot_continuous(out_dir / figure, xy, shown, images, title, projection)
            entry["targets"] = {k: [float(np.min(v)), float(np.max(v))] for k, v in shown.items()}
            entry["readout"] = {
                feature: regression_readout(x, targets, *CONTINUOUS_SPLIT, seed=seed)
                for feature, x in (("embedding", mu), ("pixels", pixels))}
        result["sets"][name] = entry
        result["figures"].append(figure)
        log("structure: %s: %s", name, entry["readout"])
    if equations:
        result["arithmetic"] = run_arithmetic(
            model, drawings_by_class, out_dir, equations=equations,
            candidate_classes=candidate_classes, image_shape=image_shape,
            per_class=arithmetic_per_class, temperature=temperature, num_samples=num_samples,
            seed=seed, progress=progress)
        if result["arithmetic"].get("figure"):
            result["figures"].append(result["arithmetic"]["figure"])
    return result


def run_arithmetic(model, drawings_by_class: Mapping, out_dir, *, equations=DEFAULT_EQUATIONS,
                   candidate_classes: Sequence[str] | None = None, image_shape=(28, 28, 1),
                   per_class: int = 10, temperature: float = 0.1, num_samples: int = 2,
                   seed: int = 0, progress: bool = False, k: int = 5) -> dict:
    """Experiment 5: ``z(a) - z(b) + z(c)`` of class means, decoded; writes ``arithmetic.png``.

    Returns:
      dict: ``figure`` (None if the model cannot draw), ``per_class``, ``num_candidates``
      and ``equations``: per equation the ``expression``, ``nearest`` (top-k
      ``[class, cosine]`` among the candidates), ``nearest_excluding_operands``,
      ``nearest_centred`` (the same after subtracting the mean of the candidates'
      means from everything: mu share a large common direction, which dominates raw
      cosines) and ``cosine_to_operands``.
    """
    candidates = list(candidate_classes or drawings_by_class)
    needed = list(dict.fromkeys([*candidates, *(c for eq in equations for c in eq)]))
    _check_classes(drawings_by_class, needed)
    means = class_mean_embeddings(model, drawings_by_class, needed, image_shape, per_class,
                                  progress)
    candidate_means = {name: means[name] for name in candidates}
    centre = np.mean(np.stack(list(candidate_means.values())), axis=0)  # [D]
    centred_means = {name: value - centre for name, value in candidate_means.items()}
    can_draw = callable(getattr(model, "sample", None))
    rows, reports = [], []
    for i, (a, b, c) in enumerate(equations):
        z = arithmetic(means, a, b, c)
        cos = {n: nearest_classes(z, {n: means[n]}, 1)[0][1] for n in (a, b, c)}
        reports.append(dict(
            expression=f"{a} - {b} + {c}",
            nearest=[list(p) for p in nearest_classes(z, candidate_means, k)],
            nearest_excluding_operands=[list(p) for p in nearest_classes(
                z, candidate_means, k, exclude=(a, b, c))],
            nearest_centred=[list(p) for p in nearest_classes(z - centre, centred_means, k)],
            cosine_to_operands=cos))
        if can_draw:  # one greedy call for the result and the operands: fewer traces
            greedy = decode(model, np.stack([z, means[a], means[b], means[c]]), greedy=True)
            results = [("greedy", greedy[0])]
            if num_samples:
                samples = decode(model, np.repeat(z[None], num_samples, 0), temperature,
                                 seed=seed + i)
                results += [(f"\u03c4={temperature}, #{j + 1}", s)
                            for j, s in enumerate(samples)]
            inputs = render_drawings([drawings_by_class[n][0] for n in (a, b, c)], image_shape)
            rows.append(dict(operands=(a, b, c), inputs=inputs, operand_sketches=greedy[1:],
                             results=results))
    figure = None
    if rows:
        figure = "arithmetic.png"
        plot_arithmetic(pathlib.Path(out_dir) / figure, rows)
    return dict(figure=figure, per_class=int(per_class), num_candidates=len(candidates),
                equations=reports)

"""The composite sets of the emergent-structure experiments (Wang et al. 2021, Sec. 6).

Each builder takes real drawings (``{class: [stroke-3, ...]}``, e.g. from
``sketchembednet.data.quickdraw.read_simplified_folder``) and a seeded
``np.random.Generator`` and returns :class:`~.structure_composites.Composite` s
that vary one conceptual factor:

1. :func:`numerosity_set`: 1-4 copies (different drawings) of one class in random,
   non-overlapping cells of a 2 x 2 grid; label = the count.
2. :func:`placement_set`: one shape in one of the 4 quadrants (or 2 halves);
   label = position.
3. :func:`containment_set`: A inside B, B inside A, or side by side; label = the
   relation.
4. :func:`spatial_set`: two shapes with a continuous distance, angle and size;
   targets.

The same generator state gives the same composites.

Example:
  >>> line = np.array([[5., 5., 1.]])
  >>> placed = placement_set({"line": [line]}, ["line"], 4, np.random.default_rng(0))
  >>> sorted(c.label for c in placed)
  ['bottom-left', 'bottom-right', 'top-left', 'top-right']
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from sketchembednet.evaluation.structure_composites import UNIT_BOX, Box, Composite, compose

QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right")
HALVES = ("left", "right", "top", "bottom")
SIDE_BY_SIDE = "side by side"


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


def _balanced(rng, labels: Sequence, n: int) -> list:
    """``n`` labels, each of ``labels`` equally often (up to one), in random order."""
    return [labels[i] for i in rng.permutation(np.arange(n) % len(labels))]


def grid_cells(grid: int) -> list[Box]:
    """The ``grid x grid`` cells of the unit canvas, row by row.

    Example:
      >>> grid_cells(2)
      [(0.0, 0.0, 0.5, 0.5), (0.5, 0.0, 1.0, 0.5), (0.0, 0.5, 0.5, 1.0), (0.5, 0.5, 1.0, 1.0)]
    """
    step = 1.0 / grid
    return [(c * step, r * step, (c + 1) * step, (r + 1) * step)
            for r in range(grid) for c in range(grid)]


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

    Example:
      >>> c = placement_set({"dot": [np.array([[1., 1., 1.]])]}, ["dot"], 2,
      ...                   np.random.default_rng(0), "halves")
      >>> len(c), c[0].classes
      (2, ('dot',))
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

    Example:
      >>> line = [np.array([[5., 5., 1.]])]
      >>> c = containment_set(line, line, ("a", "b"), 3, np.random.default_rng(0))
      >>> sorted(x.label for x in c)
      ['a in b', 'b in a', 'side by side']
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

    Example:
      >>> line = [np.array([[5., 5., 1.]])]
      >>> c = spatial_set(line, line, ("a", "b"), 2, np.random.default_rng(0))
      >>> sorted(c[0].targets)
      ['angle', 'angle_cos', 'angle_sin', 'distance', 'size']
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

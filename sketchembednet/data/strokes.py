"""Stroke formats: stroke-3, stroke-5, polylines, Quickdraw drawings.

Pure NumPy functions (and one TensorFlow function for tf.data) that convert
between the formats used by SketchEmbedNet and sketch-rnn (Ha & Eck 2017,
Sec. 3.1 "Dataset"):

* **polylines**: a list of strokes, each a float array ``[n_i, 2]`` of absolute
  ``(x, y)`` points, with x to the right and y downwards (image coordinates).
* **stroke-3**: float32 ``[L, 3]`` rows ``(dx, dy, pen_lifted)``. Row ``i`` is
  the offset from point ``i-1`` to point ``i`` of the concatenated polylines;
  ``pen_lifted = 1`` on the last point of each stroke. As in sketch-rnn the
  drawing starts at its first point, the implicit origin, which is not a row.
* **stroke-5**: float32 ``[T + 1, 5]`` rows ``(dx, dy, p1, p2, p3)`` (pen down,
  pen lifted, end of sketch). Row 0 is the start token ``(0, 0, 1, 0, 0)``,
  *prepended*; rows ``1..L`` hold the stroke-3 rows and rows ``L+1..T`` the end
  token ``(0, 0, 0, 0, 1)``.

The authors' code overwrote row 0 (the first real offset) with the start token,
losing the first segment of every sketch; here the start token is prepended, so
the first offset survives (``tests/data/strokes_test.py`` checks this).

Sketches longer than ``T`` are never truncated: :func:`filter_by_length` drops
them and reports how many. Bad input raises :class:`StrokeFormatError`, a
``ValueError`` whose message names the problem.

Example:
  >>> drawing = [[[0, 10, 10], [0, 0, 10]], [[20, 30], [5, 5]]]  # Quickdraw
  >>> s3 = quickdraw_to_stroke3(drawing)
  >>> s3.tolist()
  [[10.0, 0.0, 0.0], [0.0, 10.0, 1.0], [10.0, -5.0, 0.0], [10.0, 0.0, 1.0]]
  >>> s5 = stroke3_to_stroke5(s3, max_len=6)
  >>> s5.shape, s5[0].tolist(), s5[1].tolist()
  ((7, 5), [0.0, 0.0, 1.0, 0.0, 0.0], [10.0, 0.0, 1.0, 0.0, 0.0])
  >>> np.array_equal(stroke5_to_stroke3(s5), s3)
  True
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import simplification.cutil
import tensorflow as tf

START_TOKEN = (0.0, 0.0, 1.0, 0.0, 0.0)
END_TOKEN = (0.0, 0.0, 0.0, 0.0, 1.0)


class StrokeFormatError(ValueError):
    """A drawing is not a valid stroke-3 / stroke-5 / polyline drawing."""


class SketchTooLongError(StrokeFormatError):
    """A sketch has more stroke-3 rows than the maximum sequence length."""


def _fail(message: str, name: str | None) -> None:
    prefix = f"{name}: " if name else ""
    raise StrokeFormatError(prefix + message)


def validate_stroke3(stroke3, name: str | None = None) -> np.ndarray:
    """Checks a stroke-3 array and returns it as float32.

    Args:
      stroke3: array-like ``[L, 3]`` of ``(dx, dy, pen_lifted)``.
      name: optional name of the drawing (a file, a key) used in error messages.

    Returns:
      float32 array ``[L, 3]``.

    Raises:
      StrokeFormatError: if the array is empty, not ``[L, 3]``, holds NaN or
        inf, or has a pen column with values other than 0 and 1.
    """
    arr = np.asarray(stroke3, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != 3:
        _fail(f"stroke-3 must have shape [L, 3], got {arr.shape}", name)
    if arr.shape[0] == 0:
        _fail("empty drawing: stroke-3 has no rows", name)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        _fail(f"non-finite value {arr[bad[0], bad[1]]} at row {bad[0]}, column {bad[1]}", name)
    pen = arr[:, 2]
    if not np.all((pen == 0) | (pen == 1)):
        _fail(f"pen column must be 0 or 1, got values {np.unique(pen)[:5].tolist()}", name)
    return arr


def stroke3_to_stroke5(stroke3, max_len: int, name: str | None = None) -> np.ndarray:
    """Converts stroke-3 to padded stroke-5 with the start token prepended.

    Args:
      stroke3: ``[L, 3]`` with ``1 <= L <= max_len``.
      max_len: T, the maximum number of stroke-3 rows; the result has T+1 rows.
      name: optional name used in error messages.

    Returns:
      float32 ``[max_len + 1, 5]``: row 0 the start token, rows ``1..L`` the
      offsets with ``(p1, p2, p3) = (1 - lift, lift, 0)``, rows ``L+1..T`` the
      end token.

    Raises:
      SketchTooLongError: if ``L > max_len`` (sketches are never truncated).
      StrokeFormatError: if ``stroke3`` is invalid.
    """
    s3 = validate_stroke3(stroke3, name)
    length = s3.shape[0]
    if length > max_len:
        prefix = f"{name}: " if name else ""
        raise SketchTooLongError(f"{prefix}sketch has {length} rows, more than max_len={max_len}")
    out = np.zeros((max_len + 1, 5), np.float32)  # [T+1, 5]
    out[0] = START_TOKEN
    out[1 : length + 1, :2] = s3[:, :2]
    out[1 : length + 1, 2] = 1.0 - s3[:, 2]
    out[1 : length + 1, 3] = s3[:, 2]
    out[length + 1 :, 4] = 1.0
    return out


def stroke5_to_stroke3(stroke5, name: str | None = None) -> np.ndarray:
    """Converts one stroke-5 sequence back to stroke-3.

    Row 0 must be the start token and is dropped. The sequence ends before the
    first row whose pen state is p3 (for soft pen values: whose argmax is p3).

    Args:
      stroke5: ``[N, 5]``.
      name: optional name used in error messages.

    Returns:
      float32 ``[L, 3]``; ``L`` may be 0 for a sketch that ends at once.

    Raises:
      StrokeFormatError: on a wrong shape or non-finite values.
    """
    s5 = np.asarray(stroke5, dtype=np.float32)
    if s5.ndim != 2 or s5.shape[1] != 5 or s5.shape[0] < 1:
        _fail(f"stroke-5 must have shape [N >= 1, 5], got {s5.shape}", name)
    if not np.all(np.isfinite(s5)):
        _fail("stroke-5 holds non-finite values", name)
    body = s5[1:]  # [N-1, 5]
    pen = np.argmax(body[:, 2:], axis=1)  # [N-1]  0 = down, 1 = lifted, 2 = end
    ends = np.flatnonzero(pen == 2)
    length = int(ends[0]) if ends.size else body.shape[0]
    out = np.empty((length, 3), np.float32)
    out[:, :2] = body[:length, :2]
    out[:, 2] = (pen[:length] == 1).astype(np.float32)
    return out


def polylines_to_stroke3(polylines: Sequence, name: str | None = None) -> np.ndarray:
    """Converts absolute polylines to stroke-3 (sketch-rnn's ``lines_to_strokes``).

    Args:
      polylines: sequence of strokes, each array-like ``[n_i, 2]`` of absolute
        points. Empty strokes are skipped; at least two points are needed in all.
      name: optional name used in error messages.

    Returns:
      float32 ``[sum(n_i) - 1, 3]``.

    Raises:
      StrokeFormatError: for an empty drawing, a stroke of the wrong shape or
        non-finite coordinates.
    """
    points, lifts = [], []
    for i, line in enumerate(polylines):
        arr = np.asarray(line, dtype=np.float64)
        if arr.size == 0:
            continue
        if arr.ndim != 2 or arr.shape[1] != 2:
            _fail(f"stroke {i} must have shape [n, 2], got {arr.shape}", name)
        if not np.all(np.isfinite(arr)):
            _fail(f"stroke {i} holds non-finite coordinates", name)
        lift = np.zeros(len(arr))
        lift[-1] = 1.0
        points.append(arr)
        lifts.append(lift)
    if not points or sum(len(p) for p in points) < 2:
        _fail("empty drawing: fewer than two points in all strokes", name)
    xy = np.concatenate(points)  # [P, 2]
    lift = np.concatenate(lifts)  # [P]
    out = np.empty((len(xy) - 1, 3), np.float32)
    out[:, :2] = np.diff(xy, axis=0)
    out[:, 2] = lift[1:]
    return out


def stroke3_to_polylines(stroke3, name: str | None = None) -> list[np.ndarray]:
    """Converts stroke-3 to absolute polylines starting at the origin.

    The inverse of :func:`polylines_to_stroke3` up to a translation: the first
    point is placed at ``(0, 0)``.

    Args:
      stroke3: ``[L, 3]``.
      name: optional name used in error messages.

    Returns:
      list of float32 arrays ``[n_i, 2]``.
    """
    s3 = validate_stroke3(stroke3, name)
    xy = np.concatenate([np.zeros((1, 2), np.float32), np.cumsum(s3[:, :2], axis=0)])  # [L+1, 2]
    lift = np.concatenate([[0.0], s3[:, 2]])  # [L+1]
    cuts = np.flatnonzero(lift[:-1] == 1) + 1
    return [line for line in np.split(xy, cuts) if len(line)]


def quickdraw_to_polylines(drawing, name: str | None = None) -> list[np.ndarray]:
    """Converts a Quickdraw ``drawing`` (``[[xs], [ys]]`` per stroke) to polylines.

    Works for the "simplified" ndjson format, and for the "raw" format whose
    strokes carry a third list of times (ignored).

    Raises:
      StrokeFormatError: if a stroke is not ``[xs, ys(, ts)]`` of equal lengths.
    """
    if not isinstance(drawing, (list, tuple)) or not drawing:
        _fail("empty drawing: no strokes", name)
    lines = []
    for i, stroke in enumerate(drawing):
        if not isinstance(stroke, (list, tuple)) or len(stroke) < 2:
            _fail(f"stroke {i} must be [xs, ys], got {type(stroke).__name__}", name)
        xs, ys = stroke[0], stroke[1]
        if len(xs) != len(ys):
            _fail(f"stroke {i} has {len(xs)} x values but {len(ys)} y values", name)
        lines.append(np.stack([np.asarray(xs, np.float64), np.asarray(ys, np.float64)], axis=1))
    return lines


def quickdraw_to_stroke3(drawing, name: str | None = None) -> np.ndarray:
    """Converts a Quickdraw ``drawing`` to stroke-3 (no simplification).

    The "simplified" files are already RDP-simplified (epsilon 2.0) in a
    256-unit box, exactly the input of the official sketch-rnn ``.npz`` files.
    """
    return polylines_to_stroke3(quickdraw_to_polylines(drawing, name), name)


def rdp(polylines: Iterable, epsilon: float) -> list[np.ndarray]:
    """Ramer-Douglas-Peucker simplification of each polyline.

    Uses the ``simplification`` library (a Rust implementation). Strokes of one
    or two points are kept as they are.

    Args:
      polylines: iterable of ``[n_i, 2]`` arrays.
      epsilon: maximum distance, in the units of the points.

    Returns:
      list of float64 arrays ``[m_i, 2]`` with ``m_i <= n_i``.
    """
    out = []
    for line in polylines:
        arr = np.ascontiguousarray(line, dtype=np.float64)
        if len(arr) > 2:
            arr = np.asarray(simplification.cutil.simplify_coords(arr, float(epsilon)), np.float64)
        out.append(arr)
    return out


def normalizing_scale(stroke3_list: Iterable) -> float:
    """Dataset-wide standard deviation of all ``dx`` and ``dy`` offsets.

    sketch-rnn's ``calculate_normalizing_scale_factor``: offsets are divided by
    this one number so that they have unit variance over the training split.
    It stays the plain std (trained models depend on its value, e.g. kanjivg's
    20.3123); the parsers' range checks bound what one drawing can add to it.

    Raises:
      StrokeFormatError: if there are no offsets, an offset is not finite or so
        large that its square overflows, or the scale is zero.
    """
    parts = [np.asarray(s, np.float64)[:, :2].ravel() for s in stroke3_list]
    if not parts:
        raise StrokeFormatError("cannot compute a normalizing scale of zero drawings")
    offsets = np.concatenate(parts)
    with np.errstate(over="ignore"):
        total_sq = float(np.square(offsets).sum())
    if not np.isfinite(total_sq):
        raise StrokeFormatError(
            f"cannot compute a normalizing scale: the offsets' sum of squares is {total_sq} "
            "(offsets far outside the source format's range)")
    scale = float(np.std(offsets))
    if not np.isfinite(scale) or scale <= 0:
        raise StrokeFormatError(f"normalizing scale must be positive and finite, got {scale}")
    return scale


def normalize(stroke3, scale: float) -> np.ndarray:
    """Divides the offsets of a stroke-3 by ``scale``; the pen column is kept."""
    out = np.array(stroke3, dtype=np.float32, copy=True)
    out[:, :2] /= scale
    return out


def filter_by_length(stroke3_list: Sequence, max_len: int) -> tuple[list, list[int]]:
    """Keeps the sketches with at most ``max_len`` rows.

    Returns:
      ``(kept, dropped_indices)``: the kept sketches in order, and the indices
      of the dropped ones, so callers can report the count.
    """
    kept, dropped = [], []
    for i, s in enumerate(stroke3_list):
        if len(s) <= max_len:
            kept.append(s)
        else:
            dropped.append(i)
    return kept, dropped


def stroke3_to_stroke5_tf(stroke3: tf.Tensor, max_len: int) -> tuple[tf.Tensor, tf.Tensor]:
    """TensorFlow version of :func:`stroke3_to_stroke5` for ``tf.data`` maps.

    Args:
      stroke3: float ``[L, 3]`` with ``L <= max_len`` (filter longer sketches
        before; an assertion fails otherwise, never a silent truncation).
      max_len: T.

    Returns:
      ``(stroke5 [T + 1, 5], length)`` with ``length = L`` (int32).
    """
    stroke3 = tf.convert_to_tensor(stroke3, tf.float32)  # [L, 3]
    length = tf.shape(stroke3)[0]
    check = tf.debugging.assert_less_equal(
        length, max_len, message=f"sketch longer than max_len={max_len}; filter it out first"
    )
    with tf.control_dependencies([check]):
        lift = stroke3[:, 2:3]  # [L, 1]
        body = tf.concat([stroke3[:, :2], 1.0 - lift, lift, tf.zeros_like(lift)], axis=1)  # [L, 5]
    start = tf.constant([START_TOKEN], tf.float32)  # [1, 5]
    pad = tf.tile(tf.constant([END_TOKEN], tf.float32), [max_len - length, 1])  # [T-L, 5]
    stroke5 = tf.concat([start, body, pad], axis=0)  # [T+1, 5]
    return tf.ensure_shape(stroke5, [max_len + 1, 5]), length

"""Sketchy database (Sangkloy et al., SIGGRAPH 2016): SVG sketches and their photos.

* **Sketches.** Each ``<path>`` of a Sketchy SVG is one stroke. It is parsed by
  ``svgpathtools`` (with the ``transform`` attributes of the path and its
  groups applied); paths shorter than ``min_fraction`` (10%) of the longest
  path of the sketch are dropped; each Bezier segment is sampled at
  ``max(length // step, 3)`` points (``step`` = 20 SVG units); then RDP
  (epsilon 5.0) and stroke-3 (x right, y down; no flip). These are the
  settings of SketchEmbedNet's ``util/sketchy_utils.py``.
* **Photos.** ``info/stats.csv`` gives each photo's original ImageNet size and
  the object's bounding box in it. The photo (``rendered_256x256``, resized from
  the original) is cropped to the box, scaled to fit ``size`` x ``size``
  keeping its aspect ratio, and pasted centred on black (``fit_photo``).

Example:
  >>> svg = ('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0,0 L100,0"/>'
  ...        '<path d="M0,10 L3,10"/></svg>')
  >>> lines, dropped = svg_polylines(svg, "a.svg")
  >>> len(lines), dropped, lines[0][[0, -1]].tolist()
  (1, 1, [[0.0, 0.0], [100.0, 0.0]])
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import svgpathtools
from etils import epath
from PIL import Image

from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError

SVG_NS = "{http://www.w3.org/2000/svg}"
_PHOTO_ID = re.compile(r"^n\d{8}_\d+$")


def _paths_in_order(elem: ET.Element, parent: np.ndarray) -> list:
    """``[(path element, 3x3 matrix)]`` in document order; the matrix is the product
    of the transforms of the element and all its ancestors."""
    matrix = parent @ svgpathtools.parser.parse_transform(elem.get("transform"))
    out = [(elem, matrix)] if elem.tag in (f"{SVG_NS}path", "path") else []
    for child in elem:
        out.extend(_paths_in_order(child, matrix))
    return out


_GAUSS_T, _GAUSS_W = np.polynomial.legendre.leggauss(24)  # Nodes and weights on [-1, 1].


def _length(segment) -> float:
    """Arc length of a segment: exact for lines, 24-point Gauss-Legendre for Beziers
    (vectorised; about 50x faster than ``svgpathtools``' adaptive quadrature)."""
    if isinstance(segment, svgpathtools.Line):
        return abs(segment.end - segment.start)
    if isinstance(segment, (svgpathtools.QuadraticBezier, svgpathtools.CubicBezier)):
        speed = np.abs(np.polyval(np.polyder(segment.poly().coeffs), (_GAUSS_T + 1) / 2))
        return float(np.dot(_GAUSS_W, speed) / 2)
    return segment.length()  # Arcs.


def _control_points(segment) -> tuple:
    """The numbers defining a segment: Bezier control points, or an arc's ends and radii."""
    if hasattr(segment, "bpoints"):
        return tuple(segment.bpoints())
    return segment.start, segment.end, segment.radius  # Arcs.


def _sample(segments: list, step: float) -> np.ndarray:
    """Points along a path: each ``(segment, length)`` with a non-zero length at
    ``max(length // step, 3)`` points."""
    pieces = []
    for segment, length in segments:
        if length > 0:
            ts = np.linspace(0.0, 1.0, max(int(length // step), 3))
            points = segment.points(ts) if hasattr(segment, "points") else [
                segment.point(t) for t in ts]
            pieces.append(np.asarray(points))
    if not pieces:
        return np.zeros((0, 2))
    z = np.concatenate(pieces)  # complex [n]
    return np.stack([z.real, z.imag], axis=1)


def svg_polylines(text: str, name: str, min_fraction: float = 0.1,
                  step: float = 20.0) -> tuple[list[np.ndarray], int]:
    """The strokes of a Sketchy SVG as sampled polylines.

    Args:
      text: the SVG document.
      name: the file, for error messages.
      min_fraction: paths shorter than this fraction of the longest are dropped.
      step: sampling step along each segment, in SVG units.

    Returns:
      ``(polylines [n_i, 2], number of short paths dropped)``.

    Raises:
      DataFileError: naming the file, for malformed XML (e.g. a truncated file),
        a path that cannot be parsed, or a non-finite coordinate.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise DataFileError(f"{name}: malformed SVG ({e}); is the file truncated?") from e
    paths = []
    for elem, matrix in _paths_in_order(root, np.eye(3)):
        d = elem.get("d")
        if not d:
            continue
        try:
            path = svgpathtools.parse_path(d)
            if not np.allclose(matrix, np.eye(3)):
                path = svgpathtools.path.transform(path, matrix)
            points = np.array([p for segment in path for p in _control_points(segment)],
                              complex)
            with np.errstate(all="ignore"):
                segments = [(segment, _length(segment)) for segment in path]
        except Exception as e:  # svgpathtools raises bare ValueError/IndexError/...
            raise DataFileError(f"{name}: cannot parse path {d[:40]!r}: {e}") from e
        length = sum(length for _, length in segments)
        if not (np.all(np.isfinite(points)) and np.isfinite(length)):
            raise DataFileError(f"{name}: path {d[:40]!r} has a non-finite coordinate or "
                                f"length ({length})")
        paths.append((length, segments))
    longest = max((length for length, _ in paths), default=0.0)
    kept = [path for length, path in paths if longest > 0 and length >= min_fraction * longest]
    try:
        lines = [line for line in (_sample(p, step) for p in kept) if len(line)]
    except (ValueError, OverflowError, MemoryError) as e:  # Lengths too large to sample.
        raise DataFileError(f"{name}: cannot sample its paths ({e}); coordinates out of "
                            "range?") from e
    return lines, len(paths) - len(kept)


def sketch_to_stroke3(lines: list[np.ndarray], epsilon: float = 5.0,
                      name: str | None = None) -> np.ndarray | None:
    """RDP then stroke-3; None for a sketch with fewer than two points."""
    lines = strokes.rdp(lines, epsilon)
    if sum(len(line) for line in lines) < 2:
        return None
    return strokes.polylines_to_stroke3(lines, name)


def fit_photo(photo: Image.Image, original_size: tuple[int, int], bbox: tuple, size: int,
              name: str) -> np.ndarray:
    """Crops a photo to its object's box and fits it, centred, on a black square.

    Args:
      photo: the photo as distributed (any size: it is a resize of the original).
      original_size: ``(width, height)`` of the original ImageNet photo.
      bbox: ``(x, y, width, height)`` of the object in the original.
      size: side of the output.
      name: the photo file, for error messages.

    Returns:
      uint8 ``[size, size, 3]``.
    """
    (width, height), (x, y, w, h) = original_size, bbox
    if min(width, height, w, h) <= 0:
        raise DataFileError(f"{name}: bad size {original_size} or bounding box {bbox}")
    sx, sy = photo.width / width, photo.height / height  # Original -> distributed pixels.
    scale = min(size / w, size / h)
    out_w, out_h = max(1, int(w * scale)), max(1, int(h * scale))
    box = (x * sx, y * sy, (x + w) * sx, (y + h) * sy)
    crop = photo.convert("RGB").resize((out_w, out_h), Image.BICUBIC, box=box)
    canvas = Image.new("RGB", (size, size), (0, 0, 0))
    canvas.paste(crop, ((size - out_w) // 2, (size - out_h) // 2))
    return np.asarray(canvas, np.uint8)


def read_photo(path: epath.Path) -> Image.Image:
    """Decodes a photo file, raising ``DataFileError`` naming it if it is unreadable."""
    try:
        image = Image.open(io.BytesIO(path.read_bytes()))
        image.load()
        return image
    except Exception as e:  # PIL raises many types for broken files.
        raise DataFileError(f"{path}: not a readable image ({type(e).__name__}: {e})") from e


def read_stats(path: epath.Path) -> dict[str, tuple[tuple[int, int], tuple[int, ...]]]:
    """``{photo id: ((width, height), (x, y, w, h))}`` from Sketchy's ``info/stats.csv``.

    Columns as read by the authors' ``datasets/sketchy.py``: 2 the photo id
    (``n02691156_10151``), 12-13 the original photo's width and height, 14-17
    the bounding box ``BBox_x, BBox_y, BBox_width, BBox_height``. The first row
    of a photo is used (it has one row per sketch).

    Raises:
      DataFileError: naming the file and line for a short or malformed row.
    """
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    header = next(reader, None)
    if header is None or len(header) < 18 or not all(
            h.strip().lower().startswith("bbox") for h in header[14:18]):
        raise DataFileError(f"{path}:1: expected columns 14-17 BBox_*, got header {header}")
    out = {}
    for number, row in enumerate(reader, start=2):
        try:
            photo = row[2].strip()
            values = tuple(int(float(v)) for v in row[12:18])
            if not _PHOTO_ID.match(photo) or len(values) != 6:
                raise ValueError(photo)
        except (IndexError, ValueError) as e:
            raise DataFileError(f"{path}:{number}: malformed row ({e})") from e
        out.setdefault(photo, (values[:2], values[2:]))
    return out

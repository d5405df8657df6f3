"""KanjiVG stroke-order drawings as stroke-3: the embedded default dataset's source.

KanjiVG (Ulrich Apel and contributors, CC BY-SA 3.0, https://kanjivg.tagaini.net)
draws each kanji as SVG centre-lines, one ``<path>`` per stroke in stroke order,
inside a 109 x 109 box. The ``kanjivg`` package on PyPI installs those files
(``kanji/<codepoint>[-<variant>].svg``, about 11.7k files) with this project,
so the default dataset can be built offline on a fresh machine.

Each path is parsed with ``svgpathtools``, sampled densely (about one point per
``sample_step`` units along each Bezier segment), simplified with RDP
(``epsilon`` units, 1.0 by default) and converted to stroke-3 in the SVG's own
units (x right, y down).

Example:
  >>> path = sorted(kanjivg_files())[0]
  >>> drawing = load_drawing(path)
  >>> drawing.label, drawing.stroke3.shape[1]
  ('!', 3)
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import pathlib
import xml.etree.ElementTree as ET
from typing import Iterator

import numpy as np
import svgpathtools

from sketchembednet.data import strokes

SVG_NS = "{http://www.w3.org/2000/svg}"
BOX_SIZE = 109.0  # KanjiVG's viewBox is 0 0 109 109.


@dataclasses.dataclass(frozen=True)
class Drawing:
    """One KanjiVG drawing.

    Attributes:
      id: the file stem, e.g. ``"04e00"`` or ``"04e14-Kaisho"``.
      label: the character, e.g. ``"一"``.
      variant: the variant name after the dash (``"Kaisho"``), or ``""``.
      stroke3: float32 ``[L, 3]`` in KanjiVG units.
    """

    id: str
    label: str
    variant: str
    stroke3: np.ndarray


def kanjivg_dir() -> pathlib.Path:
    """Returns the ``kanji/`` folder installed by the ``kanjivg`` package.

    Raises:
      FileNotFoundError: if the package is not installed.
    """
    try:
        dist = importlib.metadata.distribution("kanjivg")
    except importlib.metadata.PackageNotFoundError as e:
        raise FileNotFoundError(
            "the 'kanjivg' package is not installed; `pip install kanjivg==20260714` "
            "(it is a dependency of sketchembednet)"
        ) from e
    path = pathlib.Path(str(dist.locate_file("kanji")))
    if not path.is_dir():
        raise FileNotFoundError(f"kanjivg is installed but {path} is not a folder")
    return path


def kanjivg_files(root: os.PathLike | None = None) -> list[pathlib.Path]:
    """All ``*.svg`` files of a KanjiVG ``kanji/`` folder, sorted by name."""
    root = pathlib.Path(root) if root is not None else kanjivg_dir()
    return sorted(root.glob("*.svg"))


def parse_id(stem: str) -> tuple[str, str]:
    """Splits a KanjiVG file stem into ``(character, variant)``.

    Raises:
      ValueError: if the stem does not start with a hexadecimal code point.
    """
    code, _, variant = stem.partition("-")
    try:
        return chr(int(code, 16)), variant
    except ValueError as e:
        raise ValueError(f"{stem!r} is not a KanjiVG file name (<hex codepoint>[-variant])") from e


def _sample_path(d: str, sample_step: float) -> np.ndarray:
    """Samples an SVG path string densely into points ``[n, 2]``."""
    path = svgpathtools.parse_path(d)
    pieces = []
    for seg in path:
        control = np.array([complex(p) for p in seg.bpoints()])  # Bezier control points
        if not np.all(np.isfinite(control)):
            raise ValueError(f"non-finite coordinate in {control.tolist()}")
        with np.errstate(over="ignore", invalid="ignore"):
            approx_len = float(np.sum(np.abs(np.diff(control))))  # >= the arc length
        if not np.isfinite(approx_len):
            raise ValueError(f"non-finite length of the segment {control.tolist()}")
        n = max(2, int(np.ceil(approx_len / sample_step)) + 1)
        ts = np.linspace(0.0, 1.0, n)
        pts = np.asarray(seg.points(ts)) if hasattr(seg, "points") else np.array([seg.point(t) for t in ts])
        pieces.append(pts if not pieces else pts[1:])
    z = np.concatenate(pieces)  # complex [n]
    return np.stack([z.real, z.imag], axis=1)


def svg_polylines(text: str, name: str, sample_step: float = 0.5) -> list[np.ndarray]:
    """Parses the stroke paths of one KanjiVG SVG into polylines, in stroke order.

    Args:
      text: the SVG document.
      name: the file name, for error messages.
      sample_step: approximate spacing of the sampled points, in SVG units.

    Raises:
      strokes.StrokeFormatError: naming the file and path, for malformed XML, a
        bad path (e.g. a non-finite coordinate), or no strokes.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise strokes.StrokeFormatError(f"{name}: malformed SVG: {e}") from e
    lines = []
    for elem in root.iter(f"{SVG_NS}path"):
        d = elem.get("d")
        if not d:
            continue
        try:
            lines.append(_sample_path(d, sample_step))
        except Exception as e:  # svgpathtools raises bare ValueError/IndexError.
            raise strokes.StrokeFormatError(f"{name}: cannot parse path {elem.get('id')!r}: {e}") from e
    if not lines:
        raise strokes.StrokeFormatError(f"{name}: no <path> strokes found")
    return lines


def load_drawing(path: os.PathLike, epsilon: float = 1.0, text: str | None = None) -> Drawing:
    """Reads one KanjiVG SVG file as a :class:`Drawing` (RDP with ``epsilon``).

    Args:
      path: the ``.svg`` file (its stem gives the id and the character).
      epsilon: RDP tolerance in KanjiVG units (the box is 109 units wide).
      text: the file's contents, if already read.

    Raises:
      strokes.StrokeFormatError: naming the file, for a malformed drawing.
    """
    path = pathlib.Path(path)
    label, variant = parse_id(path.stem)
    if text is None:
        text = path.read_text(encoding="utf-8")
    lines = strokes.rdp(svg_polylines(text, str(path)), epsilon)
    return Drawing(path.stem, label, variant, strokes.polylines_to_stroke3(lines, str(path)))


def iter_drawings(root: os.PathLike | None = None, epsilon: float = 1.0) -> Iterator[Drawing]:
    """Yields every drawing of a KanjiVG folder (default: the installed one)."""
    for path in kanjivg_files(root):
        yield load_drawing(path, epsilon)

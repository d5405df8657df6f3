"""Make Me a Hanzi stroke medians (npm ``hanzi-writer-data``) as stroke-3.

Make Me a Hanzi (Shaunak Kishore, github.com/skishore/makemeahanzi) extracted
the strokes of 9,574 Chinese characters from Arphic's fonts (Arphic Public
License). The npm package ``hanzi-writer-data`` (David Chanin) ships them as
one ``package/<character>.json`` per character in its registry tarball, with
the keys ``strokes`` (SVG outlines), ``medians`` and, for most characters,
``radStrokes``. ``medians`` holds one polyline per stroke, in stroke order,
``[[x, y], ...]`` in a 1024-unit box with **y pointing up** (x 0..1024, y
-124..900); here y is flipped to image coordinates (``y' = 900 - y``, x right,
y down). A point outside that box, or not finite, is an error naming the member
(release 2.0.1 spans x 18..1014, y -96..885).

Conversion: per stroke RDP (``epsilon`` in the 1024-unit box), then stroke-3
``(dx, dy, pen_lifted)``, un-normalised. A character with fewer than two points
in all is degenerate (:func:`to_stroke3` returns None). Malformed input raises
:class:`~sketchembednet.data.errors.DataFileError` naming the tarball and member.

Example:
  >>> text = '{"medians": [[[100, 500], [900, 500]], [[500, 800], [500, 100]]]}'
  >>> lines = parse_medians(text, "package/十.json")
  >>> lines[1].tolist()  # The vertical stroke, drawn downwards in image space.
  [[500.0, 100.0], [500.0, 800.0]]
  >>> to_stroke3(lines, epsilon=12.0).tolist()
  [[800.0, 0.0, 1.0], [-400.0, -300.0, 0.0], [0.0, 700.0, 1.0]]
  >>> code_point_id("一")
  'U+4E00'
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import math
import tarfile
import zlib

import numpy as np
from etils import epath

from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError

PACKAGE_VERSION = "2.0.1"
TARBALL_NAME = f"hanzi-writer-data-{PACKAGE_VERSION}.tgz"
TARBALL_URL = f"https://registry.npmjs.org/hanzi-writer-data/-/{TARBALL_NAME}"
BOX_SIZE = 1024.0  # Side of the Make Me a Hanzi coordinate box.
Y_FLIP = 900.0  # y' = Y_FLIP - y maps the font's y-up frame to image coordinates.
MEMBER_PREFIX = "package/"


@dataclasses.dataclass(frozen=True)
class HanziDrawing:
    """One character's stroke medians.

    Attributes:
      character: the character, e.g. ``"一"``.
      member: the tar member it was read from, e.g. ``"package/一.json"``.
      polylines: one float64 ``[n_i, 2]`` array per stroke, in stroke order, in
        image coordinates (x right, y down), not simplified.
    """

    character: str
    member: str
    polylines: list

    @property
    def id(self) -> str:
        """The code point, e.g. ``"U+4E00"``."""
        return code_point_id(self.character)

    @property
    def num_strokes(self) -> int:
        """Strokes in the character (entries of ``medians``)."""
        return len(self.polylines)


def code_point_id(character: str) -> str:
    """``"U+XXXX"`` (at least 4 upper-case hex digits) of a one-character string."""
    if len(character) != 1:
        raise ValueError(f"expected one character, got {character!r}")
    return f"U+{ord(character):04X}"


def character_of_member(name: str) -> str | None:
    """The character of a ``package/<character>.json`` member name, else None.

    Example:
      >>> character_of_member("package/永.json"), character_of_member("package/package.json")
      ('永', None)
    """
    if not (name.startswith(MEMBER_PREFIX) and name.endswith(".json")):
        return None
    stem = name[len(MEMBER_PREFIX) : -len(".json")]
    return stem if len(stem) == 1 else None


def _point(value, where: str) -> tuple[float, float]:
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        raise DataFileError(f"{where}: bad point {value!r} (expected [x, y], two finite numbers)")
    x, y = float(value[0]), Y_FLIP - float(value[1])
    if not (0.0 <= x <= BOX_SIZE and 0.0 <= y <= BOX_SIZE):
        raise DataFileError(f"{where}: point {value!r} is outside the 1024-unit box "
                            f"(x 0..1024, y {Y_FLIP - BOX_SIZE:g}..{Y_FLIP:g})")
    return x, y


def parse_medians(text: str | bytes, name: str) -> list[np.ndarray]:
    """Parses one character's JSON into image-space polylines, one per stroke.

    Args:
      text: the member's JSON document.
      name: the tarball and member, for error messages.

    Returns:
      list of float64 ``[n_i, 2]`` arrays (y flipped: ``y' = 900 - y``).

    Raises:
      DataFileError: naming ``name`` for malformed JSON, a missing or non-list
        ``medians``, a stroke that is not a list of points, or a bad point (not
        two finite numbers, or outside the 1024-unit box).
    """
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataFileError(f"{name}: malformed JSON ({e}); is the file truncated?") from e
    if not isinstance(record, dict) or "medians" not in record:
        keys = sorted(record) if isinstance(record, dict) else type(record).__name__
        raise DataFileError(f"{name}: no 'medians' key (found {keys})")
    medians = record["medians"]
    if not isinstance(medians, list):
        raise DataFileError(f"{name}: 'medians' must be a list of strokes, "
                            f"got {type(medians).__name__}")
    lines = []
    for i, stroke in enumerate(medians):
        if not isinstance(stroke, list):
            raise DataFileError(f"{name}: medians[{i}] must be a list of [x, y] points, "
                                f"got {type(stroke).__name__}")
        points = [_point(p, f"{name}: medians[{i}][{j}]") for j, p in enumerate(stroke)]
        lines.append(np.array(points, np.float64).reshape(-1, 2))
    return lines


def to_stroke3(polylines: list[np.ndarray], epsilon: float,
               name: str | None = None) -> np.ndarray | None:
    """RDP (``epsilon`` units of the 1024 box) per stroke, then stroke-3.

    Returns:
      float32 ``[L, 3]``, or None for a degenerate character (fewer than two
      points in all). Empty strokes are skipped; a one-point stroke is kept as a
      pen-up move to that point (there is none in release 2.0.1).
    """
    if sum(len(line) for line in polylines) < 2:
        return None
    return strokes.polylines_to_stroke3(strokes.rdp(polylines, epsilon), name)


def read_tarball(path: epath.PathLike) -> tuple[list[HanziDrawing], int]:
    """Reads every ``package/<character>.json`` of a hanzi-writer-data tarball.

    The ``.tgz`` is read in place (no extraction). Other members (``package.json``,
    ``README.md``, licence files, ...) are ignored and counted.

    Returns:
      ``(drawings sorted by character, number of ignored members)``.

    Raises:
      DataFileError: naming the tarball if it is not a readable ``.tgz``, holds
        no character or a character twice; naming the member too for a
        malformed character file.
    """
    drawings, ignored = {}, 0
    try:
        with epath.Path(path).open("rb") as f, gzip.GzipFile(fileobj=f) as gz, \
                tarfile.open(fileobj=gz, mode="r:") as archive:
            for member in archive:
                character = character_of_member(member.name)
                if character is None or not member.isfile():
                    ignored += 1
                    continue
                where = f"{path}: {member.name}"
                if character in drawings:
                    raise DataFileError(f"{where}: character {character!r} appears twice")
                text = archive.extractfile(member).read()
                drawings[character] = HanziDrawing(character, member.name,
                                                   parse_medians(text, where))
            while gz.read(1 << 20):  # To the end: a truncated or corrupt .tgz raises here
                pass  # (tarfile alone stops quietly at a cut between members).
    except (tarfile.TarError, EOFError, zlib.error, OSError) as e:
        raise DataFileError(f"{path}: not a readable .tgz file ({type(e).__name__}: {e}); "
                            "is it truncated?") from e
    if not drawings:
        raise DataFileError(f"{path}: no {MEMBER_PREFIX}<character>.json members: not a "
                            "hanzi-writer-data tarball")
    return [drawings[c] for c in sorted(drawings)], ignored

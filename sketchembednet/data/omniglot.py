"""Omniglot (Lake et al., Science 2015) images and online strokes from the official zips.

The official archives (github.com/brendenlake/omniglot, ``python/``) come in
pairs, ``images_<set>.zip`` and ``strokes_<set>.zip`` (``<set>`` is
``background``, ``evaluation``, ``background_small1`` or ``background_small2``),
with the same layout: ``<top>/<Alphabet>/characterNN/<id>_<drawer>.png`` (105 x
105, 1-bit) and ``... .txt``, where ``<id>`` is the global character number
(1..1623) and ``<drawer>`` the drawing number (1..20). A stroke file holds
``START``, then ``x,y,t_ms`` lines, each stroke ended by ``BREAK``; y grows
upwards (it is negative), so it is negated here to image coordinates.

Conversion to stroke-3 (as in SketchEmbedNet's ``util/fs_omniglot_utils.py``):
y negated, RDP (epsilon 2.0, image pixels) per stroke, a stroke reduced to one
point becomes a short segment ``(x - 0.5, y) -> (x + 0.5, y)`` so that it is
drawn, then stroke-3 (un-normalised; the builder records the scale).

Example:
  >>> lines = parse_strokes("START\\n1,-2,0\\n4,-6,10\\nBREAK\\n", "0001_01.txt")
  >>> lines[0].tolist()
  [[1.0, 2.0], [4.0, 6.0]]
  >>> to_stroke3(lines, epsilon=2.0).tolist()
  [[3.0, 4.0, 1.0]]
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
import zlib
from typing import Iterator

import numpy as np
from etils import epath
from PIL import Image

from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError

BASE_URL = "https://github.com/brendenlake/omniglot/raw/master/python/"
IMAGE_SIZE = 105  # Side of the original PNGs.
NUM_CHARACTERS = 1623  # Global character ids are 1..1623 (964 background + 659 evaluation).
_PATH = re.compile(r"^[^/]+/(?P<alphabet>[^/]+)/(?P<character>character\d+)/"
                   r"(?P<char_id>\d+)_(?P<drawer>\d+)\.(?P<ext>png|txt)$")


def archive_url(kind: str, subset: str) -> str:
    """URL of an official zip, e.g. ``archive_url("strokes", "background_small1")``."""
    return f"{BASE_URL}{kind}_{subset}.zip"


@dataclasses.dataclass(frozen=True)
class OmniglotDrawing:
    """One drawing: a character by one drawer, with its image and strokes.

    Attributes:
      alphabet: folder name, e.g. ``"Greek"``.
      character: folder name, e.g. ``"character07"``.
      char_id: global character id, 1..1623.
      drawer: drawing number, 1..20.
      png: the PNG file's bytes (decoded by :attr:`image`).
      png_name: ``<zip>: <member>`` of the PNG, for error messages.
      polylines: raw strokes in image coordinates (y down), before RDP.
    """

    alphabet: str
    character: str
    char_id: int
    drawer: int
    png: bytes
    png_name: str
    polylines: list

    @property
    def key(self) -> str:
        """``<alphabet>/<character>/<id>_<drawer>``: unique, and free of local paths."""
        return f"{self.alphabet}/{self.character}/{self.char_id:04d}_{self.drawer:02d}"

    @property
    def image(self) -> np.ndarray:
        """uint8 ``[105, 105, 1]`` (255 background, 0 ink), decoded on each access."""
        return decode_png(self.png, self.png_name)


def parse_strokes(text: str, name: str) -> list[np.ndarray]:
    """Parses an Omniglot stroke file into polylines ``[n_i, 2]`` (y negated).

    Raises:
      DataFileError: naming ``file:line`` for a missing ``START``, a malformed
        point line, or a last stroke without ``BREAK`` (a truncated file).
    """
    lines = [line.strip() for line in text.splitlines()]
    if not lines or lines[0] != "START":
        raise DataFileError(f"{name}:1: expected START")
    out, first = [], 1  # first: index of the current stroke's first line.
    for index, line in enumerate(lines[1:], start=1):
        if line == "BREAK":
            if index > first:
                out.append(_parse_points(lines[first:index], first, name))
            first = index + 1
    if any(lines[first:]):
        raise DataFileError(f"{name}:{len(lines)}: last stroke has no BREAK (truncated file?)")
    return out


def _parse_points(lines: list[str], offset: int, name: str) -> np.ndarray:
    """``x,y,t`` lines (``offset``: index of the first) as ``[n, 2]`` points ``(x, -y)``."""
    try:
        values = np.array(",".join(lines).split(","), dtype=np.float64)
    except ValueError:
        values = np.zeros(0)
    if values.size != 3 * len(lines) or not np.all(np.isfinite(values)):
        for number, line in enumerate(lines, start=offset + 1):
            parts = line.split(",")
            try:
                if len(parts) != 3 or not all(np.isfinite([float(v) for v in parts])):
                    raise ValueError
            except ValueError:
                raise DataFileError(f"{name}:{number}: expected 'x,y,t', got {line!r}") from None
    return values.reshape(-1, 3)[:, :2] * np.array([1.0, -1.0])  # [n, 2]


def to_stroke3(polylines: list[np.ndarray], epsilon: float = 2.0,
               name: str | None = None) -> np.ndarray | None:
    """RDP, one-point strokes widened to a drawable segment, then stroke-3.

    Returns:
      float32 ``[L, 3]``, or None for a drawing with no points.
    """
    lines = []
    for line in strokes.rdp(polylines, epsilon):
        if len(line) == 1:
            line = line + np.array([[-0.5, 0.0], [0.5, 0.0]])
        lines.append(line)
    if not lines:
        return None
    return strokes.polylines_to_stroke3(lines, name)


def rotate_stroke3(stroke3: np.ndarray, degrees: int) -> np.ndarray:
    """Rotates a stroke-3 counter-clockwise *as displayed* (x right, y down).

    Matches ``np.rot90(image, degrees // 90)`` of a rendering: a quarter turn maps
    an offset ``(dx, dy)`` to ``(dy, -dx)``.
    """
    if degrees % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {degrees}")
    out = np.array(stroke3, np.float32, copy=True)
    for _ in range((degrees // 90) % 4):
        out[:, :2] = np.stack([out[:, 1], -out[:, 0]], axis=1)
    return out


def decode_png(data: bytes, name: str) -> np.ndarray:
    """A 105 x 105 Omniglot PNG as uint8 ``[105, 105, 1]`` (255 background, 0 ink)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            array = np.asarray(image.convert("L"), np.uint8)
    except Exception as e:  # PIL raises many types for broken files.
        raise DataFileError(f"{name}: not a readable PNG ({type(e).__name__}: {e})") from e
    if array.shape != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataFileError(f"{name}: image is {array.shape}, expected 105 x 105")
    return array[:, :, None]


def _members(archive: zipfile.ZipFile, zip_name: str, ext: str) -> tuple[dict, int]:
    """``({path without top folder and extension: member}, ignored count)``."""
    found, ignored = {}, 0
    for member in archive.namelist():
        match = _PATH.match(member)
        if match and match["ext"] == ext:
            found[member.split("/", 1)[1].rsplit(".", 1)[0]] = member
        elif member.endswith("/") or "__MACOSX/" in member or member.endswith(".DS_Store"):
            ignored += 1
        else:
            raise DataFileError(f"{zip_name}: unexpected member {member!r}")
    return found, ignored


def _open_zip(path: epath.PathLike) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(epath.Path(path).read_bytes()))
    except zipfile.BadZipFile as e:
        raise DataFileError(f"{path}: not a readable zip file ({e})") from e


def read_pair(images_zip: epath.PathLike, strokes_zip: epath.PathLike
              ) -> tuple[Iterator[OmniglotDrawing], int]:
    """Pairs the PNGs and stroke files of one image/stroke zip pair.

    Returns:
      ``(drawings sorted by key, number of ignored folder/macOS entries)``.

    Raises:
      DataFileError: naming the zip (and member) if the archive is corrupt, a
        PNG has no stroke file or vice versa, or a file is malformed.
    """
    images, strokes_archive = _open_zip(images_zip), _open_zip(strokes_zip)
    pngs, ignored_png = _members(images, str(images_zip), "png")
    txts, ignored_txt = _members(strokes_archive, str(strokes_zip), "txt")
    if pngs.keys() != txts.keys():
        only = sorted(pngs.keys() ^ txts.keys())
        raise DataFileError(f"{images_zip} / {strokes_zip}: {len(only)} drawings are in only "
                            f"one of the two archives, e.g. {only[:3]}")
    if not pngs:
        raise DataFileError(f"{images_zip}: no <alphabet>/characterNN/<id>_<drawer>.png files")

    def generate():
        for key in sorted(pngs):
            yield _drawing(images, pngs[key], strokes_archive, txts[key], images_zip, strokes_zip)

    return generate(), ignored_png + ignored_txt


def _read_member(archive, member, zip_name) -> bytes:
    """A member's bytes; DataFileError naming the zip and member if they are corrupt
    (bad CRC, truncation, or deflate data that does not decompress: ``zlib.error``)."""
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as e:
        raise DataFileError(f"{zip_name}: member {member} is corrupt ({e})") from e


def _drawing(images, png, strokes_archive, txt, images_zip, strokes_zip) -> OmniglotDrawing:
    match = _PATH.match(png)
    char_id, drawer = int(match["char_id"]), int(match["drawer"])
    if not 1 <= char_id <= NUM_CHARACTERS:
        raise DataFileError(f"{images_zip}: {png}: character id {char_id} is not in 1..1623")
    try:
        text = _read_member(strokes_archive, txt, strokes_zip).decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise DataFileError(f"{strokes_zip}: {txt}: not a text stroke file ({e})") from e
    return OmniglotDrawing(
        alphabet=match["alphabet"], character=match["character"], char_id=char_id,
        drawer=drawer, png=_read_member(images, png, images_zip), png_name=f"{images_zip}: {png}",
        polylines=parse_strokes(text, f"{strokes_zip}: {txt}"),
    )

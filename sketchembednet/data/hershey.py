"""The Hershey vector fonts as stroke-3 drawings: the ``hershey`` dataset's source.

A. V. Hershey digitised his fonts (NWL Report 2101, 1967) as polylines on an
integer grid. The ``Hershey-Fonts`` package (2.1.0, MIT; installed with this
project, so the dataset builds offline) embeds 32 of them as ``.jhf`` text, a
bzip2 tar of files named after the font. One ``.jhf`` record is one glyph::

    12345  9MWRFRT RRYQZR[SZRY
    glyph number (12345: unknown), vertex count (with the margins), margins "MW",
    then (x, y) character pairs; " R" lifts the pen.

A coordinate is ``ord(char) - ord("R")``, x right and **y down** (capitals span
y = -12 to 9), so glyphs are upright in image coordinates: nothing is flipped.
``#`` lines (the package's JSON cap/base lines) are skipped. As in the package,
glyph ``i`` of a file is typed by ``chr(32 + i)``. Hence (:func:`character_of`,
:func:`label_name`):

* ``character``: the visible ASCII character of the slot (``"A"``), else the id
  ``"#<index>"`` (space, slots past ``~``, and all of ``japanese``, whose 193
  glyphs are only numbered). In the 18 :data:`LATIN_FONTS` it is the character
  drawn; in Greek, Cyrillic and symbol fonts, the key, as in a Symbol font.
* ``label``: the character in Latin fonts (``"A"``: one class drawn in 18
  fonts), ``"<font>/<character>"`` otherwise (``"greek/a"``).
* ``id``: ``"<font>/<index>"``, unique.

Example:
  >>> glyph = load_fonts()["futural"][33]  # the slot of "A"
  >>> glyph.id, glyph.character, glyph.label, len(glyph.polylines)
  ('futural/33', 'A', 'A', 3)
  >>> to_stroke3(glyph, epsilon=0.5).shape
  (5, 3)
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import io
import os
import pathlib
import tarfile

import numpy as np

from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError

PACKAGE = "Hershey-Fonts"
FIRST_CODE = 32  # The package keys glyph i of a font by chr(32 + i).
# Font -> number of glyph slots in Hershey-Fonts 2.1.0 (3,170 in all).
FONTS = {
    **dict.fromkeys(
        "astrology cursive cyrilc_1 cyrillic futural futuram gothgbt gothgrt gothiceng gothicger "
        "gothicita gothitt greek greekc greeks mathlow mathupp meteorology music rowmand rowmans "
        "rowmant scriptc scripts symbolic timesg timesi timesib timesr timesrb".split(), 96),
    "japanese": 193, "markers": 97,
}
FONT_NAMES = sorted(FONTS)
# Fonts whose slot characters are the characters drawn (checked by eye).
LATIN_FONTS = frozenset(
    "cursive futural futuram gothgbt gothgrt gothiceng gothicger gothicita gothitt rowmand "
    "rowmans rowmant scriptc scripts timesi timesib timesr timesrb".split())
_UNNUMBERED = frozenset({"japanese"})  # Slots are a count, not characters.


@dataclasses.dataclass(frozen=True)
class Glyph:
    """One glyph of a font.

    Attributes:
      font: the font name, e.g. ``"futural"``.
      index: the glyph's position in the font file, 0-based (its slot).
      number: the Hershey glyph number in the file (12345 when unknown).
      polylines: float64 ``[n_i, 2]`` arrays in font units, y down; ``[]`` if empty.
      character, label, id: see the module docstring.

    Example:
      >>> g = Glyph("greek", 65, 12345, [np.array([[0.0, -12.0], [0.0, 9.0]])])
      >>> g.id, g.character, g.label
      ('greek/65', 'a', 'greek/a')
    """

    font: str
    index: int
    number: int
    polylines: list

    @property
    def character(self) -> str:
        return character_of(self.font, self.index)

    @property
    def label(self) -> str:
        return label_name(self.font, self.character)

    @property
    def id(self) -> str:
        return f"{self.font}/{self.index}"


def character_of(font: str, index: int) -> str:
    """The character of slot ``index``: visible ASCII, else the id ``#<index>``.

    >>> character_of("futural", 33), character_of("futural", 0), character_of("japanese", 33)
    ('A', '#0', '#33')
    """
    code = FIRST_CODE + index
    if font in _UNNUMBERED or not 33 <= code <= 126:
        return f"#{index}"
    return chr(code)


def label_name(font: str, character: str) -> str:
    """The class of a glyph: shared across Latin fonts, per font otherwise.

    >>> label_name("timesr", "A"), label_name("greek", "A")
    ('A', 'greek/A')
    """
    return character if font in LATIN_FONTS else f"{font}/{character}"


def label_names() -> list[str]:
    """Every class name of the 32 packaged fonts, sorted (the ClassLabel order).

    >>> names = label_names()
    >>> len(names), names[:3]
    (1538, ['!', '"', '#'])
    """
    return sorted({label_name(f, character_of(f, i))
                   for f, n in FONTS.items() for i in range(n)})


def _value(char: str, where: str) -> int:
    if not " " <= char <= "~":
        raise DataFileError(f"{where}: coordinate character {char!r} outside ' '..'~'")
    return ord(char) - ord("R")


def parse_glyph(line: str, where: str) -> tuple[int, list[np.ndarray]]:
    """Parses one ``.jhf`` glyph record into ``(glyph number, polylines)``.

    ``where`` (``file:line`` and glyph) starts error messages. Empty strokes are
    left out of the polylines (float64 ``[n_i, 2]``).

    Example:
      >>> number, lines = parse_glyph("  501  6JZRFRT RRYQZ", "futural:2")
      >>> number, [line.tolist() for line in lines]
      (501, [[[0.0, -12.0], [0.0, 2.0]], [[0.0, 7.0], [-1.0, 8.0]]])

    Raises:
      DataFileError: naming ``where`` for a bad header, a vertex count that does
        not match the data, or a coordinate outside the printable range.
    """
    try:
        number, count = int(line[0:5]), int(line[5:8])
    except ValueError:
        raise DataFileError(f"{where}: expected a 5-digit glyph number and a 3-digit vertex "
                            f"count, got {line[:8]!r}") from None
    data = line[10:]
    if count < 1 or len(line) < 10 or len(data) != 2 * (count - 1):
        raise DataFileError(f"{where}: vertex count {count} needs {2 * max(count - 1, 0)} "
                            f"coordinate characters after the margins, got {len(data)}")
    lines, current = [], []
    for j in range(0, len(data), 2):
        pair = data[j : j + 2]
        if pair == " R":
            lines.append(current)
            current = []
        else:
            current.append((_value(pair[0], where), _value(pair[1], where)))
    lines.append(current)
    return number, [np.asarray(p, np.float64) for p in lines if p]


def parse_jhf(text: str, font: str, name: str | None = None) -> list[Glyph]:
    """Parses a ``.jhf`` font into its glyphs, in file order (empty ones too).

    ``font`` names the glyphs' font, ``name`` the file in errors (default: ``font``).
    A record longer than one line (as in files wrapped at 72 columns) is joined
    with the following lines until its vertex count is met.

    Example:
      >>> glyphs = parse_jhf("#{}\\n12345  1JZ\\n12345  3JZRFRT\\n", "futural")
      >>> [(g.character, len(g.polylines)) for g in glyphs]
      [('#0', 0), ('!', 1)]

    Raises:
      DataFileError: ``"<name>:<line>: ..."`` for a malformed or truncated record.
    """
    name = name or font
    rows = text.splitlines()
    glyphs, i = [], 0
    while i < len(rows):
        start, line = i + 1, rows[i]
        i += 1
        if not line.strip() or line.startswith("#"):
            continue
        count = line[5:8].strip()
        need = 10 + 2 * (int(count) - 1) if count.isdigit() else 0
        while len(line) < need and i < len(rows):  # The count says the record goes on.
            line, i = line + rows[i], i + 1
        where = f"{name}:{start} (glyph {len(glyphs)} of {font})"
        number, polylines = parse_glyph(line, where)
        glyphs.append(Glyph(font, len(glyphs), number, polylines))
    if not glyphs:
        raise DataFileError(f"{name}: no glyph records (is this a .jhf file?)")
    return glyphs


def package_version() -> str:
    """The installed Hershey-Fonts version (FileNotFoundError if absent)."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError as e:
        raise FileNotFoundError(f"the '{PACKAGE}' package is not installed; `pip install "
                                f"{PACKAGE}==2.1.0` (a dependency of sketchembednet)") from e


def package_font_texts() -> dict[str, str]:
    """The ``.jhf`` text of every font embedded in the installed package."""
    package_version()
    from HersheyFonts import HersheyFonts  # Imported late: the check above explains.

    fonts = HersheyFonts()
    raw = fonts._HersheyFonts__get_compressed_font_bytes()  # Private; the pin keeps it.
    out = {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
        for name in fonts.default_font_names:
            out[name] = tar.extractfile(name).read().decode("utf-8")
    return out


def directory_font_texts(root: os.PathLike) -> dict[str, str]:
    """The ``<font>.jhf`` files of a folder, keyed by font name."""
    paths = sorted(pathlib.Path(root).glob("*.jhf"))
    if not paths:
        raise FileNotFoundError(f"no Hershey *.jhf files in {root}")
    return {p.stem: p.read_text(encoding="utf-8") for p in paths}


def load_fonts(root: os.PathLike | None = None) -> dict[str, list[Glyph]]:
    """``{font: [Glyph, ...]}`` of the package, or of a folder of ``.jhf`` files.

    Raises:
      DataFileError: for a malformed file; FileNotFoundError: for no fonts.
    """
    texts = package_font_texts() if root is None else directory_font_texts(root)
    where = "Hershey-Fonts package" if root is None else str(root)
    return {f: parse_jhf(t, f, f"{where}/{f}") for f, t in sorted(texts.items())}


def to_stroke3(glyph: Glyph, epsilon: float) -> np.ndarray:
    """RDP-simplifies a glyph (``epsilon`` font units) and converts it to stroke-3.

    Returns:
      float32 ``[L, 3]`` in font units (x right, y down), not normalised.

    Raises:
      strokes.StrokeFormatError: naming the glyph if it has fewer than 2 points.
    """
    return strokes.polylines_to_stroke3(strokes.rdp(glyph.polylines, epsilon), glyph.id)

r"""Writes the synthetic Hershey ``.jhf`` dummy data used by the builder test.

The files follow the format that the ``Hershey-Fonts`` package embeds (one
glyph record a line: 5-digit glyph number, 3-digit vertex count, left/right
margins, then ``x y`` character pairs biased by ``"R"``, ``" R"`` lifting the
pen; a first ``#{json}`` line with the package's cap/base/bottom lines) and use
real font names, but hold random polylines, not Hershey's glyphs. Records longer
than 72 columns are wrapped onto continuation lines, as in some .jhf files.

The glyphs exercise every branch of the builder (slot i is ``chr(32 + i)``):

* ``futural.jhf``: ``' '`` empty; ``'"'`` and ``')'`` validation; ``'$'`` a single
  point (dropped as degenerate); ``'&'`` an 80-corner zigzag (more than 64
  stroke-3 rows: dropped as too long); 5 more train glyphs.
* ``greek.jhf``: ``' '`` empty, ``'!'`` and ``'#'`` train, ``'"'`` validation.
* ``japanese.jhf``: 3 train glyphs (ids ``#0``, ``#1``, ``#2``).

So: train 10 examples (12 source glyphs, 1 degenerate, 1 too long), validation 3.

Run from the repository root:

    python tfds_builders/hershey/make_dummy_data.py
"""

import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent / "dummy_data" / "hershey"
HEADER = '#{"define_cap_line": -12, "define_base_line": 9, "define_bottom_line": 16}\n'
WRAP = 72  # Columns of the wrapped records.

# Font -> one entry per slot: "empty", "random", "point" or "zigzag".
FONTS = {
    "futural": ["empty", "random", "random", "random", "point", "random", "zigzag",
                "random", "random", "random"],
    "greek": ["empty", "random", "random", "random"],
    "japanese": ["random", "random", "random"],
}


def encode(v: int) -> str:
    """One coordinate as a .jhf character (biased by "R")."""
    return chr(ord("R") + int(v))


def record(polylines: list, left: int = -10, right: int = 10) -> str:
    """A .jhf glyph record, wrapped at WRAP columns."""
    data = " R".join("".join(encode(x) + encode(y) for x, y in line) for line in polylines)
    line = f"12345{len(data) // 2 + 1:3d}{encode(left)}{encode(right)}{data}"
    return "\n".join(line[i : i + WRAP] for i in range(0, len(line), WRAP)) + "\n"


def glyph(kind: str, rng: np.random.Generator) -> list:
    if kind == "empty":
        return []
    if kind == "point":
        return [[(1, -3)]]
    if kind == "zigzag":  # Corners 20 units high: RDP cannot remove them.
        return [[(-40 + i, -10 if i % 2 else 10) for i in range(80)]]
    return [[tuple(p) for p in rng.integers(-10, 11, size=(rng.integers(2, 7), 2))]
            for _ in range(rng.integers(1, 4))]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.jhf"):
        old.unlink()
    rng = np.random.default_rng(0)
    for font, kinds in FONTS.items():
        text = HEADER + "".join(record(glyph(kind, rng)) for kind in kinds)
        (OUT / f"{font}.jhf").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

r"""Writes the synthetic Omniglot-format dummy data used by the builder tests.

Eight zips in the official layout of github.com/brendenlake/omniglot ``python/``
(``dummy_data/python/{images,strokes}_{background,evaluation,background_small1,
background_small2}.zip``): ``<top>/<Alphabet>/characterNN/<id>_<drawer>.png`` (105 x
105, 1-bit) and ``.txt`` stroke files (``START``, ``x,y,t`` lines with y negative,
``BREAK`` after each stroke), plus folder, ``.DS_Store`` and ``__MACOSX`` entries as
in the real zips. The strokes are random scribbles, not Omniglot drawings; each
PNG is drawn from its own strokes.

Characters (3 drawers each), chosen to cover every split rule:

* background: Greek/character01-02, Hebrew/character01 (Vinyals validation),
  Latin/character01; small1 = Greek + Hebrew, small2 = Greek + Latin;
* evaluation: Gurmukhi/character41 (Vinyals train), Gurmukhi/character42 and
  Tengwar/character01 (Vinyals test).

Special drawings: Greek/character02 drawer 3 is a 130-corner zigzag (more than 120
rows: dropped), Latin/character01 drawer 3 has no points (dropped as degenerate),
Hebrew/character01 drawer 1 has a one-point stroke (kept as a dot).

Run from the repository root:

    python tfds_builders/omniglot_strokes/make_dummy_data.py
"""

import io
import pathlib
import zipfile

import numpy as np
from PIL import Image, ImageDraw

OUT = pathlib.Path(__file__).resolve().parent / "dummy_data" / "python"
DRAWERS = 3
# (set, alphabet, character folder, global character id)
CHARACTERS = [
    ("background", "Greek", "character01", 401),
    ("background", "Greek", "character02", 402),
    ("background", "Hebrew", "character01", 501),
    ("background", "Latin", "character01", 601),
    ("evaluation", "Gurmukhi", "character41", 1101),
    ("evaluation", "Gurmukhi", "character42", 1102),
    ("evaluation", "Tengwar", "character01", 1501),
]
SMALL = {"background_small1": ("Greek", "Hebrew"), "background_small2": ("Greek", "Latin")}
LONG = ("Greek", "character02", 3)
EMPTY = ("Latin", "character01", 3)
DOT = ("Hebrew", "character01", 1)
_DATE = (2015, 10, 21, 12, 0, 0)  # Fixed zip timestamps: reruns give identical files.


def polylines(rng: np.random.Generator, alphabet: str, character: str, drawer: int) -> list:
    """Strokes in image coordinates (x right, y down) inside the 105 box."""
    if (alphabet, character, drawer) == LONG:
        return [np.array([[5 + 0.7 * i, 20 if i % 2 else 85] for i in range(130)])]
    if (alphabet, character, drawer) == EMPTY:
        return []
    lines = []
    for _ in range(rng.integers(1, 4)):
        start = rng.uniform(20, 85, size=2)
        steps = rng.normal(0, 6, size=(rng.integers(3, 15), 2))
        lines.append(np.clip(start + np.cumsum(steps, axis=0), 2, 103))
    if (alphabet, character, drawer) == DOT:
        lines.append(np.array([[50.0, 50.0]]))
    return lines


def stroke_text(lines: list) -> str:
    rows, t = ["START"], 0
    for line in lines:
        for x, y in line:
            rows.append(f"{x:.6f},{-y:.6f},{t}")
            t += 17
        rows.append("BREAK")
    return "\n".join(rows)


def png_bytes(lines: list) -> bytes:
    image = Image.new("1", (105, 105), 1)
    draw = ImageDraw.Draw(image)
    for line in lines:
        points = [tuple(p) for p in line]
        draw.line(points if len(points) > 1 else points * 2, fill=0, width=2)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def write_zip(path: pathlib.Path, top: str, files: dict) -> None:
    """Writes ``files`` ({relative path: bytes}) under ``top/``, with macOS clutter."""
    entries = {f"{top}/": b"", f"{top}/.DS_Store": b"\0" * 16, "__MACOSX/": b"",
               f"__MACOSX/{top}/._.DS_Store": b"\0" * 8}
    for rel in sorted(files):
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            entries.setdefault(f"{top}/{'/'.join(parts[:depth])}/", b"")
        entries[f"{top}/{rel}"] = files[rel]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_DATE), data)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.zip"):
        old.unlink()
    rng = np.random.default_rng(0)
    drawings = {}  # (set, alphabet, character, stem) -> strokes
    for subset, alphabet, character, char_id in CHARACTERS:
        for drawer in range(1, DRAWERS + 1):
            stem = f"{char_id:04d}_{drawer:02d}"
            drawings[(subset, alphabet, character, stem)] = polylines(
                rng, alphabet, character, drawer)
    subsets = {"background": None, "evaluation": None, **SMALL}
    for subset, alphabets in subsets.items():
        source = subset.split("_")[0]
        chosen = {(a, c, s): lines for (k, a, c, s), lines in drawings.items()
                  if k == source and (alphabets is None or a in alphabets)}
        for kind, ext, encode in (("images", "png", png_bytes), ("strokes", "txt", stroke_text)):
            files = {f"{a}/{c}/{s}.{ext}": encode(lines) for (a, c, s), lines in chosen.items()}
            files = {k: v if isinstance(v, bytes) else v.encode() for k, v in files.items()}
            write_zip(OUT / f"{kind}_{subset}.zip", f"{kind}_{subset}", files)


if __name__ == "__main__":
    main()

r"""Writes the synthetic KanjiVG-format dummy data used by the builder test.

The files follow the real KanjiVG layout (``kanji/<hex codepoint>[-variant].svg``,
109 x 109 viewBox, one ``<path d="M...c...">`` per stroke inside the
``kvg:StrokePaths_*`` group) but hold random Bezier strokes, not KanjiVG's
drawings. One drawing is a long zigzag with more than 64 stroke-3 rows, so the
test sees a sketch dropped by the length cap.

Run from the repository root:

    python tfds_builders/kanjivg/make_dummy_data.py
"""

import pathlib

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent / "dummy_data" / "kanji"

# Code points chosen so both splits are populated (see Builder.split_of):
# 04e09 (三) and 0706b (火) hash to validation, the others to train; 04e8c (二) has
# a Kaisho variant, which must land in the same split.
CHARACTERS = ["04e00", "04e8c", "04e8c-Kaisho", "04e09", "05c71", "05ddd", "06728", "06c34",
              "0706b", "0571f", "091d1", "065e5"]
TOO_LONG = "06708"  # Drawn as a 40-corner zigzag: more than 64 rows after RDP.

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Synthetic test file in the KanjiVG format (not KanjiVG data). -->
<svg xmlns="http://www.w3.org/2000/svg" width="109" height="109" viewBox="0 0 109 109">
<g id="kvg:StrokePaths_{code}" style="fill:none;stroke:#000000;stroke-width:3;">
<g id="kvg:{code}">
"""
FOOTER = "</g>\n</g>\n</svg>\n"


def random_path(rng: np.random.Generator) -> str:
    """One stroke: a move-to and one or two relative cubic Beziers."""
    x, y = rng.uniform(10, 99, size=2)
    parts = [f"M{x:.2f},{y:.2f}"]
    for _ in range(rng.integers(1, 3)):
        c = rng.uniform(-25, 25, size=6)
        parts.append("c" + ",".join(f"{v:.2f}" for v in c))
    return "".join(parts)


def zigzag_path() -> str:
    """A polyline with 80 sharp corners that RDP cannot remove."""
    pts = [f"{10 + i:.1f},{20 if i % 2 else 80}" for i in range(80)]
    return "M" + " L".join(pts)


def write_svg(name: str, paths: list[str]) -> None:
    code = name.split("-")[0]
    body = "".join(f'\t<path id="kvg:{code}-s{i + 1}" d="{d}"/>\n' for i, d in enumerate(paths))
    (OUT / f"{name}.svg").write_text(HEADER.format(code=code) + body + FOOTER, encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.svg"):
        old.unlink()
    rng = np.random.default_rng(0)
    for name in CHARACTERS:
        write_svg(name, [random_path(rng) for _ in range(rng.integers(1, 6))])
    write_svg(TOO_LONG, [zigzag_path()])


if __name__ == "__main__":
    main()

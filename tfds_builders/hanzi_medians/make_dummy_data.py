r"""Writes the synthetic hanzi-writer-data-format dummy tarball used by the builder test.

``dummy_data/hanzi-writer-data-dummy.tgz`` follows the real npm tarball's layout
(``package/<character>.json`` with ``strokes``, ``medians`` and ``radStrokes``,
plus ``package/package.json``, ``README.md``, ``index.js`` and ``ARPHICPL.TXT``)
but its medians are random polylines in the 1024-unit, y-up box (x 0..1024, y
-124..900, as Make Me a Hanzi's), not Make Me a Hanzi's strokes, and its outlines are placeholders. It is deliberately not named
``hanzi-writer-data-2.0.1.tgz``: the builder test uses ``dummy_data/`` as its
manual directory, where that name would be checked against the real sha256.

Characters (see ``Builder.split_of``): 三, 大 and 火 hash to validation, the
others to train; 月 is an 80-segment zigzag (more than 64 rows: dropped), 永 has a
single point (dropped as degenerate), 一 has a float coordinate. So: train 12
characters, 10 kept; validation 3, 3 kept; 4 other members ignored.

Run from the repository root:

    python tfds_builders/hanzi_medians/make_dummy_data.py
"""

import gzip
import io
import json
import pathlib
import tarfile

import numpy as np

OUT = pathlib.Path(__file__).resolve().parent / "dummy_data" / "hanzi-writer-data-dummy.tgz"
CHARACTERS = "一二十人口中山水木日三大火"  # Random strokes.
TOO_LONG = "月"
DEGENERATE = "永"
_MTIME = 499162800  # Fixed timestamps: reruns give identical files.
OTHER_MEMBERS = {
    "package/package.json": json.dumps({"name": "hanzi-writer-data", "version": "0.0.0-dummy"}),
    "package/README.md": "# Synthetic test tarball (not hanzi-writer-data)\n",
    "package/index.js": "module.exports = {};\n",
    "package/ARPHICPL.TXT": "Placeholder for the Arphic Public License text.\n",
}


def random_medians(rng: np.random.Generator) -> list:
    """1-5 strokes of 2-6 integer points each, inside the box (y up)."""
    out = []
    for _ in range(rng.integers(1, 6)):
        start = rng.uniform(150, 850, size=2)
        steps = rng.normal(0, 120, size=(rng.integers(1, 6), 2))
        points = np.clip(start + np.concatenate([[[0, 0]], np.cumsum(steps, axis=0)]),
                         [0, -124], [1023, 900])
        out.append(np.round(points).astype(int).tolist())
    return out


def medians_of(character: str, rng: np.random.Generator) -> list:
    if character == TOO_LONG:
        return [[[100 + 10 * i, 800 if i % 2 else 100] for i in range(81)]]
    if character == DEGENERATE:
        return [[[500, 500]]]
    medians = random_medians(rng)
    if character == "一":
        medians[0][0][0] += 0.5  # The real data has a few float coordinates too.
    return medians


def record(character: str, rng: np.random.Generator) -> str:
    medians = medians_of(character, rng)
    outlines = [f"M {s[0][0]} {s[0][1]} Z" for s in medians]  # Placeholders.
    return json.dumps({"strokes": outlines, "medians": medians, "radStrokes": [0]},
                      ensure_ascii=False)


def add(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), _MTIME, 0o644
    archive.addfile(info, io.BytesIO(data))


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as archive:
        add(archive, "package/package.json", OTHER_MEMBERS["package/package.json"])
        for character in CHARACTERS + TOO_LONG + DEGENERATE:
            add(archive, f"package/{character}.json", record(character, rng))
        for name, text in OTHER_MEMBERS.items():
            if name != "package/package.json":
                add(archive, name, text)
    OUT.write_bytes(buf.getvalue())


if __name__ == "__main__":
    main()

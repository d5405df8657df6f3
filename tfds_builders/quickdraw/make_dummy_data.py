r"""Writes the synthetic Quickdraw-format dummy data used by the builder tests.

Both official formats, for the 45 held-out classes (random scribbles, not
Quickdraw drawings):

* ``dummy_data/sketchrnn/<class>.npz``: keys ``train``/``valid``/``test`` holding
  object arrays of int16 stroke-3 (3/1/1 sketches). As the official files,
  these are pickles (written by NumPy under Python 3, so protocol 3 rather than
  the official files' Python-2 protocol 2; tests/data/quickdraw_test.py reads
  real Python-2 sketch-rnn files from the shared data pack).
* ``dummy_data/simplified/<class>.ndjson``: 4 drawings per class in the
  "simplified" ndjson format (integer points in 0..255), split by key_id hash.

Special cases the tests rely on: the first class has one more train sketch /
one more drawing that is too long (a 70-point zigzag: > 64 rows), the second
class has one empty test sketch / one single-point drawing (dropped as
degenerate), and one drawing is ``"recognized": false``.

Run from the repository root:

    python tfds_builders/quickdraw/make_dummy_data.py
"""

import json
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "dummy_data"
CLASSES = sorted(
    line for line in (HERE / "classes_heldout_45.txt").read_text().splitlines() if line.strip()
)


def random_polylines(rng: np.random.Generator) -> list[np.ndarray]:
    """1-3 strokes of 2-8 integer points inside the 256 box."""
    lines = []
    for _ in range(rng.integers(1, 4)):
        start = rng.integers(20, 236, size=2)
        steps = rng.integers(-30, 31, size=(rng.integers(1, 8), 2))
        lines.append(np.clip(np.concatenate([[start], start + np.cumsum(steps, 0)]), 0, 255))
    return lines


def zigzag() -> list[np.ndarray]:
    """A 70-point polyline: 69 stroke-3 rows, more than the cap of 64."""
    return [np.array([[3 * i, 40 if i % 2 else 200] for i in range(70)])]


def to_stroke3(lines: list[np.ndarray]) -> np.ndarray:
    xy = np.concatenate(lines)
    lift = np.concatenate([np.eye(1, len(line), len(line) - 1)[0] for line in lines])
    return np.column_stack([np.diff(xy, axis=0), lift[1:]]).astype(np.int16)


def object_array(items: list[np.ndarray]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def write_npz(rng: np.random.Generator) -> None:
    folder = OUT / "sketchrnn"
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(CLASSES):
        splits = {key: [to_stroke3(random_polylines(rng)) for _ in range(n)]
                  for key, n in (("train", 3), ("valid", 1), ("test", 1))}
        if index == 0:
            splits["train"].append(to_stroke3(zigzag()))
        if index == 1:
            splits["test"].append(np.zeros((0, 3), np.int16))
        np.savez(folder / f"{name}.npz", **{k: object_array(v) for k, v in splits.items()})


def ndjson_line(name: str, key_id: str, lines: list[np.ndarray], recognized: bool) -> str:
    drawing = [[line[:, 0].tolist(), line[:, 1].tolist()] for line in lines]
    record = {"word": name, "countrycode": "ZZ", "timestamp": "2017-01-01 00:00:00.00000 UTC",
              "recognized": recognized, "key_id": key_id, "drawing": drawing}
    return json.dumps(record, separators=(",", ":"))


def write_ndjson(rng: np.random.Generator) -> None:
    folder = OUT / "simplified"
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(CLASSES):
        drawings = [random_polylines(rng) for _ in range(4)]
        if index == 0:
            drawings.append(zigzag())
        if index == 1:
            drawings.append([np.array([[100, 100]])])
        rows = [ndjson_line(name, str(rng.integers(10**15, 10**16)), lines, recognized=k != 2)
                for k, lines in enumerate(drawings)]
        (folder / f"{name}.ndjson").write_text("\n".join(rows) + "\n", encoding="utf-8")


def main() -> None:
    for old in OUT.glob("*/*"):
        old.unlink()
    write_npz(np.random.default_rng(0))
    write_ndjson(np.random.default_rng(1))


if __name__ == "__main__":
    main()

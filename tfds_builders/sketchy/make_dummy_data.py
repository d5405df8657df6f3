r"""Writes the synthetic Sketchy-format dummy data used by the builder tests.

The extracted layout of the Sketchy archives (see the builder's
MANUAL_DOWNLOAD_INSTRUCTIONS) for 5 of the 125 classes, with synthetic content:
256x256 JPEG photos (black, with the object's bounding box filled with one
colour), SVG sketches of random Bezier strokes, per-class ``checked.txt`` /
``invalid.txt`` and ``info-06-04/info/stats.csv``. Only columns 2 (photo id),
12-13 (original size) and 14-17 (bounding box) of stats.csv are read; the other
column names are placeholders.

Cases (train: airplane, ant, dog; validation: crab, bat):

* airplane n02691156_1: sketch -2 has more than 100 rows (dropped); -3 is in a
  translated group (the transform must be applied);
* airplane n02691156_2: -2 is listed in invalid.txt, -3 is not in checked.txt;
* ant n02219486_1, dog n02103406_1, crab n01981276_3: wnids in excluded_wnids.tsv;
* dog n02106662_7 -2 has a tiny extra path (dropped as shorter than 10%);
* bat n02139199_5 -2 has no drawable points (dropped as degenerate).

Run from the repository root:

    python tfds_builders/sketchy/make_dummy_data.py
"""

import pathlib
import shutil

import numpy as np
from PIL import Image, ImageDraw

OUT = pathlib.Path(__file__).resolve().parent / "dummy_data"
PHOTOS = OUT / "rendered_256x256" / "256x256" / "photo" / "tx_000000000000"
SVGS = OUT / "sketches-06-04" / "sketches"
STATS = OUT / "info-06-04" / "info" / "stats.csv"
HEADER = ("CategoryID,Category,ImageNetID,SketchID,Eraser_Count,Error?,Context?,Ambiguous?,"
          "WrongPose?,Column_9,Column_10,Column_11,Photo_Width,Photo_Height,"
          "BBox_x,BBox_y,BBox_width,BBox_height")
# class -> [(photo id, original (w, h), bbox (x, y, w, h), {sketch number: kind})]
# kinds: normal, long, shifted, short_path, empty; "!" = in invalid.txt; "?" = not checked.
LAYOUT = {
    "airplane": [("n02691156_1", (500, 375), (50, 40, 300, 200),
                  {1: "normal", 2: "long", 3: "shifted"}),
                 ("n02691156_2", (400, 400), (100, 100, 100, 250),
                  {1: "normal", 2: "normal!", 3: "normal?"})],
    "ant": [("n02219486_1", (300, 300), (10, 10, 200, 100), {1: "normal", 2: "normal"})],
    "dog": [("n02103406_1", (320, 240), (0, 0, 320, 240), {1: "normal"}),
            ("n02106662_7", (640, 480), (200, 50, 300, 400), {1: "normal", 2: "short_path"})],
    "crab": [("n01981276_3", (500, 500), (0, 0, 250, 250), {1: "normal"}),
             ("n01978287_4", (256, 256), (30, 60, 180, 120), {1: "normal", 2: "normal"})],
    "bat": [("n02139199_5", (500, 333), (100, 50, 250, 250), {1: "normal", 2: "empty"})],
}


def random_path(rng: np.random.Generator) -> str:
    x, y = rng.uniform(100, 540, size=2)
    parts = [f"M{x:.2f},{y:.2f}"]
    for _ in range(rng.integers(1, 4)):
        c = rng.uniform(-120, 120, size=6)
        parts.append("c" + ",".join(f"{v:.2f}" for v in c))
    return "".join(parts)


def paths_of(kind: str, rng: np.random.Generator) -> tuple[list[str], str]:
    """``(path d strings, transform of their group)``."""
    if kind == "long":  # 150 sharp corners: RDP 5.0 keeps them all.
        return ["M" + " L".join(f"{20 + 4 * i},{100 if i % 2 else 400}" for i in range(150))], ""
    if kind == "empty":
        return ["M300,300 L300,300"], ""
    paths = [random_path(rng) for _ in range(rng.integers(2, 5))]
    if kind == "short_path":
        paths.append("M10,10 l1,1")
    return paths, "translate(40,-30)" if kind == "shifted" else ""


def svg_text(paths: list[str], transform: str) -> str:
    group = f' transform="{transform}"' if transform else ""
    body = "".join(f'<path d="{d}"/>\n' for d in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!-- Synthetic test file in the Sketchy layout (not Sketchy data). -->\n'
            '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">\n'
            f'<g fill="none" stroke="#000000" stroke-width="3"{group}>\n{body}</g>\n</svg>\n')


def write_photo(path: pathlib.Path, size: tuple, bbox: tuple, colour: tuple) -> None:
    image = Image.new("RGB", (256, 256), (0, 0, 0))
    sx, sy = 256 / size[0], 256 / size[1]
    x, y, w, h = bbox
    ImageDraw.Draw(image).rectangle([x * sx, y * sy, (x + w) * sx - 1, (y + h) * sy - 1],
                                    fill=colour)
    image.save(path, format="JPEG", quality=90)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    STATS.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = [HEADER]
    for class_id, (name, photos) in enumerate(LAYOUT.items(), start=1):
        (PHOTOS / name).mkdir(parents=True)
        (SVGS / name).mkdir(parents=True)
        checked, invalid = [], []
        for photo_id, size, bbox, sketches in photos:
            colour = tuple(int(v) for v in rng.integers(60, 256, size=3))
            write_photo(PHOTOS / name / f"{photo_id}.jpg", size, bbox, colour)
            for number, kind in sketches.items():
                sketch_id = f"{photo_id}-{number}"
                (SVGS / name / f"{sketch_id}.svg").write_text(
                    svg_text(*paths_of(kind.rstrip("!?"), rng)), encoding="utf-8")
                if not kind.endswith("?"):
                    checked.append(sketch_id)
                if kind.endswith("!"):
                    invalid.append(sketch_id)
                rows.append(",".join(map(str, [class_id, name, photo_id, sketch_id] + [0] * 8
                                         + list(size) + list(bbox))))
        (SVGS / name / "checked.txt").write_text("\n".join(checked) + "\n")
        (SVGS / name / "invalid.txt").write_text("".join(f"{s}\n" for s in invalid))
    STATS.write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()

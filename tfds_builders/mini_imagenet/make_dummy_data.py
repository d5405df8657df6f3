r"""Writes the synthetic mini-ImageNet dummy data (all three layouts) for the builder tests.

Solid-colour images, not ImageNet photos. 2 train classes, 1 validation and 1
test class (the first wnids of each shipped list), with 2 images per class:

* ``dummy_data/pickle/``: ``mini-imagenet-cache-{train,val,test}.pkl`` (a dict of
  ``image_data`` uint8 [N, 84, 84, 3] and ``class_dict`` {wnid: [rows]});
* ``dummy_data/csv_images/``: ``{train,val,test}.csv`` and ``images/*.jpg`` (84x84);
* ``dummy_data/csv_imagenet/``: the same CSVs and ``imagenet/<wnid>/<wnid>_<n>.JPEG``
  (120x90). The numbers ``n`` are 2, 4, 10, 33, 100, so sorting them as text
  would pick other files than sorting them as numbers; file k (1-based, in
  numeric order) has colour ``colour(wnid, k)``.

Run from the repository root:

    python tfds_builders/mini_imagenet/make_dummy_data.py
"""

import pathlib
import pickle
import shutil

import numpy as np
from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "dummy_data"
FILES = {"train": "train", "validation": "val", "test": "test"}
CLASSES = {split: sorted((HERE / f"wnids_{stem}_{n}.txt").read_text().split())[:k]
           for (split, stem), n, k in zip(FILES.items(), (64, 16, 20), (2, 1, 1))}
RANKS = (2, 4)  # CSV ranks of the 2 images of each class (1-based, numeric order).
IMAGENET_NUMBERS = (10, 2, 100, 33, 4)


def colour(wnid: str, k: int) -> tuple:
    seed = int(wnid[1:]) + 7919 * k
    return tuple(int(v) for v in np.random.default_rng(seed).integers(0, 256, size=3))


def write_jpeg(path: pathlib.Path, size: tuple, rgb: tuple) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, rgb).save(path, format="JPEG", quality=95)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    for split, stem in FILES.items():
        rows, images, class_dict = ["filename,label"], [], {}
        for wnid in CLASSES[split]:
            for rank in RANKS:
                name = f"{wnid}{rank:08d}.jpg"
                rows.append(f"{name},{wnid}")
                write_jpeg(OUT / "csv_images" / "images" / name, (84, 84), colour(wnid, rank))
                class_dict.setdefault(wnid, []).append(len(images))
                images.append(np.full((84, 84, 3), colour(wnid, rank), np.uint8))
            for k, number in enumerate(sorted(IMAGENET_NUMBERS), start=1):
                write_jpeg(OUT / "csv_imagenet" / "imagenet" / wnid / f"{wnid}_{number}.JPEG",
                           (120, 90), colour(wnid, k))
        for folder in ("csv_images", "csv_imagenet"):
            (OUT / folder / f"{stem}.csv").write_text("\n".join(rows) + "\n")
        (OUT / "pickle").mkdir(parents=True, exist_ok=True)
        with open(OUT / "pickle" / f"mini-imagenet-cache-{stem}.pkl", "wb") as f:
            pickle.dump({"image_data": np.stack(images), "class_dict": class_dict}, f, protocol=4)


if __name__ == "__main__":
    main()

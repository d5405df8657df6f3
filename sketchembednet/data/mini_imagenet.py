"""mini-ImageNet (Vinyals et al. 2016; Ravi & Larochelle 2017 split) from its common layouts.

Three layouts are read, each giving, per split, an ordered list of images per wnid:

* **pickles** ``mini-imagenet-cache-{train,val,test}.pkl``: a dict with
  ``image_data`` (uint8 ``[N, 84, 84, 3]``) and ``class_dict`` (``{wnid: [row
  indices]}``). Read with ``safe_pickle`` (NumPy data only).
* **CSV + images**: Ravi & Larochelle's ``{train,val,test}.csv`` (header
  ``filename,label``; ``n0153282900000005.jpg,n01532829``) and an ``images/``
  folder holding those files.
* **CSV + ImageNet**: the same CSVs and the ILSVRC-2012 training folders
  ``<wnid>/<wnid>_<n>.JPEG``; a CSV file name's last 8 digits are the 1-based
  rank of the image among its class's files sorted by ``<n>`` (the convention
  of the commonly used mini-imagenet-tools generator).

Images are resized to 84 x 84 (ignoring the aspect ratio, as the original
release did) with area averaging (PIL ``BOX``) when they are not already that size.

Example:
  >>> parse_csv_row(["n0153282900000005.jpg", "n01532829"], "train.csv:2")
  ('n0153282900000005', 'n01532829', 5)
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
from etils import epath
from PIL import Image

from sketchembednet.data import safe_pickle
from sketchembednet.data.errors import DataFileError

IMAGE_SIZE = 84
_CSV_NAME = re.compile(r"^(n\d{8})(\d{8})\.jpg$")
_IMAGENET_NAME = re.compile(r"^(n\d{8})_(\d+)\.jpe?g$", re.IGNORECASE)


def parse_csv_row(row: list[str], name: str) -> tuple[str, str, int]:
    """``(image id, wnid, rank)`` of one CSV row (``name`` is ``file:line``)."""
    match = _CSV_NAME.match(row[0].strip()) if len(row) == 2 else None
    if not match or match[1] != row[1].strip():
        raise DataFileError(f"{name}: expected '<wnid><8 digits>.jpg,<wnid>', got {row}")
    return row[0].strip()[:-4], match[1], int(match[2])


def read_csv(path: epath.Path) -> dict[str, list[tuple[str, int]]]:
    """``{wnid: [(image id, rank), ...]}`` in file order, from a split's CSV."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    if not rows or [c.strip() for c in rows[0]] != ["filename", "label"]:
        raise DataFileError(f"{path}:1: expected the header 'filename,label'")
    out = {}
    for number, row in enumerate(rows[1:], start=2):
        if row:
            image_id, wnid, rank = parse_csv_row(row, f"{path}:{number}")
            out.setdefault(wnid, []).append((image_id, rank))
    return out


def read_cache(path: epath.Path) -> tuple[np.ndarray, dict[str, list[int]]]:
    """``(image_data [N, 84, 84, 3] uint8, {wnid: [row, ...]})`` of a cache pickle.

    Raises:
      DataFileError: naming the file if it is not such a pickle (or is truncated).
    """
    try:
        with path.open("rb") as f:
            data = safe_pickle.load(f)
        images, classes = data["image_data"], data["class_dict"]
        classes = {str(k): [int(i) for i in v] for k, v in classes.items()}
    except Exception as e:  # Truncated/corrupt pickles raise many types.
        raise DataFileError(f"{path}: not a mini-ImageNet cache pickle "
                            f"({type(e).__name__}: {e})") from e
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8
            and images.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE, 3)):
        raise DataFileError(f"{path}: image_data must be uint8 [N, 84, 84, 3]")
    rows = [i for v in classes.values() for i in v]
    if sorted(rows) != list(range(len(images))):
        raise DataFileError(f"{path}: class_dict does not index each of the "
                            f"{len(images)} images exactly once")
    return images, classes


def load_image(path: epath.Path) -> np.ndarray:
    """An image file as uint8 ``[84, 84, 3]`` (resized when needed)."""
    try:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            image = image.convert("RGB")
            if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BOX)
            return np.asarray(image, np.uint8)
    except Exception as e:  # PIL raises many types for broken files.
        raise DataFileError(f"{path}: not a readable image ({type(e).__name__}: {e})") from e


def imagenet_files(folder: epath.Path) -> list[epath.Path]:
    """A class's ILSVRC files ``<wnid>_<n>.JPEG`` sorted by ``n`` (rank 1 first)."""
    files = [p for p in folder.iterdir() if _IMAGENET_NAME.match(p.name)]
    return sorted(files, key=lambda p: int(_IMAGENET_NAME.match(p.name)[2]))

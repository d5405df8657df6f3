r"""Links the shared Quick, Draw! sample into one Quickdraw manual directory.

The real-data pack (``$SKETCHEMBEDNET_SHARED_DATA/quickdraw``) holds Google's
simplified ndjson files in two folders: 344 classes x 25 drawings, and 15 classes
x 500 (cat: 2,000) whose first 25 lines are the same drawings. The ``quickdraw``
TFDS builder reads one folder of ``<class>.ndjson`` files, so this makes one of
**symlinks** (nothing is copied): every class of the 25-drawing folder, replaced
by the longer file for the 15 classes (whose upstream names ``bycicle``,
``cat_2k`` and ``paint-can`` are mapped to ``bicycle``, ``cat`` and ``paint can``).

    python tools/shared_quickdraw.py --out=/tmp/quickdraw_shared
    python -m sketchembednet.train --config=quickdraw_shared \
        --config.dataset.manual_dir=/tmp/quickdraw_shared

Example:
  >>> links = link_shared_quickdraw("../shared/data", "/tmp/qd")  # doctest: +SKIP
  >>> len(links), links["cat"].name  # doctest: +SKIP
  (344, 'cat_2k.ndjson')
"""

from __future__ import annotations

import os
import pathlib
import sys

from absl import app, flags

SMALL = "quickdraw/simplified_345cls_25each"
LARGE = "quickdraw/simplified_15cls_500to2000each"
RENAMED = {"bycicle": "bicycle", "cat_2k": "cat", "paint-can": "paint can"}
SKIPPED = {"cat"}  # The large folder's cat.ndjson would be the first 500 lines of cat_2k.


def link_shared_quickdraw(shared: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Makes ``out/<class>.ndjson`` symlinks into the shared pack; returns ``{class: target}``.

    Raises:
      FileNotFoundError: naming the folder if the shared pack's Quickdraw folders are missing.
      FileExistsError: if ``out`` holds a file that is not one of these links.
    """
    shared = pathlib.Path(shared).resolve()
    targets = {}
    for folder, big in ((shared / SMALL, False), (shared / LARGE, True)):
        files = sorted(folder.glob("*.ndjson")) if folder.is_dir() else []
        if not files:
            raise FileNotFoundError(
                f"{folder}: no .ndjson files; is {shared} the shared data pack?")
        for path in files:
            if big and path.stem in SKIPPED:
                continue
            targets[RENAMED.get(path.stem, path.stem) if big else path.stem] = path
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        link = out / f"{name}.ndjson"
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            raise FileExistsError(f"{link}: exists and is not a symlink; use an empty --out")
        link.symlink_to(target)
    return targets


def main(argv):
    del argv
    from sketchembednet.data import quickdraw

    values = flags.FLAGS
    targets = link_shared_quickdraw(values.shared, values.out)
    counts = {name: quickdraw.count_simplified_drawings(path) for name, path in targets.items()}
    print(f"{values.out}: {len(targets)} classes, {sum(counts.values())} drawings "
          f"(largest: {', '.join(sorted(counts, key=counts.get)[-3:])})", file=sys.stdout)


if __name__ == "__main__":  # Flags only here: tests import this module beside other CLIs.
    from sketchembednet import paths

    flags.DEFINE_string(
        "shared", paths.shared_data_dir(),
        "The real-data pack (default: $SKETCHEMBEDNET_SHARED_DATA or ../shared/data).")
    flags.DEFINE_string("out", None, "Folder to fill with <class>.ndjson symlinks.", required=True)
    app.run(main)

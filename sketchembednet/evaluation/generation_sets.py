"""The image sets of the generation experiments: Quick, Draw! images, examples, splits.

* :func:`quickdraw_images`: Quick, Draw! "simplified" ndjson drawings (read by
  ``sketchembednet.data.quickdraw``) rendered like the TFDS ``image`` feature;
* :func:`pick_examples`: seeded examples spread over the classes (sample grids);
* :func:`split_per_class`: a seeded per-class split into classifier-train and
  test images (recognisability);
* :func:`subset`, :func:`class_name`: parts and class names of a
  ``LabelledImages``.

Example:
  >>> labels = np.array([0, 0, 0, 1, 1, 2, 2])
  >>> sorted(labels[pick_examples(labels, 3, seed=0)].tolist())
  [0, 1, 2]
  >>> train, test = split_per_class(labels, test_fraction=0.3, seed=0)
  >>> sorted(labels[test].tolist()), len(train)
  ([0, 1, 2], 4)
"""

from __future__ import annotations

import numpy as np
import tqdm
from absl import logging

from sketchembednet.data import quickdraw
from sketchembednet.data import rasterize
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError
from sketchembednet.evaluation.datasets import LabelledImages

QUICKDRAW_MAX_LEN = 64  # tfds_builders/quickdraw: drawings longer than this are dropped.
_RENDER_BATCH = 256


def class_name(data: LabelledImages, label: int) -> str:
    """The name of class ``label`` of ``data``, or ``"class <label>"`` without names.

    Example:
      >>> data = LabelledImages(np.zeros([2, 2, 2, 1], np.uint8), [0, 1], ["a", "b"])
      >>> class_name(data, 1), class_name(data, 5)
      ('b', 'class 5')
    """
    names = data.class_names
    return str(names[label]) if names is not None and 0 <= label < len(names) else f"class {label}"


def subset(data: LabelledImages, indices, name: str | None = None) -> LabelledImages:
    """The images of ``data`` at ``indices`` (same class names).

    Example:
      >>> data = LabelledImages(np.zeros([3, 2, 2, 1], np.uint8), [0, 1, 1], ["a", "b"])
      >>> subset(data, [2]).labels.tolist()
      [1]
    """
    indices = np.asarray(indices, np.int64)
    return LabelledImages(data.images[indices], data.labels[indices], data.class_names,
                          name if name is not None else data.name)


def pick_examples(labels, n: int, seed: int = 0) -> np.ndarray:
    """``n`` indices spread over the classes: one of each class (in a seeded order), then again.

    Example:
      >>> pick_examples(np.array([0, 0, 1, 1]), 2, seed=1).shape
      (2,)
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    order = np.argsort(labels, kind="stable")  # indices grouped by class
    classes, starts = np.unique(labels[order], return_index=True)
    pools = np.split(order, starts[1:])  # one array per class
    pools = [rng.permutation(pools[i]) for i in rng.permutation(len(classes))]
    picked = [pool[r] for r in range(max(map(len, pools), default=0)) for pool in pools
              if r < len(pool)]
    return np.asarray(picked[:n], np.int64)


def split_per_class(labels, test_fraction: float = 0.1, seed: int = 0,
                    max_test_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split into classifier-train and test indices (sorted, disjoint).

    Each class gives ``max(1, round(test_fraction * n_c))`` (at most
    ``max_test_per_class``) random images to the test set and the rest to training.

    Raises:
      ValueError: if a class has fewer than 2 images or the fraction is not in (0, 1).

    Example:
      >>> train, test = split_per_class(np.repeat([0, 1], 10), 0.2, seed=0)
      >>> len(train), len(test), set(train) & set(test)
      (16, 4, set())
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < 2:
            raise ValueError(f"class {c} has {len(idx)} image(s); a train/test split needs 2")
        n_test = min(max(1, int(round(test_fraction * len(idx)))), len(idx) - 1)
        if max_test_per_class is not None:
            n_test = min(n_test, int(max_test_per_class))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def quickdraw_images(files_by_class: dict, image_size: int = 28,
                     max_per_class: int | None = None, splits=None, *,
                     max_len: int = QUICKDRAW_MAX_LEN, check_word: bool = True,
                     min_per_class: int | None = None,
                     progress: bool = False) -> LabelledImages:
    """Quick, Draw! "simplified" ndjson drawings rendered like the TFDS ``image`` feature.

    As ``tfds_builders/quickdraw``: drawings of fewer than 2 points or more than
    ``max_len`` stroke-3 rows are dropped; the rest become stroke-5 of ``max_len``
    rows, rendered by ``rasterize.render_images`` (fit to the canvas, white
    background). Labels are positions in the sorted class names.

    Args:
      files_by_class: ``{class name: ndjson path}`` (e.g. ``{"bicycle": ".../bycicle.ndjson"}``).
      image_size: S.
      max_per_class: keep the first N usable drawings of each file (after filtering).
      splits: keep only drawings whose ``quickdraw.split_of_key(key_id)`` is one
        of these (``"train"``, ``"validation"``, ``"test"``); None keeps all.
      max_len: T of the builder.
      check_word: every drawing's ``word`` must be the class name.
      min_per_class: skip (and log) classes with fewer usable drawings than this,
        instead of raising for a class without any; labels then number the kept
        classes. Raises if no class is kept.
      progress: show a tqdm bar over the class files.

    Raises:
      DataFileError: naming the file (and line) if it is missing, unreadable,
        malformed, of another word, or has no usable drawing.

    Example:
      >>> data = quickdraw_images({"cat": "cat.ndjson"}, splits=["test"])  # doctest: +SKIP
    """
    splits = quickdraw.check_splits(splits)
    names, images, labels, skipped = [], [], [], []
    for name in tqdm.tqdm(sorted(files_by_class), desc="quickdraw", unit="class",
                          disable=not progress):
        kept = _read_class(files_by_class[name], name if check_word else None, splits, max_len,
                           max_per_class, allow_empty=min_per_class is not None)
        if min_per_class is not None and len(kept) < min_per_class:
            skipped.append(name)
            continue
        names.append(name)
        images += _render(kept, max_len, image_size)
        labels.append(np.full(len(kept), len(names) - 1))
    where = f"splits {sorted(splits)}" if splits else "all splits"
    if skipped:
        logging.info("quickdraw: skipped %d classes with fewer than %d usable drawings in %s",
                     len(skipped), min_per_class, where)
    if not names:
        raise DataFileError(f"no class of {len(files_by_class)} files has {min_per_class} "
                            f"usable drawings in {where}")
    return LabelledImages(np.concatenate(images), np.concatenate(labels), names,
                          name=f"quickdraw ndjson ({len(names)} classes, {where})")


def _render(stroke3_list, max_len: int, image_size: int) -> list[np.ndarray]:
    """uint8 ``[b, S, S, 1]`` batches of stroke-3 drawings, as stroke-5 of ``max_len`` rows."""
    out = []
    for start in range(0, len(stroke3_list), _RENDER_BATCH):
        stroke5 = np.stack([strokes.stroke3_to_stroke5(s3, max_len)
                            for s3 in stroke3_list[start : start + _RENDER_BATCH]])
        out.append(rasterize.render_images(stroke5, image_size).numpy())  # [b, S, S, 1]
    return out


def _read_class(path, word, splits, max_len, max_per_class, allow_empty=False) -> list:
    """The usable stroke-3 drawings of one ndjson file (see :func:`quickdraw_images`)."""
    try:
        usable = quickdraw.read_usable_simplified(path, word=word, splits=splits,
                                                  max_len=max_len, limit=max_per_class)
    except strokes.StrokeFormatError as e:  # Its message names file:line.
        raise DataFileError(str(e)) from e
    except (OSError, UnicodeDecodeError) as e:
        raise DataFileError(f"{path}: not a readable ndjson file ({type(e).__name__}: {e})") from e
    kept, too_long, degenerate = usable.stroke3, usable.too_long, usable.degenerate
    logging.info("%s: %d drawings kept, %d longer than %d rows and %d degenerate dropped",
                 path, len(kept), too_long, max_len, degenerate)
    if not kept and not allow_empty:
        where = f" in splits {sorted(splits)}" if splits is not None else ""
        raise DataFileError(f"{path}: no usable drawings{where} (dropped {too_long} longer "
                            f"than {max_len} rows, {degenerate} of fewer than 2 points)")
    return kept

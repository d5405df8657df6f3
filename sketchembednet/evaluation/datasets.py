"""Labelled image sets for evaluation, in the model's input contract.

Every loader returns :class:`LabelledImages`: uint8 ``[n, S, S, C]`` images with
a white background (255) and black ink, and integer class labels. Sources:

* :func:`omniglot_background`: the Omniglot background set as the shared
  ``images_background.npz`` (bool ``[964, 20, 105, 105]``, True = background),
  optionally with Vinyals et al.'s rotations as extra classes;
* :func:`tfds_images`: the ``image`` feature of any TFDS dataset with a
  ``label`` (e.g. ``omniglot_strokes/lake_small``, ``quickdraw/heldout_45_ndjson``,
  ``mini_imagenet``);
* :func:`folder_images`: a folder of class sub-folders of image files.

Every loader frames its images with the project's input contract,
:func:`sketchembednet.data.preprocessing.preprocess_images`, exactly as the exported
encoder does: ``framing="fit_ink"`` (the default for drawings) crops each image to its
ink and fits it as the training renders are; ``"none"`` (photos, e.g. mini-ImageNet)
only converts channels and area-resizes the whole image. :func:`load` picks the
framing by the data when ``framing="auto"``.

Example:
  >>> data = LabelledImages(np.full([4, 28, 28, 1], 255, np.uint8), np.array([0, 0, 1, 1]))
  >>> data.num_classes, data.image_shape
  (2, (28, 28, 1))
"""

from __future__ import annotations

import dataclasses
import pathlib
import zipfile

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging
from PIL import Image

from sketchembednet.data import pipeline
from sketchembednet.data import preprocessing
from sketchembednet.data import rasterize
from sketchembednet.data.errors import DataFileError

ROTATIONS = (0, 90, 180, 270)  # Vinyals et al. 2016: each rotation is a new class.


@dataclasses.dataclass
class LabelledImages:
    """Images and their classes.

    Attributes:
      images: uint8 ``[n, S, S, C]``, white background, black ink.
      labels: int64 ``[n]``.
      class_names: optional names, indexed by label.
      name: where the data came from (for reports).

    Example:
      >>> LabelledImages(np.zeros([1, 2, 2, 1], np.uint8), np.array([3])).labels.dtype
      dtype('int64')
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list | None = None
    name: str = ""

    def __post_init__(self):
        self.labels = np.asarray(self.labels, np.int64)
        if self.images.dtype != np.uint8 or self.images.ndim != 4:
            raise ValueError(f"{self.name}: images must be uint8 [n, S, S, C], got "
                             f"{self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError(f"{self.name}: {len(self.images)} images, {len(self.labels)} labels")

    @property
    def num_classes(self) -> int:
        return int(len(np.unique(self.labels)))

    @property
    def image_shape(self) -> tuple:
        return tuple(self.images.shape[1:])


def _framing_for(channels: int, framing: str) -> str:
    """``auto`` -> ``fit_ink`` for grey (drawings), ``none`` for RGB (photos)."""
    if framing == "auto":
        return "fit_ink" if channels == 1 else "none"
    return preprocessing.check_framing(framing)


def frame(images: np.ndarray, image_size: int, channels: int = 1, framing: str = "fit_ink",
          progress: str | None = None) -> np.ndarray:
    """uint8 ``[n, H, W, C]`` -> uint8 ``[n, S, S, channels]`` through the preprocessor."""
    return preprocessing.preprocess_array(images, image_size, channels,
                                          _framing_for(channels, framing), progress=progress)


def omniglot_background(path, image_size: int = 28, rotations: bool = False,
                        framing: str = "fit_ink") -> LabelledImages:
    """The Omniglot background set (964 characters x 20 drawers) from its npz file.

    Each 105x105 page is framed by the preprocessor (``fit_ink``: cropped to the
    character's ink and fitted as the training renders are); ``framing="none"`` resizes
    the whole page, as Vinyals et al.'s 28x28 Omniglot (and this project before export
    format 2) did. Label = row of the npz = ``char_id - 1``; with ``rotations`` every
    image also appears rotated by 90, 180 and 270 degrees counter-clockwise, as
    class ``label * 4 + rotation / 90`` (the ``omniglot_strokes/vinyals`` labels).

    Args:
      path: ``images_background.npz`` with ``images`` bool ``[C, 20, 105, 105]``
        (True = white background) and ``labels``.
      image_size: S of the output.
      rotations: add the rotated classes (4x the classes and images).
      framing: ``"fit_ink"`` or ``"none"`` (see above).

    Raises:
      DataFileError: naming the file if it is unreadable or not in this format.
    """
    path = pathlib.Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            raw = npz["images"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataFileError(f"{path}: not a readable Omniglot npz with an 'images' array "
                            f"({type(e).__name__}: {e})") from e
    if raw.dtype != np.bool_ or raw.ndim != 4 or raw.shape[0] == 0 or raw.shape[2] != raw.shape[3]:
        raise DataFileError(f"{path}: 'images' must be bool [classes, drawers, H, H], got "
                            f"{raw.dtype} {raw.shape}")
    classes, drawers = raw.shape[:2]
    images = np.where(raw.reshape(-1, *raw.shape[2:], 1), 255, 0).astype(np.uint8)  # [n,H,H,1]
    images = frame(images, image_size, 1, framing, progress="omniglot_background")  # [n,S,S,1]
    labels = np.repeat(np.arange(classes), drawers)  # [n]
    if rotations:
        images = np.concatenate([np.rot90(images, r // 90, axes=(1, 2)) for r in ROTATIONS])
        labels = np.concatenate([labels * len(ROTATIONS) + i for i in range(len(ROTATIONS))])
    logging.info("omniglot_background: %d images of %d classes from %s", len(images),
                 len(np.unique(labels)), path)
    return LabelledImages(np.ascontiguousarray(images), labels,
                          name=f"omniglot_background{'_rot' if rotations else ''}"
                               f"{'' if framing == 'fit_ink' else f'[framing={framing}]'}")


def tfds_images(name: str, split: str | None = None, data_dir: str | None = None,
                manual_dir: str | None = None, builder_kwargs: dict | None = None,
                dedupe_keys: tuple = (), framing: str | None = None,
                image_size: int | None = None) -> LabelledImages:
    """The images and ``label`` feature of a (prepared if needed) TFDS dataset.

    The images are the ``image`` feature, or, for a stroke dataset that stores
    none, the renderings of its ``strokes`` at the builder's ``IMAGE_SIZE``, as
    the input pipeline renders them.

    Args:
      name: e.g. ``"omniglot_strokes/lake_small"``, ``"mini_imagenet"``.
      split: TFDS split expression (``"small1+small2"``); None = all splits.
      data_dir: TFDS data dir.
      manual_dir: manual directory for the build.
      builder_kwargs: e.g. ``{"allow_missing_classes": True}``.
      dedupe_keys: features identifying a drawing; examples repeating one are
        dropped (``omniglot_strokes/lake_small``: small1 and small2 share two
        alphabets, so ``("label", "drawer")``).
      framing: None (the images as stored or rendered), ``"auto"``, ``"fit_ink"`` or ``"none"``
        (through the preprocessor, see :func:`frame`).
      image_size: output size with ``framing`` (default: the stored size).

    Raises:
      DataFileError: if the split is empty or has no ``label`` and ``image`` or
        ``strokes`` features.
    """
    import tfds_builders  # noqa: F401  (registers the project's builders)

    builder = tfds.builder(name, data_dir=data_dir, **(builder_kwargs or {}))
    config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
    builder.download_and_prepare(download_config=config)
    features = builder.info.features
    pixels = "image" if "image" in features else "strokes"
    if pixels not in features or "label" not in features:
        raise DataFileError(f"{builder.data_dir}: {name} has no 'label' and 'image' or "
                            "'strokes' features")
    split = split or "+".join(sorted(builder.info.splits))
    ds = builder.as_dataset(split=split, shuffle_files=False)
    images, labels, seen, duplicates = [], [], set(), 0
    for ex in tfds.as_numpy(ds.map(lambda e: {k: e[k] for k in (pixels, "label", *dedupe_keys)})):
        if dedupe_keys:
            key = tuple(np.asarray(ex[k]).item() for k in dedupe_keys)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
        images.append(ex[pixels])
        labels.append(int(ex["label"]))
    if not images:
        raise DataFileError(f"{builder.data_dir}: {name}[{split}] holds no examples")
    if duplicates:
        logging.info("%s[%s]: dropped %d duplicate drawings", name, split, duplicates)
    names = getattr(features["label"], "names", None)
    if pixels == "strokes":
        images = rasterize.render_stroke3_list(images, pipeline.image_shape_of(builder)[0])
    images = np.stack(images)  # [n, H, W, C]
    if framing is not None:
        images = frame(images, image_size or images.shape[1], images.shape[-1], framing,
                       progress=name)
    return LabelledImages(images, np.array(labels), names, name=f"{name}[{split}]")


def _load_image_file(path: pathlib.Path, mode: str) -> np.ndarray:
    """One image file as uint8 ``[H, W, C]``; transparency composited on white."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "P") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                image = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image.alpha_composite(rgba)
            array = np.asarray(image.convert(mode), np.uint8)
    except Exception as e:  # PIL raises many types for unreadable files.
        raise DataFileError(f"{path}: not a readable image ({type(e).__name__}: {e})") from e
    return array.reshape(*array.shape[:2], -1)  # [H, W, C]


def folder_images(root, image_size: int = 28, channels: int = 1,
                  invert: bool = False, framing: str = "auto") -> LabelledImages:
    """Images from ``root/<class>/<file>``, any size and format PIL reads.

    Classes are the sub-folders in sorted order (label = position); files are
    read in sorted order; hidden files (``.*``) are skipped. Each image is made
    grayscale (``channels=1``) or RGB (``channels=3``), transparent pixels are
    composited on white, ``invert`` (for white-on-black images) inverts it, and it is
    framed by the preprocessor (``framing``: ``auto`` is ``fit_ink`` for grey, ``none``
    for RGB). ``fit_ink`` also detects white-on-black images itself.

    Raises:
      DataFileError: naming the folder if it has no class folders or a class
        has no files, or naming the file if it cannot be read.
    """
    root = pathlib.Path(root)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if not root.is_dir():
        raise DataFileError(f"{root}: not a folder")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataFileError(f"{root}: no class sub-folders (expected <root>/<class>/<image>)")
    images, labels = [], []
    for label, folder in enumerate(classes):
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise DataFileError(f"{folder}: class folder holds no image files")
        for path in files:
            array = _load_image_file(path, "L" if channels == 1 else "RGB")  # [H, W, C]
            if invert:
                array = 255 - array
            try:
                images.append(frame(array[None], image_size, channels, framing)[0])
            except (ValueError, tf.errors.InvalidArgumentError) as e:
                raise DataFileError(f"{path}: cannot be framed ({e})") from e
            labels.append(label)
    images = np.stack(images)  # [n, S, S, C]
    logging.info("folder %s: %d images of %d classes", root, len(images), len(classes))
    return LabelledImages(images, np.array(labels), [p.name for p in classes], name=str(root))


def select_per_class(data: LabelledImages, min_count: int = 0, max_count: int | None = None,
                     seed: int = 0) -> LabelledImages:
    """Keeps the classes with at least ``min_count`` images, at most ``max_count`` of each.

    Which images are kept of a larger class is a seeded choice; the order of the
    kept images is the original order.

    Raises:
      ValueError: naming the data if no class has ``min_count`` images.

    Example:
      >>> data = LabelledImages(np.zeros([5, 1, 1, 1], np.uint8), np.array([0, 0, 0, 1, 2]))
      >>> select_per_class(data, min_count=2).labels
      array([0, 0, 0])
      >>> select_per_class(data, max_count=1).labels
      array([0, 1, 2])
    """
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(data.labels):
        rows = np.flatnonzero(data.labels == c)
        if len(rows) < min_count:
            continue
        if max_count is not None and len(rows) > max_count:
            rows = np.sort(rng.choice(rows, max_count, replace=False))
        keep.append(rows)
    if not keep:
        raise ValueError(f"{data.name}: no class has {min_count} or more images "
                         f"(largest: {np.bincount(data.labels).max()})")
    rows = np.sort(np.concatenate(keep))
    return LabelledImages(data.images[rows], data.labels[rows], data.class_names,
                          name=data.name)


# Dataset specs of the evaluation CLI -> (TFDS name, default split, builder kwargs, dedupe).
_TFDS_SPECS = {
    "omniglot_strokes/lake_small": ("small1+small2", {}, ("label", "drawer")),
    "omniglot_strokes/lake": ("test", {}, ()),
    "omniglot_strokes/vinyals": ("test", {}, ()),
    "mini_imagenet": ("test", {}, ()),
    "quickdraw_seen": ("train+validation+test", {"allow_missing_classes": True}, ()),
    "quickdraw_unseen": ("train+validation+test", {"allow_missing_classes": True}, ()),
}
_ALIASES = {"quickdraw_seen": "quickdraw/seen_eval_45_ndjson",
            "quickdraw_unseen": "quickdraw/heldout_45_ndjson"}
SHARED_NPZ = "omniglot/npz_105x105/images_background.npz"  # Under the shared data pack.


def tfds_name(spec: str) -> str:
    """The TFDS ``name/config`` behind an evaluation spec (``spec`` itself if not an alias).

    Example:
      >>> tfds_name("quickdraw_unseen"), tfds_name("mini_imagenet")
      ('quickdraw/heldout_45_ndjson', 'mini_imagenet')
    """
    return _ALIASES.get(spec, spec)


def load(spec: str, *, split: str | None = None, data_dir: str | None = None,
         manual_dir: str | None = None, data_path: str | None = None,
         image_size: int = 28, channels: int = 1, rotations: bool = False,
         builder_kwargs: dict | None = None, framing: str = "auto") -> LabelledImages:
    """A dataset by the evaluation CLI's name.

    Specs: ``omniglot_background`` (the npz at ``data_path``), ``folder:<path>``,
    ``omniglot_strokes/<config>``, ``mini_imagenet`` (test split),
    ``quickdraw_seen`` / ``quickdraw_unseen`` (the paper's T1 / T2 classes from
    ``<class>.ndjson`` files in ``manual_dir``, all splits, missing classes
    allowed), or any other TFDS name with ``image`` and ``label`` features.

    Images go through the preprocessor with ``framing``: ``auto`` is ``fit_ink`` for
    drawings (grey images) and ``none`` for photos (``mini_imagenet``, RGB folders).

    Raises:
      ValueError: for ``omniglot_background`` without ``data_path``, or an unknown
        ``framing``.
    """
    if framing != "auto":
        preprocessing.check_framing(framing)
    if spec == "omniglot_background":
        if not data_path:
            raise ValueError("omniglot_background needs data_path: the images_background.npz "
                             f"file (<shared data>/{SHARED_NPZ})")
        return omniglot_background(data_path, image_size, rotations,
                                   _framing_for(1, framing))
    if spec.startswith("folder:"):
        return folder_images(spec.split(":", 1)[1], image_size, channels, framing=framing)
    default_split, kwargs, dedupe = _TFDS_SPECS.get(spec, (None, {}, ()))
    data = tfds_images(tfds_name(spec), split or default_split, data_dir, manual_dir,
                       dict(kwargs, **(builder_kwargs or {})), dedupe, framing=framing)
    data.name = spec if spec in _ALIASES else data.name
    return data

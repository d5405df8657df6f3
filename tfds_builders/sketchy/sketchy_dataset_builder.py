"""Sketchy photos (84x84, cropped to the object) paired with their sketches as stroke-3.

    import tfds_builders  # registers the builder
    ds = tfds.load("sketchy", split="train")  # after the manual download

The training data of SketchEmbedNet's Sketchy model (Wang et al. 2021, Sec. 4.3):
the model sees the photo and draws the sketch. One example per (photo, sketch)
pair of the checked, valid sketches of the 115 training / 10 validation classes.
Sketches: ``sketchembednet.data.sketchy`` (svgpathtools, short paths dropped,
RDP 5.0, stroke-3 not normalised; ``metadata["stroke_scale"]`` is the std of the
training offsets). Sketches longer than ``MAX_LEN`` (100) rows are dropped and
counted, never replaced by another sketch (the authors' code silently reused the
previous example's strokes). Photos whose ImageNet wnid overlaps a mini-ImageNet
test class (``excluded_wnids.tsv``, derived offline from WordNet 3.0 by
``derive_excluded_wnids.py``) are excluded and counted.
"""

from __future__ import annotations

import collections
import time

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from sketchembednet.data import quickdraw
from sketchembednet.data import sketchy
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError

MAX_LEN = 100  # T: stroke-3 rows kept (the paper's Sketchy setting).
IMAGE_SIZE = 84  # Side of the photo given to the model.
RDP_EPSILON = 5.0  # SVG units.
PHOTO_DIR = "rendered_256x256/256x256/photo/tx_000000000000"
SVG_DIR = "sketches-06-04/sketches"
STATS_CSV = "info-06-04/info/stats.csv"
_HERE = epath.Path(__file__).parent
_COUNTS = ("checked_sketches", "invalid_sketches", "unchecked_svgs", "excluded_photos",
           "excluded_sketches", "dropped_too_long", "dropped_degenerate", "dropped_unreadable",
           "short_paths_dropped", "photos")


def _lines(file_name: str) -> list[str]:
    text = (_HERE / file_name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


TRAIN_CLASSES = sorted(_lines("classes_train_115.txt"))
VALIDATION_CLASSES = sorted(_lines("classes_val_10.txt"))
CLASSES = sorted(TRAIN_CLASSES + VALIDATION_CLASSES)
EXCLUDED_WNIDS = frozenset(line.split("\t")[0] for line in _lines("excluded_wnids.tsv")[1:])


def class_folder(name: str) -> str:
    """Sketchy's folder name of a class: spaces become underscores."""
    return name.replace(" ", "_")


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for Sketchy photo-sketch pairs.

    Args:
      allow_missing_classes: build from a manual directory lacking some class
        folders (listed in ``metadata["missing_classes"]``). Default False.
      allow_unreadable_sketches: drop (and count, and list in the metadata)
        SVG files that cannot be parsed instead of failing. Default False.
      **kwargs: for ``tfds.core.GeneratorBasedBuilder``.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: 84x84 photos, RDP 5.0, T=100, WordNet exclusion."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Download the Sketchy database (https://sketchy.eye.gatech.edu) archives
    `rendered_256x256.7z` (photos), `sketches-06-04.7z` (SVG sketches) and
    `info-06-04.7z` (statistics) and extract them (`7z x <archive>`; .7z cannot be
    read by this project's dependencies) into the manual directory, so that it holds
      {PHOTO_DIR}/<class>/<photo id>.jpg
      {SVG_DIR}/<class>/<photo id>-<n>.svg, checked.txt, invalid.txt
      {STATS_CSV}
    with class folders named with underscores (`alarm_clock`).
    """

    def __init__(self, *, allow_missing_classes: bool = False,
                 allow_unreadable_sketches: bool = False, **kwargs):
        self._allow_missing_classes = bool(allow_missing_classes)
        self._allow_unreadable_sketches = bool(allow_unreadable_sketches)
        super().__init__(**kwargs)
        self._original_state.update(allow_missing_classes=self._allow_missing_classes,
                                    allow_unreadable_sketches=self._allow_unreadable_sketches)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(
                    shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
                    doc="The photo cropped to its bounding box, fitted and centred on black."),
                "strokes": tfds.features.Tensor(
                    shape=(None, 3), dtype=np.float32,
                    doc="stroke-3 of the sketch in SVG units (y down), not normalised."),
                "label": tfds.features.ClassLabel(names=CLASSES),
                "sketch_id": tfds.features.Text(doc="e.g. n02691156_10151-3"),
                "photo_id": tfds.features.Text(doc="e.g. n02691156_10151"),
                "wnid": tfds.features.Text(doc="ImageNet wnid of the photo"),
            }),
            supervised_keys=("image", "strokes"),
            homepage="https://sketchy.eye.gatech.edu",
            metadata=tfds.core.MetadataDict(),
        )

    def _root(self, dl_manager) -> epath.Path:
        """The manual directory, after checking that its top-level inputs exist."""
        try:
            root = dl_manager.manual_dir
        except AssertionError as e:
            raise FileNotFoundError(f"sketchy needs a manual download:\n"
                                    f"{self.MANUAL_DOWNLOAD_INSTRUCTIONS}") from e
        expected = [root / PHOTO_DIR, root / SVG_DIR, root / STATS_CSV]
        missing = [str(p) for p in expected if not p.exists()]
        if missing:
            raise FileNotFoundError(f"sketchy: missing {missing} in the manual directory "
                                    f"{root}:\n{self.MANUAL_DOWNLOAD_INSTRUCTIONS}")
        return root

    def _classes(self, root) -> tuple[dict, list]:
        """``({class: split}, missing classes)``."""
        splits = {c: "train" for c in TRAIN_CLASSES}
        splits.update({c: "validation" for c in VALIDATION_CLASSES})
        missing = [c for c in CLASSES if not (root / SVG_DIR / class_folder(c)).exists()
                   or not (root / PHOTO_DIR / class_folder(c)).exists()]
        if missing and not self._allow_missing_classes:
            raise FileNotFoundError(
                f"sketchy: {len(missing)} of the 125 class folders are missing from "
                f"{root / SVG_DIR} or {root / PHOTO_DIR}, e.g. "
                f"{[class_folder(c) for c in missing[:10]]}; pass allow_missing_classes=True "
                "to build without them")
        for name in missing:
            logging.warning("sketchy: class %r missing: built without it", name)
        return {c: s for c, s in splits.items() if c not in missing}, missing

    def _read_sketch(self, path: epath.Path, counts: dict, unreadable: list):
        """stroke-3 of one SVG, or None when it is dropped (and counted)."""
        try:
            lines, short = sketchy.svg_polylines(path.read_text(encoding="utf-8"), str(path))
            stroke3 = sketchy.sketch_to_stroke3(lines, RDP_EPSILON, str(path))
        except (DataFileError, strokes.StrokeFormatError, UnicodeDecodeError) as e:
            if not self._allow_unreadable_sketches:
                raise DataFileError(f"{path}: unreadable sketch ({e}); pass "
                                    "allow_unreadable_sketches=True to drop such files") from e
            counts["dropped_unreadable"] += 1
            unreadable.append(path.name)
            return None
        counts["short_paths_dropped"] += short
        if stroke3 is None:
            counts["dropped_degenerate"] += 1
        elif len(stroke3) > MAX_LEN:
            counts["dropped_too_long"] += 1
        else:
            return stroke3
        return None

    def _read_class(self, root, name: str, stats: dict, counts: dict, unreadable: list):
        """``[(sketch id, photo path, wnid, stroke3)]`` of the kept sketches of a class."""
        svg_dir = root / SVG_DIR / class_folder(name)
        photo_dir = root / PHOTO_DIR / class_folder(name)
        checked = [s for s in (svg_dir / "checked.txt").read_text().split() if s]
        invalid = set((svg_dir / "invalid.txt").read_text().split())
        by_photo = collections.defaultdict(list)
        for sketch_id in checked:
            by_photo[sketch_id.rsplit("-", 1)[0]].append(sketch_id)
        counts["checked_sketches"] += len(checked)
        counts["unchecked_svgs"] += len({p.stem for p in svg_dir.glob("*.svg")} - set(checked))
        kept = []
        for photo_id in sorted(by_photo):
            photo = photo_dir / f"{photo_id}.jpg"
            if not photo.exists():
                raise DataFileError(f"{photo}: missing photo of checked sketches "
                                    f"{by_photo[photo_id][:3]} ({svg_dir / 'checked.txt'})")
            if photo_id not in stats:
                raise DataFileError(f"{root / STATS_CSV}: no row for photo {photo_id}")
            wnid = photo_id.split("_")[0]
            usable = [s for s in by_photo[photo_id] if s not in invalid]
            counts["invalid_sketches"] += len(by_photo[photo_id]) - len(usable)
            if wnid in EXCLUDED_WNIDS:
                counts["excluded_photos"] += 1
                counts["excluded_sketches"] += len(usable)
                continue
            counts["photos"] += 1
            for sketch_id in sorted(usable, key=lambda s: int(s.rsplit("-", 1)[1])):
                stroke3 = self._read_sketch(svg_dir / f"{sketch_id}.svg", counts, unreadable)
                if stroke3 is not None:
                    kept.append((sketch_id, photo, wnid, stroke3))
        return kept

    def _split_generators(self, dl_manager):
        start = time.time()
        root = self._root(dl_manager)
        classes, missing = self._classes(root)
        stats = sketchy.read_stats(root / STATS_CSV)
        examples = {"train": [], "validation": []}
        counts = {s: dict.fromkeys(_COUNTS, 0) for s in examples}
        unreadable = []
        for name in sorted(classes):
            split = classes[name]
            for sketch_id, photo, wnid, stroke3 in self._read_class(
                    root, name, stats, counts[split], unreadable):
                examples[split].append((name, sketch_id, photo, wnid, stroke3))
        meta = {f"{s}_{k}": v for s, c in counts.items() for k, v in c.items()}
        for split, count in counts.items():
            logging.info("sketchy %s: %d examples; %s", split, len(examples[split]), count)
        scale = quickdraw.scale_from_moments(
            quickdraw.offset_moments(e[-1] for e in examples["train"]))
        meta.update(stroke_scale=scale, max_len=MAX_LEN, image_size=IMAGE_SIZE,
                    rdp_epsilon=RDP_EPSILON, missing_classes=missing,
                    unreadable_sketches=sorted(unreadable), excluded_wnids=sorted(EXCLUDED_WNIDS),
                    parse_seconds=round(time.time() - start, 2))
        self.info.metadata.update(meta)
        return {split: self._generate_examples(items, stats) for split, items in examples.items()}

    def _generate_examples(self, items: list, stats: dict):
        image, last_photo = None, None
        for name, sketch_id, photo, wnid, stroke3 in items:  # Grouped by photo.
            if photo != last_photo:
                size, bbox = stats[photo.stem]
                image = sketchy.fit_photo(sketchy.read_photo(photo), size, bbox, IMAGE_SIZE,
                                          str(photo))
                last_photo = photo
            yield sketch_id, {
                "image": image, "strokes": stroke3, "label": name, "sketch_id": sketch_id,
                "photo_id": photo.stem, "wnid": wnid,
            }

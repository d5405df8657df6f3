"""Quick, Draw! sketches as stroke-3 (SketchEmbedNet, Sec. 4.1).

    import tfds_builders  # registers the builder
    ds = tfds.load("quickdraw", split="train")  # = quickdraw/paper_300_ndjson

Sources (``sketchembednet.data.quickdraw``), chosen by the config:

* ``<class set>`` configs read Google's sketch-rnn ``sketchrnn/<class>.npz``
  (official train/valid/test: 70k/2.5k/2.5k per class, int16 stroke-3).
* ``<class set>_ndjson`` configs read the "simplified" ``full/simplified/<class>.ndjson``
  (the same drawings before sampling; no splits, so each drawing's split is a
  hash of its ``key_id``: 90% train, 5% validation, 5% test).

Files are read from the manual directory, which must then hold ``<class>.npz``
/ ``<class>.ndjson`` files of the config's classes (a given directory without
any, or that does not exist, is an error naming it: ``tfds_builders/manual.py``);
only with no manual directory given are they downloaded from the Quickdraw
bucket. An empty class file counts as a missing class. The npz files are pickles: they are unpickled (by a NumPy-only
unpickler) only after their sha256 matches ``checksums.tsv``, or, for manual
files, when the builder is created with ``allow_manual_pickle=True``.

Sketches with more than ``MAX_LEN`` (64) stroke-3 rows are dropped (the paper
keeps length <= 64), as are drawings of fewer than two points; both counts go
to the metadata (``<split>_dropped_too_long``, ``<split>_dropped_degenerate``)
and the log. Coordinates outside the format's range (ndjson 0..255, npz int16)
or not finite are errors naming the file and line, never drops (README.md,
"Coordinate checks and the scale"). ``metadata["stroke_scale"]`` is the std of
the kept training offsets; the strokes themselves are stored un-normalised (256-unit box). Only
strokes are stored: the input pipeline renders the 28x28 image
(``Builder.IMAGE_SIZE``) on the fly with the same rasterizer as the pixel loss.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from sketchembednet.data import quickdraw
from sketchembednet.data.errors import DataFileError
from tfds_builders import manual
from tfds_builders.quickdraw import beam as beam_lib

MAX_LEN = 64  # T: maximum number of stroke-3 rows kept.
IMAGE_SIZE = 28  # Side of the image the pipeline renders, pixels.
SPLITS = ("train", "validation", "test")
EXTENSIONS = {"npz": ".npz", "ndjson": ".ndjson"}
_HERE = epath.Path(__file__).parent


def _read_classes(file_name: str) -> list[str]:
    lines = (_HERE / file_name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


TRAIN_300 = sorted(_read_classes("classes_train_300.txt"))  # ST1 of the paper.
HELDOUT_45 = sorted(_read_classes("classes_heldout_45.txt"))  # T2: never trained on.
SEEN_EVAL_45 = sorted(_read_classes("classes_seen_eval_45.txt"))  # T1, inside ST1.
ALL_345 = sorted(TRAIN_300 + HELDOUT_45)  # The label space of every config.
CLASS_SETS = {
    "paper_300": TRAIN_300, "heldout_45": HELDOUT_45,
    "seen_eval_45": SEEN_EVAL_45, "all_345": ALL_345,
}
_CLASS_SET_DOCS = {
    "paper_300": "the paper's 300 training classes (all 345 minus the 45 held out)",
    "heldout_45": "the paper's 45 held-out classes (unseen-class evaluation)",
    "seen_eval_45": "the paper's 45 'seen' evaluation classes (a subset of the 300)",
    "all_345": "all 345 Quickdraw classes",
}


@dataclasses.dataclass(eq=False)
class QuickdrawConfig(tfds.core.BuilderConfig):
    """A class set and a source format.

    Attributes:
      class_set: key of ``CLASS_SETS``.
      source_format: ``"npz"`` (sketch-rnn files) or ``"ndjson"`` (simplified).
    """

    class_set: str = "paper_300"
    source_format: str = "npz"


def _make_configs() -> list[QuickdrawConfig]:
    configs = []
    for class_set, doc in _CLASS_SET_DOCS.items():
        for fmt in EXTENSIONS:
            name = class_set if fmt == "npz" else f"{class_set}_ndjson"
            source = "sketch-rnn .npz" if fmt == "npz" else "simplified .ndjson"
            configs.append(QuickdrawConfig(name=name, description=f"{doc}, from the {source} files",
                                           class_set=class_set, source_format=fmt))
    return configs


class Builder(manual.ManualDirMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for Quick, Draw! stroke-3 sketches.

    Args:
      allow_manual_pickle: unpickle ``.npz`` files found in the manual directory
        (they cannot be checksum-verified). Default False.
      allow_missing_classes: build from a manual directory that lacks some of the
        config's class files; the missing classes are logged and listed in
        ``metadata["missing_classes"]``. Default False: missing files raise.
      use_beam: generate with Apache Beam (``pip install '.[beam]'``), a worker per
        class file. None (default): when the download config gives a Beam runner
        or options, as ``tfds build --beam_pipeline_options=...`` does.
      **kwargs: for ``tfds.core.GeneratorBasedBuilder``.

    Example:
      >>> builder = Builder(config="heldout_45_ndjson", allow_missing_classes=True)
      >>> builder.builder_config.source_format
      'ndjson'
    """

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: sketch-rnn npz and simplified ndjson, T=64, 28x28 images.",
        "2.0.0": "Strokes only: the `image` feature is gone (the input pipeline renders it).",
    }
    IMAGE_SIZE = IMAGE_SIZE  # The pipeline renders images of this size.
    BUILDER_CONFIGS = _make_configs()
    # The ndjson configs work for anyone with internet today; the npz ones only once
    # checksums.tsv holds the official files' checksums (README.md: "Checksums").
    DEFAULT_BUILDER_CONFIG_NAME = "paper_300_ndjson"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Optional: without a manual directory the files are downloaded. To build from
    local copies instead, put one file per class of the config directly into the
    manual directory (a given directory without any is an error, not a download), named as in the Quickdraw bucket (`<class>.npz` from
    `sketchrnn/`, or `<class>.ndjson` from `full/simplified/`; spaces kept or
    written `%20`), e.g. `<manual_dir>/aircraft carrier.ndjson`. Local `.npz`
    files are pickles and are only read with `allow_manual_pickle=True`; a
    folder lacking some classes needs `allow_missing_classes=True`.
    """

    def __init__(self, *, allow_manual_pickle: bool = False,
                 allow_missing_classes: bool = False, use_beam: bool | None = None, **kwargs):
        self._allow_manual_pickle = bool(allow_manual_pickle)
        self._allow_missing_classes = bool(allow_missing_classes)
        self._use_beam_arg, self._use_beam = use_beam, bool(use_beam)
        super().__init__(**kwargs)
        self._original_state.update(allow_manual_pickle=self._allow_manual_pickle,
                                    allow_missing_classes=self._allow_missing_classes,
                                    use_beam=use_beam)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "strokes": tfds.features.Tensor(
                    shape=(None, 3), dtype=np.float32,
                    doc="stroke-3 (dx, dy, pen_lifted), 256-unit box (not normalised)."),
                "label": tfds.features.ClassLabel(names=ALL_345),
                "key_id": tfds.features.Text(
                    doc="Google's key_id (ndjson), or '<npz key>:<index>' (npz)."),
            }),
            supervised_keys=("strokes", "label"),
            homepage="https://github.com/googlecreativelab/quickdraw-dataset",
            metadata=beam_lib.PipelineMetadataDict(),
        )

    # ---------------------------------------------------------------- sources
    def _manual_sources(self, dl_manager, classes, extension):
        """``({class: path}, missing)`` from the manual dir, or None to download.

        None only when no manual directory was given and the default one holds no
        file of this config; a given directory without any raises (``manual.py``).
        """
        root, given = self._manual_dir(dl_manager)
        if root is None:
            return None
        found = {}
        for name in classes:
            for file_name in quickdraw.local_file_names(name, extension):
                if (root / file_name).exists():
                    found[name] = root / file_name
                    break
        if not found:
            if given:
                raise manual.no_files_error(
                    "quickdraw", root, f"class file of config {self.builder_config.name!r}",
                    f"one file per class named <class>{extension}, e.g. "
                    f"{classes[0] + extension!r}", "download the files")
            logging.info("quickdraw: the default manual directory %s holds no <class>%s file "
                         "of this config", root, extension)
            return None
        missing = [name for name in classes if name not in found]
        if missing and not self._allow_missing_classes:
            raise FileNotFoundError(
                f"quickdraw: the manual directory {root} lacks {len(missing)} of the "
                f"{len(classes)} class files of config {self.builder_config.name!r}, e.g. "
                f"{[n + extension for n in missing[:10]]}; add them, or pass "
                "allow_missing_classes=True to build without those classes")
        for name in missing:
            logging.warning("quickdraw: class %r missing from %s: built without it", name, root)
        return found, missing

    def _without_empty_files(self, found: dict, missing: list, source: str) -> dict:
        """Drops the empty class files (0 bytes, or an ndjson of blank lines only).

        An empty file would build its class with no example and pass as present, so
        it is an error, unless ``allow_missing_classes`` and the file is a manual
        one (and not every file is empty): then the class is logged and added to
        ``missing`` like an absent file.
        """
        fmt = self.builder_config.source_format
        empty = {name: why for name in sorted(found)
                 if (why := quickdraw.empty_file_reason(found[name], fmt))}
        if empty and (source == "download" or not self._allow_missing_classes
                      or len(empty) == len(found)):
            name, why = next(iter(empty.items()))
            others = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
            hint = ("" if source == "download" or len(empty) == len(found) else
                    ", or pass allow_missing_classes=True to build without it")
            raise DataFileError(
                f"{found[name]}: empty class file ({why}){others}: class {name!r} would "
                f"have no drawings; replace it with the class's file{hint}")
        for name, why in empty.items():
            logging.warning("quickdraw: %s is empty (%s): class %r built without it",
                            found[name], why, name)
        missing.extend(empty)
        missing.sort()
        return {name: path for name, path in found.items() if name not in empty}

    def _verify_official_npz(self, dl_manager, url: str, path) -> None:
        """Allows unpickling a downloaded npz only if its sha256 is registered and matches."""
        if dl_manager.register_checksums:
            logging.warning("quickdraw: registering checksums; trusting %s as downloaded", url)
            return
        expected = (type(self).url_infos or {}).get(url)
        if expected is None:
            raise DataFileError(
                f"{path}: no checksum for {url} in {self._checksums_path}; refusing to unpickle "
                "an unverified .npz. Register the official checksums (download_and_prepare "
                "with DownloadConfig(register_checksums=True); see README.md) or use the "
                "*_ndjson configs")
        actual = quickdraw.sha256_of(path)
        if actual != expected.checksum:
            raise DataFileError(f"{path}: sha256 {actual} does not match {expected.checksum} "
                                f"registered for {url}; refusing to unpickle")

    def _sources(self, dl_manager):
        """``({class: path}, missing classes, "manual" or "download")`` for this config."""
        config = self.builder_config
        classes = CLASS_SETS[config.class_set]
        local = self._manual_sources(dl_manager, classes, EXTENSIONS[config.source_format])
        if local is not None:
            found, missing = local
            if config.source_format == "npz" and not self._allow_manual_pickle:
                raise DataFileError(
                    f"{next(iter(found.values()))}: local .npz files are pickles and can run "
                    "code when loaded; pass allow_manual_pickle=True to the builder if you "
                    "trust them, or use the *_ndjson configs")
            found = self._without_empty_files(found, missing, "manual")
            return found, missing, "manual"
        npz = config.source_format == "npz"
        url_of = quickdraw.sketchrnn_url if npz else quickdraw.simplified_url
        urls = {name: url_of(name) for name in classes}
        logging.info("quickdraw: no manual directory given: downloading %d class files of "
                     "config %r from %s/%s/<class>%s", len(urls), config.name, quickdraw.BUCKET,
                     "sketchrnn" if npz else "full/simplified", EXTENSIONS[config.source_format])
        paths = dl_manager.download(urls)
        if npz:
            for name in classes:
                self._verify_official_npz(dl_manager, urls[name], paths[name])
        found = {name: epath.Path(paths[name]) for name in classes}
        return self._without_empty_files(found, [], "download"), [], "download"

    # ---------------------------------------------------------------- building
    def _download_and_prepare(self, dl_manager, download_config):
        if self._use_beam_arg is None:  # Beam when the download config asks for a runner.
            self._use_beam = (download_config.beam_runner is not None
                              or download_config.beam_options is not None)
        return super()._download_and_prepare(dl_manager, download_config)

    def _split_generators(self, dl_manager):
        start = time.time()
        sources, missing, source = self._sources(dl_manager)
        fmt = self.builder_config.source_format
        self.info.metadata.update(
            max_len=MAX_LEN, image_size=IMAGE_SIZE, source=source, source_format=fmt,
            num_classes=len(sources), missing_classes=list(missing),
            built_with="beam" if self._use_beam else "generator")
        if self._use_beam:
            items = [(name, os.fspath(sources[name])) for name in sorted(sources)]
            read = functools.partial(class_split, source_format=fmt)
            return {split: beam_lib.split_transform(items, split, read, split_metadata,
                                                    self.info.metadata, self.data_path)
                    for split in SPLITS}
        stats = {split: np.zeros(len(_STATS)) for split in SPLITS}
        for name in sorted(sources):
            for split, items in read_class(name, sources[name], fmt).items():
                stats[split] += split_stats(items)
        for split in SPLITS:
            self.info.metadata.update(split_metadata(stats[split], split))
        self.info.metadata.update(parse_seconds=round(time.time() - start, 2))
        return {split: self._generate_examples(split, sources) for split in SPLITS}

    def _generate_examples(self, split: str, sources: dict):
        for name in sorted(sources):
            yield from class_split((name, sources[name]), split,
                                   self.builder_config.source_format)[0]


# Per-split statistics, summed over class files: counts, then the offset moments.
_STATS = ("num_source", "dropped_too_long", "dropped_degenerate", "n", "sum", "sum_sq")


def read_class(name: str, path, source_format: str) -> dict[str, list]:
    """``{split: [(key_id, stroke3 or None), ...]}`` of one class file, in file order.

    npz files are unpickled (NumPy-only): the builder verified or allowed them.

    Raises:
      DataFileError: naming the file (and line or element) for a corrupt file, a
        coordinate out of the format's range, or a file without any drawing.
    """
    out = {split: [] for split in SPLITS}
    if source_format == "npz":
        arrays = quickdraw.read_npz(path, allow_pickle=True)
        for split in SPLITS:
            key = quickdraw.NPZ_KEYS[split]
            for i, s3 in enumerate(quickdraw.npz_sketches(arrays, split, str(path))):
                out[split].append((f"{key}:{i:06d}", s3 if len(s3) else None))
    else:
        for drawing in quickdraw.read_simplified_ndjson(path, word=name):
            out[quickdraw.split_of_key(drawing.key_id)].append((drawing.key_id, drawing.stroke3))
    if not any(out.values()):  # The builder drops empty files first; this catches the rest.
        raise DataFileError(f"{path}: no drawings of class {name!r} in the file")
    return out


def _kept(items):
    return [(key, s3) for key, s3 in items if s3 is not None and len(s3) <= MAX_LEN]


def split_stats(items) -> np.ndarray:
    """The ``_STATS`` of one class's items of one split (float64)."""
    kept = _kept(items)
    degenerate = sum(1 for _, s3 in items if s3 is None)
    counts = [len(items), len(items) - degenerate - len(kept), degenerate]
    return np.concatenate([counts, quickdraw.offset_moments([s3 for _, s3 in kept])])


def class_split(item, split: str, source_format: str) -> tuple[list, np.ndarray]:
    """``([(key, example)], stats)`` of one class file's split (also a Beam worker fn)."""
    name, path = item
    items = read_class(name, epath.Path(path), source_format)[split]
    examples = [(f"{name}/{key_id}", {"strokes": s3, "label": name, "key_id": key_id})
                for key_id, s3 in _kept(items)]
    return examples, split_stats(items)


def split_metadata(stats: np.ndarray, split: str) -> dict:
    """The metadata entries of one split's summed stats (the scale from ``train``'s)."""
    stats = np.asarray(stats, np.float64)
    if stats.size == 0:  # No class files (Beam's empty sum).
        stats = np.zeros(len(_STATS))
    meta = {f"{split}_{k}": int(v) for k, v in zip(_STATS[:3], stats[:3])}
    logging.info("quickdraw %s: %d drawings, dropped %d longer than %d rows and %d of fewer "
                 "than 2 points", split, meta[f"{split}_num_source"],
                 meta[f"{split}_dropped_too_long"], MAX_LEN, meta[f"{split}_dropped_degenerate"])
    if split == "train":
        meta["stroke_scale"] = quickdraw.scale_from_moments(stats[3:])
        logging.info("quickdraw: normalising scale (std of train offsets) = %.4f",
                     meta["stroke_scale"])
    return meta

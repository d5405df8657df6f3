"""Omniglot characters with their online strokes, as stroke-3 with the original images.

    import tfds_builders  # registers the builder
    ds = tfds.load("omniglot_strokes/vinyals", split="test")

Named ``omniglot_strokes`` so as not to clash with TFDS's image-only ``omniglot``.
Reads the official ``python/{images,strokes}_*.zip`` of github.com/brendenlake/omniglot
(downloaded, or from the manual directory), pairs every PNG with its stroke
file, and converts the strokes (``sketchembednet.data.omniglot``: y flipped, RDP
2.0, one-point strokes widened, stroke-3, un-normalised; the scale is recorded
as ``metadata["stroke_scale"]``). The 105x105 PNG is kept as ``original_image``.
The 28x28 model input is rendered from the strokes, as the paper does, by the
input pipeline (``Builder.IMAGE_SIZE``; ``sketchembednet.data.pipeline``), not
stored.

Configs: ``lake`` (background -> train, evaluation -> test), ``lake_small``
(Lake's background_small1/2 -> small1, small2) and ``vinyals`` (Vinyals et al.
2016 alphabet split over all 50 alphabets, each character also rotated by 90,
180 and 270 degrees as 3 more classes).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from sketchembednet.data import omniglot
from sketchembednet.data import quickdraw
from sketchembednet.data.errors import DataFileError
from tfds_builders import manual

MAX_LEN = 120  # T: stroke-3 rows kept (the authors' Vinyals cache; the pipeline can cut to 64).
IMAGE_SIZE = 28  # Side of the image the pipeline renders, pixels.
RDP_EPSILON = 2.0  # RDP tolerance in the 105-pixel image frame.
ROTATIONS = (0, 90, 180, 270)  # Vinyals: each rotation is a class of its own.
_SCALE_SPLITS = ("train", "small1", "small2")  # Splits whose offsets give stroke_scale.
_HERE = epath.Path(__file__).parent


def _read_tsv(file_name: str) -> list[list[str]]:
    lines = (_HERE / file_name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


ALPHABET_SETS = {name: subset for name, subset in _read_tsv("alphabets.tsv")}
ALPHABETS = sorted(ALPHABET_SETS)  # ClassLabel order.
VINYALS_RULES = {target: split for split, target in _read_tsv("vinyals_split.tsv")}

# Config -> {archive subset: split it feeds (None: by the Vinyals rules)}.
SCHEMES = {
    "lake": {"background": "train", "evaluation": "test"},
    "lake_small": {"background_small1": "small1", "background_small2": "small2"},
    "vinyals": {"background": None, "evaluation": None},
}
_DOCS = {
    "lake": "Lake et al.'s background (train, 964 characters) / evaluation (test, 659) split",
    "lake_small": "Lake et al.'s minimal background subsets small1 and small2 (5 alphabets each)",
    "vinyals": "Vinyals et al.'s split (1028/172/423 characters), rotations as extra classes",
}


def vinyals_split(alphabet: str, character: str) -> str:
    """The Vinyals split of a character: the most specific rule, else train."""
    return VINYALS_RULES.get(f"{alphabet}/{character}", VINYALS_RULES.get(alphabet, "train"))


@dataclasses.dataclass(eq=False)
class OmniglotStrokesConfig(tfds.core.BuilderConfig):
    """Attributes: scheme: a key of ``SCHEMES``."""

    scheme: str = "lake"


class Builder(manual.ManualDirMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for Omniglot images with stroke-3 strokes.

    A manual directory that is given must hold the config's zips (else
    FileNotFoundError naming it); with none given, the zips are downloaded.
    """

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: official zips, RDP 2.0, T=120, 28x28 renders.",
        "2.0.0": "The rendered `image` feature is gone (the input pipeline renders it); "
                 "the source PNG stays as `original_image`.",
    }
    IMAGE_SIZE = IMAGE_SIZE  # The pipeline renders images of this size.
    BUILDER_CONFIGS = [OmniglotStrokesConfig(name=n, description=d, scheme=n)
                       for n, d in _DOCS.items()]
    DEFAULT_BUILDER_CONFIG_NAME = "vinyals"
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Optional: without a manual directory the official zips are downloaded. To use
    local copies, put the config's files, unchanged and with their official names,
    directly into the manual directory: `images_background.zip`,
    `strokes_background.zip`, `images_evaluation.zip`, `strokes_evaluation.zip`
    (configs `lake`, `vinyals`) or `images_background_small1.zip`,
    `strokes_background_small1.zip`, `images_background_small2.zip`,
    `strokes_background_small2.zip` (config `lake_small`).
    """

    def _info(self) -> tfds.core.DatasetInfo:
        rotated = self.builder_config.scheme == "vinyals"
        num_classes = omniglot.NUM_CHARACTERS * (len(ROTATIONS) if rotated else 1)
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "original_image": tfds.features.Image(
                    shape=(omniglot.IMAGE_SIZE, omniglot.IMAGE_SIZE, 1),
                    doc="The official 105x105 PNG (255 background, 0 ink), rotated as strokes."),
                "strokes": tfds.features.Tensor(
                    shape=(None, 3), dtype=np.float32,
                    doc="stroke-3 in image pixels (y down), RDP 2.0, not normalised."),
                "alphabet": tfds.features.ClassLabel(names=ALPHABETS),
                "character": tfds.features.Text(doc="<alphabet>/characterNN."),
                "character_id": tfds.features.Scalar(
                    dtype=np.int32, doc="Omniglot's global character id, 1..1623."),
                "drawer": tfds.features.Scalar(dtype=np.int32, doc="Drawing number, 1..20."),
                "rotation": tfds.features.Scalar(dtype=np.int32, doc="Degrees, counter-clockwise."),
                "label": tfds.features.ClassLabel(num_classes=num_classes, doc=(
                    "(character_id - 1) * 4 + rotation / 90" if rotated else "character_id - 1")),
            }),
            supervised_keys=("original_image", "label"),
            homepage="https://github.com/brendenlake/omniglot",
            metadata=tfds.core.MetadataDict(),
        )

    def _archives(self, dl_manager) -> tuple[dict, str]:
        """``({subset: (images zip, strokes zip)}, "manual" or "download")``."""
        subsets = SCHEMES[self.builder_config.scheme]
        names = {f"{kind}_{subset}": (kind, subset) for subset in subsets
                 for kind in ("images", "strokes")}
        root, given = self._manual_dir(dl_manager)
        present = [n for n in names if root is not None and (root / f"{n}.zip").exists()]
        if not present and given:
            raise manual.no_files_error(
                "omniglot_strokes", root, f"zip of config {self.builder_config.name!r}",
                f"the official names: {', '.join(sorted(n + '.zip' for n in names))}",
                "download them")
        if present:
            missing = sorted(set(names) - set(present))
            if missing:
                raise FileNotFoundError(
                    f"omniglot_strokes: {root} holds {present} but not "
                    f"{[n + '.zip' for n in missing]}, which config "
                    f"{self.builder_config.name!r} also needs")
            paths, source = {n: root / f"{n}.zip" for n in names}, "manual"
        else:
            urls = {n: omniglot.archive_url(*names[n]) for n in names}
            logging.info("omniglot_strokes: no manual directory given: downloading %d zips "
                         "from %s", len(urls), omniglot.BASE_URL)
            paths, source = dl_manager.download(urls), "download"
        return {s: (epath.Path(paths[f"images_{s}"]), epath.Path(paths[f"strokes_{s}"]))
                for s in subsets}, source

    def _items(self, subset: str, drawing) -> list[tuple[str, int, np.ndarray | None]]:
        """``[(split, rotation, stroke3 or None)]`` of one drawing."""
        stroke3 = omniglot.to_stroke3(drawing.polylines, RDP_EPSILON, drawing.key)
        split = SCHEMES[self.builder_config.scheme][subset]
        if split is not None:
            return [(split, 0, stroke3)]
        split = vinyals_split(drawing.alphabet, drawing.character)
        return [(split, r, None if stroke3 is None else omniglot.rotate_stroke3(stroke3, r))
                for r in ROTATIONS]

    def _split_generators(self, dl_manager):
        start = time.time()
        archives, source = self._archives(dl_manager)
        stats, moments, seen, ignored = {}, np.zeros(3, np.float64), set(), 0
        for subset, (images_zip, strokes_zip) in archives.items():
            drawings, skipped = omniglot.read_pair(images_zip, strokes_zip)
            ignored += skipped
            for drawing in drawings:
                if ALPHABET_SETS.get(drawing.alphabet) != subset.split("_")[0]:
                    raise DataFileError(f"{images_zip}: {drawing.key}: not an alphabet of the "
                                        f"{subset.split('_')[0]} set (see alphabets.tsv)")
                for split, rotation, s3 in self._items(subset, drawing):
                    for what in ("num_source", "dropped_too_long", "dropped_degenerate"):
                        stats.setdefault(f"{split}_{what}", 0)
                    stats[f"{split}_num_source"] += 1
                    if s3 is None:
                        stats[f"{split}_dropped_degenerate"] += 1
                    elif len(s3) > MAX_LEN:
                        stats[f"{split}_dropped_too_long"] += 1
                    elif split in _SCALE_SPLITS and (drawing.key, rotation) not in seen:
                        seen.add((drawing.key, rotation))  # small1 and small2 share drawings.
                        moments += quickdraw.offset_moments([s3])
        splits = sorted({k.rsplit("_num_source", 1)[0] for k in stats if k.endswith("_num_source")})
        for split in splits:
            logging.info("omniglot_strokes %s: %d examples, dropped %d longer than %d rows and "
                         "%d without points", split, stats[f"{split}_num_source"],
                         stats[f"{split}_dropped_too_long"], MAX_LEN,
                         stats[f"{split}_dropped_degenerate"])
        logging.info("omniglot_strokes: ignored %d folder / macOS metadata zip entries", ignored)
        stats.update(stroke_scale=quickdraw.scale_from_moments(moments), max_len=MAX_LEN,
                     image_size=IMAGE_SIZE, rdp_epsilon=RDP_EPSILON, source=source,
                     ignored_zip_entries=ignored, parse_seconds=round(time.time() - start, 2))
        logging.info("omniglot_strokes: normalising scale = %.4f", stats["stroke_scale"])
        self.info.metadata.update(stats)
        return {split: self._generate_examples(split, archives) for split in splits}

    def _generate_examples(self, split: str, archives: dict):
        rotated = self.builder_config.scheme == "vinyals"
        for subset, (images_zip, strokes_zip) in archives.items():
            for drawing in omniglot.read_pair(images_zip, strokes_zip)[0]:
                for item_split, rotation, s3 in self._items(subset, drawing):
                    if item_split != split or s3 is None or len(s3) > MAX_LEN:
                        continue
                    label = (drawing.char_id - 1) * (len(ROTATIONS) if rotated else 1) + (
                        rotation // 90)
                    yield f"{drawing.key}/r{rotation:03d}", {
                        "original_image": np.rot90(drawing.image, rotation // 90).copy(),
                        "strokes": s3,
                        "alphabet": drawing.alphabet,
                        "character": f"{drawing.alphabet}/{drawing.character}",
                        "character_id": drawing.char_id,
                        "drawer": drawing.drawer,
                        "rotation": rotation,
                        "label": label,
                    }

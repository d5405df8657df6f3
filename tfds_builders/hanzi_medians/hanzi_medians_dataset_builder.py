"""Make Me a Hanzi stroke medians of 9,574 Chinese characters as stroke-3 sketches.

    import tfds_builders  # registers the builder
    ds = tfds.load("hanzi_medians", split="train")

Source: the npm registry tarball of ``hanzi-writer-data`` 2.0.1 (David Chanin's
packaging of Make Me a Hanzi, Arphic Public License), downloaded and verified
against ``checksums.tsv``, or ``<manual_dir>/hanzi-writer-data-2.0.1.tgz`` when
present (verified against the same sha256). The ``.tgz`` is read in place.

Processing (``sketchembednet.data.hanzi``): the ``medians`` of each character (one
polyline per stroke, stroke order) are flipped to image coordinates
(``y' = 900 - y``), RDP-simplified with epsilon 12 in the 1024-unit box and
converted to stroke-3, **not normalised**: ``metadata["stroke_scale"]`` (std of
the training offsets) is what the input pipeline divides by. Characters longer
than ``MAX_LEN`` (64) rows, or with fewer than two points, are dropped and
counted in the metadata.

The dataset stores strokes only: images (``Builder.IMAGE_SIZE`` = 28) are
rendered on the fly by the input pipeline. Splits: a hash of the character
sends about 10% of the characters to ``validation`` (the same hash as the
``kanjivg`` builder, so a character shared by both is in the same split).
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from sketchembednet.data import hanzi
from sketchembednet.data import quickdraw
from sketchembednet.data.errors import DataFileError
from tfds_builders import manual
from tfds_builders.splits import character_split as split_of

MAX_LEN = 64  # T: maximum number of stroke-3 rows kept.
IMAGE_SIZE = 28  # Side of the images the pipeline renders from the strokes.
# RDP tolerance in the 1024-unit box, chosen by measurement (README.md): under 0.5 px
# of displacement on the 28 px canvas for 99.9% of characters; 3.6% over T=64.
RDP_EPSILON = 12.0
SPLITS = ("train", "validation")


class Builder(manual.ManualDirMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for Make Me a Hanzi stroke medians (strokes only, no images).

    A manual directory that is given must hold the tarball (else FileNotFoundError
    naming it); with none given, the tarball is downloaded.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: hanzi-writer-data 2.0.1 medians, RDP 12 (1024 box), T=64.",
    }
    IMAGE_SIZE = IMAGE_SIZE  # The input pipeline renders IMAGE_SIZE x IMAGE_SIZE images.
    MAX_LEN = MAX_LEN
    MANUAL_DOWNLOAD_INSTRUCTIONS = f"""
    Optional: without a manual directory the npm registry tarball is downloaded
    ({hanzi.TARBALL_URL}). To build from a local copy instead, put that file,
    unchanged and under its own name, into the manual directory:
    `<manual_dir>/{hanzi.TARBALL_NAME}` (its sha256 must match checksums.tsv).
    """

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "strokes": tfds.features.Tensor(
                    shape=(None, 3), dtype=np.float32,
                    doc="stroke-3 (dx, dy, pen_lifted), 1024-unit box, x right, y down, "
                        "RDP 12, not normalised."),
                "character": tfds.features.Text(doc="The character drawn, e.g. 一."),
                "id": tfds.features.Text(doc="Its code point, e.g. U+4E00."),
                "num_strokes": tfds.features.Scalar(
                    dtype=np.int32, doc="Strokes in the character (entries of 'medians')."),
            }),
            supervised_keys=None,
            homepage="https://github.com/skishore/makemeahanzi",
            metadata=tfds.core.MetadataDict(),
        )

    def _expected_checksum(self) -> tuple[int, str]:
        """``(size, sha256)`` registered in ``checksums.tsv`` for the tarball URL."""
        info = (type(self).url_infos or {}).get(hanzi.TARBALL_URL)
        if info is None:
            raise DataFileError(f"{self._checksums_path}: no checksum for {hanzi.TARBALL_URL}")
        return int(info.size), info.checksum

    def _verify_manual(self, path: epath.Path) -> None:
        """Raises DataFileError naming ``path`` unless it is the registered tarball."""
        size, sha256 = self._expected_checksum()
        actual_size = path.stat().length
        actual = quickdraw.sha256_of(path)
        if (actual_size, actual) != (size, sha256):
            raise DataFileError(
                f"{path}: size {actual_size} and sha256 {actual} do not match the "
                f"{size} bytes and sha256 {sha256} registered for {hanzi.TARBALL_URL}; "
                f"put the unchanged npm tarball there, or remove it to download")

    def _tarball(self, dl_manager) -> tuple[epath.Path, str]:
        """``(path of the .tgz, "manual" or "download")``."""
        root, given = self._manual_dir(dl_manager)
        if root is not None and (epath.Path(root) / hanzi.TARBALL_NAME).exists():
            path = epath.Path(root) / hanzi.TARBALL_NAME
            self._verify_manual(path)
            return path, "manual"
        if given:
            raise manual.no_files_error(
                "hanzi_medians", root, hanzi.TARBALL_NAME,
                f"the unchanged npm tarball under that name, from {hanzi.TARBALL_URL}",
                "download it")
        logging.info("hanzi_medians: no manual directory given: downloading %s",
                     hanzi.TARBALL_URL)
        return epath.Path(dl_manager.download(hanzi.TARBALL_URL)), "download"

    def _split_generators(self, dl_manager):
        start = time.time()
        path, source = self._tarball(dl_manager)
        drawings, ignored = hanzi.read_tarball(path)
        stats = {f"{s}_{what}": 0 for s in SPLITS
                 for what in ("num_source", "dropped_too_long", "dropped_degenerate")}
        kept = {split: [] for split in SPLITS}
        moments = np.zeros(3, np.float64)
        for drawing in drawings:
            split = split_of(drawing.character)
            stats[f"{split}_num_source"] += 1
            s3 = hanzi.to_stroke3(drawing.polylines, RDP_EPSILON, f"{path}: {drawing.member}")
            if s3 is None:
                stats[f"{split}_dropped_degenerate"] += 1
                logging.info("hanzi_medians: dropped %s (%s): fewer than 2 points",
                             drawing.character, drawing.id)
            elif len(s3) > MAX_LEN:
                stats[f"{split}_dropped_too_long"] += 1
                logging.debug("hanzi_medians: dropped %s (%s): %d rows", drawing.character,
                              drawing.id, len(s3))
            else:
                kept[split].append((drawing, s3))
                if split == "train":
                    moments += quickdraw.offset_moments([s3])
        for split in SPLITS:
            logging.info("hanzi_medians %s: %d characters, kept %d, dropped %d longer than %d "
                         "rows and %d with fewer than 2 points", split,
                         stats[f"{split}_num_source"], len(kept[split]),
                         stats[f"{split}_dropped_too_long"], MAX_LEN,
                         stats[f"{split}_dropped_degenerate"])
        stats.update(
            stroke_scale=quickdraw.scale_from_moments(moments), max_len=MAX_LEN,
            image_size=IMAGE_SIZE, rdp_epsilon=RDP_EPSILON, source=source,
            num_source=len(drawings), ignored_tar_members=ignored,
            package_version=hanzi.PACKAGE_VERSION, parse_seconds=round(time.time() - start, 2))
        logging.info("hanzi_medians: normalising scale (std of train offsets) = %.4f",
                     stats["stroke_scale"])
        self.info.metadata.update(stats)
        return {split: self._generate_examples(items) for split, items in kept.items()}

    def _generate_examples(self, items):
        for drawing, s3 in items:
            yield drawing.id, {
                "strokes": s3,
                "character": drawing.character,
                "id": drawing.id,
                "num_strokes": drawing.num_strokes,
            }

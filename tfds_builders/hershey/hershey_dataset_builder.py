"""The Hershey vector fonts as stroke-3 sketches (strokes only).

The glyphs of the 32 fonts embedded in the ``Hershey-Fonts`` package (2.1.0,
installed with the project), so that

    import tfds_builders  # registers the builder
    ds = tfds.load("hershey", split="train")

works offline with no manual step. Other ``.jhf`` fonts can be used by putting
them into ``<manual_dir>/hershey/`` (file names must be among the 32 font names).

Processing (``sketchembednet.data.hershey``): one example per non-empty glyph
per font; the polylines (integer font units, y down) are RDP-simplified with
epsilon 0.5 (half the digitisation grid step) and converted to stroke-3 in font
units. Glyphs with fewer than 2 points, or with more than ``MAX_LEN`` (64)
stroke-3 rows, are dropped and counted in the metadata. There is no image: the
input pipeline renders ``Builder.IMAGE_SIZE`` (28) pixel images from the strokes.

Splits keep characters disjoint: a hash of the ``character`` sends about 10% of
characters, in every font, to ``validation``.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from sketchembednet.data import hershey
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError
from tfds_builders import manual
from tfds_builders.splits import character_split as split_of

MAX_LEN = 64  # T: maximum number of stroke-3 rows kept.
RDP_EPSILON = 0.5  # RDP tolerance in font units (capitals are 21 units tall).
SPLITS = ("train", "validation")


def check_fonts(fonts: dict, source: str) -> None:
    """Raises DataFileError for an unknown font or one with too many glyphs."""
    for font, glyphs in fonts.items():
        if font not in hershey.FONTS:
            raise DataFileError(f"{source}/{font}: unknown font; the file name must be one of "
                                f"{hershey.FONT_NAMES}")
        if len(glyphs) > hershey.FONTS[font]:
            raise DataFileError(f"{source}/{font}: {len(glyphs)} glyphs, more than the "
                                f"{hershey.FONTS[font]} slots of the label classes")


class Builder(manual.ManualDirMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for Hershey font glyphs as stroke-3 drawings.

    A manual directory that is given must hold ``hershey/*.jhf`` (else
    FileNotFoundError naming it); with none given, the installed package is read.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: Hershey-Fonts==2.1.0, 32 fonts, RDP 0.5, T=64, strokes only.",
    }
    IMAGE_SIZE = 28  # The input pipeline renders images of this side from the strokes.
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Nothing to download: by default the fonts embedded in the installed
    `Hershey-Fonts` package are used. To build from other Hershey `.jhf` files,
    put them into `<manual_dir>/hershey/`, named after the font they replace,
    e.g. `<manual_dir>/hershey/futural.jhf` (see hershey.FONT_NAMES).
    """

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "strokes": tfds.features.Tensor(
                    shape=(None, 3), dtype=np.float32,
                    doc="stroke-3 (dx, dy, pen_lifted) in font units, x right, y down, "
                        "not normalised (divide by metadata['stroke_scale'])."),
                "font": tfds.features.ClassLabel(names=hershey.FONT_NAMES),
                "character": tfds.features.Text(
                    doc="ASCII character of the glyph's slot (the key that types it), "
                        "or the glyph id '#<index>' where there is none."),
                "label": tfds.features.ClassLabel(
                    names=hershey.label_names(),
                    doc="The character for the 18 Latin fonts (one class across them), "
                        "'<font>/<character>' for the other fonts."),
                "id": tfds.features.Text(doc="<font>/<glyph index in the font file>."),
            }),
            supervised_keys=("strokes", "label"),
            homepage="https://github.com/apshu/HersheyFonts",
            metadata=tfds.core.MetadataDict(),
        )

    def _source_dir(self, dl_manager):
        """The manual ``hershey/`` folder if it holds ``.jhf`` files, else None (the package).

        Raises:
          FileNotFoundError: if a manual directory was given without ``hershey/*.jhf``.
        """
        folder = self._manual_subfolder(
            dl_manager, "hershey", "*.jhf", dataset="hershey", missing="Hershey .jhf fonts",
            expected="hershey/<font>.jhf, e.g. hershey/futural.jhf",
            fallback=f"use the installed {hershey.PACKAGE} package")
        if folder is not None:
            return folder
        logging.info("hershey: no manual directory given: reading the fonts of the installed "
                     "%s package", hershey.PACKAGE)
        return None

    def _split_generators(self, dl_manager):
        root = self._source_dir(dl_manager)
        version = hershey.package_version()
        source = str(root) if root is not None else f"{hershey.PACKAGE}=={version}"
        start = time.time()
        fonts = hershey.load_fonts(root)
        check_fonts(fonts, source)
        glyphs = [g for font_glyphs in fonts.values() for g in font_glyphs]
        stats = {"source": source, "num_fonts": len(fonts), "num_glyphs": len(glyphs),
                 "num_empty_glyphs": sum(1 for g in glyphs if not g.polylines)}
        by_split = {}
        for split in SPLITS:
            mine = [g for g in glyphs if g.polylines and split_of(g.character) == split]
            degenerate = {g.id for g in mine if sum(len(p) for p in g.polylines) < 2}
            pairs = [(g, hershey.to_stroke3(g, RDP_EPSILON))
                     for g in mine if g.id not in degenerate]
            too_long = [g.id for g, s3 in pairs if len(s3) > MAX_LEN]
            by_split[split] = [(g, s3) for g, s3 in pairs if len(s3) <= MAX_LEN]
            stats.update({f"{split}_num_source": len(mine),
                          f"{split}_dropped_degenerate": len(degenerate),
                          f"{split}_dropped_too_long": len(too_long)})
            logging.info("hershey %s: %d glyphs, kept %d; dropped %d with < 2 points %s and %d "
                         "longer than %d rows %s", split, len(mine), len(by_split[split]),
                         len(degenerate), sorted(degenerate), len(too_long), MAX_LEN, too_long)
        scale = strokes.normalizing_scale(s3 for _, s3 in by_split["train"])
        stats.update(
            stroke_scale=scale, max_len=MAX_LEN, image_size=self.IMAGE_SIZE,
            rdp_epsilon=RDP_EPSILON, package_version=version,
            parse_seconds=round(time.time() - start, 2),
        )
        logging.info("hershey: normalising scale (std of train offsets) = %.4f", scale)
        self.info.metadata.update(stats)
        return {split: self._generate_examples(pairs) for split, pairs in by_split.items()}

    def _generate_examples(self, pairs):
        for glyph, stroke3 in pairs:
            yield glyph.id, {"strokes": stroke3, "font": glyph.font, "character": glyph.character,
                             "label": glyph.label, "id": glyph.id}

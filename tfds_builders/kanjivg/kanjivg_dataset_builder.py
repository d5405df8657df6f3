"""KanjiVG stroke-order drawings as stroke-3 sketches.

The embedded default dataset of sketchembednet. Its source files come from the
``kanjivg`` package on PyPI, which installs with the project, so that

    import tfds_builders  # registers the builder
    ds = tfds.load("kanjivg", split="train")

works offline on a fresh machine with no manual step. A different KanjiVG
release can be used by putting its ``kanji/`` folder of SVG files into the
manual directory.

Processing (``sketchembednet.data.kanjivg``): each ``<path>`` is one stroke in
stroke order; paths are sampled densely, RDP-simplified with epsilon 1.0 (in
the 109-unit KanjiVG box), and converted to stroke-3 in KanjiVG units. Drawings
with more than ``max_len`` (64) stroke-3 rows are dropped, and the counts are
recorded in the dataset metadata. Only strokes are stored: the input pipeline
(``sketchembednet.data.pipeline``) renders the 28x28 image (``Builder.IMAGE_SIZE``)
on the fly with the same rasterizer as the pixel loss.

Splits keep characters disjoint: all variants of a character (e.g. ``04e14``
and ``04e14-Kaisho``) go to the same split, chosen by a hash of the character
(about 10% validation).
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from sketchembednet.data import kanjivg
from sketchembednet.data import strokes
from tfds_builders import manual
from tfds_builders.splits import character_split as split_of

MAX_LEN = 64  # T: maximum number of stroke-3 rows kept.
IMAGE_SIZE = 28  # Side of the image the pipeline renders, pixels.
RDP_EPSILON = 1.0  # RDP tolerance, KanjiVG units (the box is 109 units wide).


class Builder(manual.ManualDirMixin, tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for KanjiVG stroke-3 drawings.

    A manual directory that is given must hold ``kanji/*.svg`` (else
    FileNotFoundError naming it); with none given, the installed package is read.
    """

    VERSION = tfds.core.Version("2.0.0")
    RELEASE_NOTES = {
        "1.0.0": "Initial release: kanjivg==20260714, RDP 1.0, T=64, 28x28 images.",
        "2.0.0": "Strokes only: the `image` feature is gone (the input pipeline renders it).",
    }
    IMAGE_SIZE = IMAGE_SIZE  # The pipeline renders images of this size.
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Nothing to download: by default the SVG files of the installed `kanjivg`
    package are used. To build from another KanjiVG release instead, put its
    `kanji/` folder (files named `<hex codepoint>[-<variant>].svg`) into the
    manual directory, i.e. `<manual_dir>/kanji/04e00.svg`, ...
    """

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict(
                {
                    "id": tfds.features.Text(doc="KanjiVG file stem, e.g. 04e14-Kaisho."),
                    "label": tfds.features.Text(doc="The character drawn, e.g. 一."),
                    "variant": tfds.features.Text(doc="KanjiVG variant name, or empty."),
                    "strokes": tfds.features.Tensor(
                        shape=(None, 3),
                        dtype=np.float32,
                        doc="stroke-3 (dx, dy, pen_lifted) in KanjiVG units (not normalised).",
                    ),
                }
            ),
            supervised_keys=None,
            homepage="https://kanjivg.tagaini.net",
            metadata=tfds.core.MetadataDict(),
        )

    def _source_dir(self, dl_manager):
        """The manual ``kanji/`` folder if it holds SVG files, else the installed package's.

        Raises:
          FileNotFoundError: if a manual directory was given without ``kanji/*.svg``.
        """
        folder = self._manual_subfolder(
            dl_manager, "kanji", "*.svg", dataset="kanjivg", missing="KanjiVG SVG files",
            expected="kanji/<hex codepoint>[-<variant>].svg, e.g. kanji/04e00.svg",
            fallback="use the installed kanjivg package")
        if folder is not None:
            return folder
        source = kanjivg.kanjivg_dir()
        logging.info("kanjivg: no manual directory given: reading the installed package's %s",
                     source)
        return source

    def _split_generators(self, dl_manager):
        source = self._source_dir(dl_manager)
        files = sorted(source.glob("*.svg"))
        if not files:
            raise FileNotFoundError(f"no KanjiVG *.svg files in {source}")
        start = time.time()
        by_split = {"train": [], "validation": []}
        for path in files:
            drawing = kanjivg.load_drawing(path, RDP_EPSILON, text=path.read_text(encoding="utf-8"))
            by_split[split_of(drawing.label)].append(drawing)
        stats = {"source": str(source), "num_files": len(files)}
        for split, drawings in by_split.items():
            kept, dropped = strokes.filter_by_length([d.stroke3 for d in drawings], MAX_LEN)
            dropped = set(dropped)
            by_split[split] = [d for i, d in enumerate(drawings) if i not in dropped]
            stats[f"{split}_dropped_too_long"] = len(dropped)
            logging.info("kanjivg %s: kept %d, dropped %d longer than %d rows",
                         split, len(kept), len(dropped), MAX_LEN)
        scale = strokes.normalizing_scale(d.stroke3 for d in by_split["train"])
        stats.update(
            stroke_scale=scale, max_len=MAX_LEN, image_size=IMAGE_SIZE, rdp_epsilon=RDP_EPSILON,
            parse_seconds=round(time.time() - start, 2),
        )
        logging.info("kanjivg: normalising scale (std of train offsets) = %.4f", scale)
        self.info.metadata.update(stats)
        return {split: self._generate_examples(drawings) for split, drawings in by_split.items()}

    def _generate_examples(self, drawings):
        for drawing in drawings:
            yield drawing.id, {
                "id": drawing.id,
                "label": drawing.label,
                "variant": drawing.variant,
                "strokes": drawing.stroke3,
            }

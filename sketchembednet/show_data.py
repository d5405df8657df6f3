r"""Builds a stroke dataset (if needed), reports its statistics and draws a grid.

    python -m sketchembednet.show_data                       # kanjivg, offline
    python -m sketchembednet.show_data --dataset=kanjivg --split=train --num=48 \
        --out=/tmp/kanjivg_train.png
    python -m sketchembednet.show_data --dataset=hershey                      # offline too
    python -m sketchembednet.show_data --dataset=hanzi_medians \
        --manual_dir=$SKETCHEMBEDNET_SHARED_DATA/hanzi_writer_data

The first run builds the dataset into ``--data_dir`` (KanjiVG from the installed
``kanjivg`` package: about 20 s here); later runs reuse it. The PNG shows each
28x28 input image, rendered on the fly by the input pipeline as training sees it,
beside its stroke-3 sequence drawn as lines.
"""

import json
import time

from absl import app
from absl import flags
from absl import logging

from sketchembednet import cli
from sketchembednet import visualize
from sketchembednet.data import pipeline

_DATASET = flags.DEFINE_string("dataset", "kanjivg", "TFDS name of a sketchembednet builder.")
_SPLIT = flags.DEFINE_string("split", "validation", "Split to draw from.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir (default ~/tensorflow_datasets).")
_MANUAL_DIR = flags.DEFINE_string("manual_dir", None, "Manually downloaded source files, "
                                  "used if the dataset is not built yet.")
_MAX_LEN = flags.DEFINE_integer("max_len", 64, "T: maximum stroke-3 rows.")
_NUM = flags.DEFINE_integer("num", 32, "Number of examples in the grid.")
_OUT = flags.DEFINE_string("out", "sketchembednet_data.png", "Output PNG.")


def main(argv):
    del argv
    start = time.time()
    ds, info = pipeline.load(_DATASET.value, _SPLIT.value, _MAX_LEN.value, batch_size=None,
                             data_dir=_DATA_DIR.value, manual_dir=_MANUAL_DIR.value,
                             shuffle=True, seed=0, cache=False)
    logging.info("prepared %s in %.1f s", info.name, time.time() - start)
    examples = list(ds.take(_NUM.value).as_numpy_iterator())
    path = visualize.save_sketch_grid(
        _OUT.value,
        [ex["image"] for ex in examples],
        [ex["stroke5"][: ex["length"] + 2] for ex in examples],
        titles=[f"{int(ex['length'])} rows" for ex in examples],
        sketch_label="stroke-3",
    )
    summary = {
        "dataset": info.name,
        "examples": info.num_examples,
        "image_shape": list(info.image_shape),
        "stroke_scale": info.stroke_scale,
        "metadata": info.metadata,
        "grid": path,
        "seconds": round(time.time() - start, 1),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    app.run(cli.one_line_errors(main))

r"""Rendering in the input pipeline: a whole batch per rasterizer call, or one sketch each.

    python tools/bench_render_modes.py --data_dir=/tmp/tfds_kanji

Times, on KanjiVG's train split at batch 64, the training pipeline
(``pipeline.load``: images rendered after batching) against the same strokes
rendered one example at a time (``rasterize.render_image``) in a parallel map,
and prints examples/s of both. The pipeline renders after batching because the
batched call is faster (README, Performance).
"""

import time

import tensorflow as tf
from absl import app
from absl import flags

_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir (kanjivg is built if absent).")
_BATCHES = flags.DEFINE_integer("batches", 300, "Batches timed after a 30-batch warm-up.")
BATCH = 64


def _rate(ds) -> float:
    iterator = iter(ds)
    for _ in range(30):
        next(iterator)
    start = time.perf_counter()
    for _ in range(_BATCHES.value):
        next(iterator)
    return _BATCHES.value * BATCH / (time.perf_counter() - start)


def main(argv):
    del argv
    from sketchembednet.data import pipeline
    from sketchembednet.data import rasterize
    from sketchembednet.data import strokes

    batched, _ = pipeline.load("kanjivg", "train", 64, BATCH, data_dir=_DATA_DIR.value,
                               shuffle=True, repeat=True)
    builder, _ = pipeline.prepare("kanjivg", _DATA_DIR.value)

    def one(stroke3):
        stroke5, length = strokes.stroke3_to_stroke5_tf(stroke3, 64)
        return {"image": rasterize.render_image(stroke3, 28), "stroke5": stroke5,
                "length": length}

    per_example = (builder.as_dataset(split="train").map(lambda ex: ex["strokes"]).cache()
                   .shuffle(20_000).repeat().map(one, num_parallel_calls=tf.data.AUTOTUNE)
                   .batch(BATCH).prefetch(tf.data.AUTOTUNE))
    print(f"batched (the pipeline): {_rate(batched):.0f} examples/s")
    print(f"per example, parallel map: {_rate(per_example):.0f} examples/s")


if __name__ == "__main__":
    app.run(main)

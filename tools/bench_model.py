"""Forward + backward (+ Adam update) time per training step of a SketchEmbedNet preset.

Usage:
  TF_CPP_MIN_LOG_LEVEL=2 python tools/bench_model.py --preset=paper --batch_size=64
  TF_CPP_MIN_LOG_LEVEL=2 python tools/bench_model.py --preset=cpu --alpha=0.5 --path=reference

One step = ``model.compute_losses`` under a ``tf.GradientTape`` + ``Adam.apply`` inside
one ``tf.function`` (what ``fit``'s ``train_step`` does). Inputs are random stroke-5
sketches (lengths uniform in [T/4, T]) with images rendered by ``data.rasterize``;
the timing does not depend on the drawings. Prints the parameter counts, then the
median / mean / min wall seconds per step over ``--steps`` steps after ``--warmup``
steps, and the median CPU seconds (all threads) per step.
"""

import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app
from absl import flags
from absl import logging

from sketchembednet.data import rasterize
from sketchembednet.models import presets

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", "cpu", "Model preset: " + ", ".join(sorted(presets.PRESETS)))
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("steps", 10, "Timed steps.")
flags.DEFINE_integer("warmup", 2, "Untimed steps (tracing, first-run allocations).")
flags.DEFINE_float("alpha", 0.0, "Pixel-loss weight; 0 skips the pixel term.")
flags.DEFINE_enum("path", "fast", ["fast", "reference"], "Decoder path: hoisted loop or keras RNN.")
flags.DEFINE_bool("jit", False, "Compile the step with XLA.")
flags.DEFINE_integer("image_size", 28, "Input image size S.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"], "Model precision.")


def _random_batch(batch, max_len, size, seed=0):
    rng = np.random.default_rng(seed)
    s5 = np.zeros((batch, max_len + 1, 5), np.float32)  # [B, T+1, 5]
    s5[:, 0] = (0, 0, 1, 0, 0)
    for b in range(batch):
        length = int(rng.integers(max_len // 4, max_len + 1))
        lift = rng.random(length) < 0.15
        lift[-1] = True
        s5[b, 1:length + 1, :2] = rng.normal(size=(length, 2))
        s5[b, 1:length + 1, 2], s5[b, 1:length + 1, 3] = 1 - lift, lift
        s5[b, length + 1:, 4] = 1
    s5 = tf.constant(s5)
    return rasterize.render_images(s5, size), s5  # [B, S, S, 1] uint8, [B, T+1, 5]


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def _log_sizes(model):
    dec, enc = model.decoder, model.encoder
    backbone = _count([w for b in enc.blocks for w in b.weights])
    logging.info(
        "params: total %d (trainable %d) | encoder backbone %d + embedding heads %d | "
        "decoder: HyperLSTM cell %d, output head %d (cell + head %d), initial-state Dense %d",
        model.count_params(), _count(model.trainable_weights), backbone,
        _count(enc.embedding.weights), _count(dec.cell.weights), _count(dec.head.weights),
        _count(dec.cell.weights) + _count(dec.head.weights),
        _count(dec.initial_state_dense.weights),
    )


def main(argv):
    del argv
    model = presets.build_model(FLAGS.preset, precision=FLAGS.precision)
    max_len = model.max_seq_len
    images, s5 = _random_batch(FLAGS.batch_size, max_len, FLAGS.image_size)
    model.build((images.shape, s5.shape))
    _log_sizes(model)
    optimizer = keras.optimizers.Adam(1e-3, clipvalue=1.0)
    optimizer.build(model.trainable_weights)
    if FLAGS.path == "reference":  # Swap in the keras.layers.RNN path for comparison.
        model.decoder.call = model.decoder.reference_call
    alpha = tf.constant(FLAGS.alpha)

    @tf.function(jit_compile=FLAGS.jit)
    def step(images, s5):
        with tf.GradientTape() as tape:
            loss = model.compute_losses(images, s5, alpha=alpha, training=True)["loss"]
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply(grads, model.trainable_weights)
        return loss

    for _ in range(FLAGS.warmup):
        step(images, s5).numpy()
    times, cpu_times = [], []
    for _ in range(FLAGS.steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = step(images, s5).numpy()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    # Wall time is what a user waits; CPU time (all threads) is less sensitive to other
    # processes sharing the cores.
    logging.info(
        "preset=%s precision=%s path=%s batch=%d T=%d alpha=%g jit=%s: %.3f s/step median, "
        "%.3f mean, %.3f min over %d steps; %.3f CPU-s/step median (loss %.3f)",
        FLAGS.preset, FLAGS.precision, FLAGS.path, FLAGS.batch_size, max_len, FLAGS.alpha,
        FLAGS.jit,
        statistics.median(times), statistics.mean(times), min(times), FLAGS.steps,
        statistics.median(cpu_times), loss,
    )


if __name__ == "__main__":
    app.run(main)

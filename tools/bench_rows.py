"""One training row of ``tools/bench.py``, and the measurement helpers of its sections.

A *row* is one training configuration (``preset:batch``, precision, length bucketing)
timed on real sketch lengths; ``tools/bench.py`` runs each row in its own process
(``--row``) so that its peak RSS is its own. The analytic FLOPs turn the measured
rates into GFLOP/s and MFU.

Example:
  >>> decoder_flops_per_step(dict(embedding_dim=8, rnn_units=4, hyper_units=2,
  ...                             hyper_embedding_size=2, num_mixtures=1))["main_lstm"]
  544
"""

from __future__ import annotations

import glob
import os
import resource
import statistics
import time

import numpy as np
import tensorflow as tf

MAX_LEN = 64
CANVAS = 28


# ------------------------------------------------------------------ analytic FLOPs


def decoder_flops_per_step(cfg: dict) -> dict:
    """Forward multiply-add FLOPs (2 per MAC) per example per time step, by part.

    Matches Magenta's HyperLSTM: the hyper cell reads ``[x; h]``; 8 hyper norms
    (4 gates x {x, h}) each project the hyper output to an embedding and back to H,
    the 4 biased ones twice (scale and shift).
    """
    z, h, hh, emb, m = (cfg["embedding_dim"], cfg["rnn_units"], cfg["hyper_units"],
                        cfg["hyper_embedding_size"], cfg["num_mixtures"])
    x = z + 5
    parts = {
        "main_lstm": 2 * (x + h) * 4 * h,
        "hyper_lstm": 2 * (x + h + hh) * 4 * hh,
        "hyper_norms": 12 * 2 * (hh * emb + emb * h),
        "mdn_head": 2 * h * (3 + 6 * m),
    }
    parts["total"] = sum(parts.values())
    return parts


def train_flops_per_example(cfg: dict, steps: float) -> float:
    """Decoder FLOPs of one training step per example over ``steps`` time steps
    (forward + backward ~ 3 x forward); the encoder adds < 1% and is left out."""
    return 3.0 * steps * decoder_flops_per_step(cfg)["total"]


# ------------------------------------------------------------------ helpers


def median_time(fn, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``fn`` after one untimed call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_rate(batch: int, k: int, n: int, dtype, repeats: int) -> float:
    """Median GFLOP/s of ``[batch, k] x [k, n]`` matmuls (32 chained per call)."""
    a = tf.cast(tf.random.normal([batch, k]), dtype)
    b = tf.cast(tf.random.normal([k, n]) * 0.01, dtype)

    @tf.function
    def run(a, b):
        acc = tf.zeros([batch, n], dtype)
        for _ in tf.range(32):
            acc += tf.matmul(a, b)
        return acc

    seconds = median_time(lambda: run(a, b).numpy(), repeats)
    return 32 * 2 * batch * k * n / seconds / 1e9


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def split_row(row: str) -> tuple[str, int]:
    """``"paper:256"`` -> ``("paper", 256)``."""
    preset, batch = row.split(":")
    return preset, int(batch)


def sketch_pool(source: str, shared_data: str, count: int = 4096,
                seed: int = 0) -> tuple[list, str]:
    """``count`` normalised stroke-3 sketches of at most MAX_LEN rows, and their source.

    Args:
      source: ``quickdraw`` (the ndjson files under ``<shared_data>/quickdraw``),
        ``kanjivg``, or ``auto`` (Quickdraw when those files exist).
      shared_data: the shared data root.
      count: sketches to return.
      seed: of the random choice of sketches.
    """
    from sketchembednet.data import quickdraw
    from sketchembednet.data import strokes

    files = sorted(glob.glob(os.path.join(shared_data, "quickdraw", "*", "*.ndjson")))
    if source == "quickdraw" or (source == "auto" and files):
        if not files:
            raise FileNotFoundError(f"no Quickdraw ndjson files under {shared_data}/quickdraw")
        per_file = count // len(files) + 1
        sketches = []
        for path in files:
            taken = 0
            for drawing in quickdraw.read_simplified_ndjson(path):
                if drawing.stroke3 is not None and len(drawing.stroke3) <= MAX_LEN:
                    sketches.append(drawing.stroke3)
                    taken += 1
                if taken == per_file:
                    break
        name = f"quickdraw ({len(files)} shared ndjson files)"
    else:
        from sketchembednet.data import kanjivg

        sketches = []
        for drawing in kanjivg.iter_drawings():
            if len(drawing.stroke3) <= MAX_LEN:
                sketches.append(drawing.stroke3)
            if len(sketches) == count:
                break
        name = "kanjivg (the embedded dataset's source)"
    rng = np.random.default_rng(seed)
    sketches = [sketches[i] for i in rng.permutation(len(sketches))[:count]]
    scale = strokes.normalizing_scale(sketches)
    return [strokes.normalize(s, scale) for s in sketches], name


def pool_dataset(pool: list):
    """The pool as a tf.data stream of ``{image, stroke5, length}`` (images rendered once)."""
    from sketchembednet.data import rasterize
    from sketchembednet.data import strokes

    stroke5 = np.stack([strokes.stroke3_to_stroke5(s, MAX_LEN) for s in pool])  # [N, T+1, 5]
    images = np.concatenate([
        rasterize.render_images(tf.constant(stroke5[i : i + 512]), CANVAS).numpy()
        for i in range(0, len(stroke5), 512)
    ])  # [N, S, S, 1] uint8
    lengths = np.array([len(s) for s in pool], np.int32)
    return tf.data.Dataset.from_tensor_slices(
        {"image": images, "stroke5": stroke5.astype(np.float32), "length": lengths})


# ------------------------------------------------------------------ one training row


def build(preset: str, precision: str, bucketing: bool):
    """A built model of ``preset`` (seed 0) and its built Adam optimizer."""
    import keras

    from sketchembednet.models import presets

    options = {}  # Only non-defaults, so that the harness also runs on older versions.
    if precision != "float32":
        options["precision"] = precision
    if bucketing:
        options["mask_after_end"] = True
    model = presets.build_model(preset, max_seq_len=MAX_LEN, seed=0, **options)
    model.build(((None, CANVAS, CANVAS, 1), (None, MAX_LEN + 1, 5)))
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    return model, optimizer


def train_step_fn(model, optimizer, alpha: float):
    """The compiled training step (losses, gradient, element-wise clipping, Adam)."""
    variables = model.trainable_variables
    spec = (tf.TensorSpec([None, CANVAS, CANVAS, 1], tf.uint8),
            tf.TensorSpec([None, None, 5], tf.float32))

    @tf.function(input_signature=spec)
    def step(images, stroke5):
        with tf.GradientTape() as tape:
            loss = model.compute_losses(tf.cast(images, tf.float32), stroke5, alpha=alpha,
                                        training=True)["loss"]
        grads = [tf.clip_by_value(g, -1.0, 1.0) for g in tape.gradient(loss, variables)]
        optimizer.apply(grads, variables)
        return loss

    return step


def run_train_row(spec: dict, shared_data: str) -> dict:
    """Times ``spec['steps']`` training steps of one configuration (in this process).

    Returns:
      ``spec`` with the lengths' source, examples/s, steps/s, ms/step, the mean
      decoded steps, GFLOP/s and the peak RSS.
    """
    from sketchembednet.data import pipeline
    from sketchembednet.models import presets

    preset, batch, precision, bucketing = (spec["preset"], spec["batch"], spec["precision"],
                                           spec["bucketing"])
    pool, source = sketch_pool(spec["lengths"], shared_data)
    ds = pool_dataset(pool).shuffle(len(pool), seed=0).repeat()
    if bucketing:
        ds = pipeline.bucket_by_length(ds, spec["length_buckets"], MAX_LEN, batch)
    else:
        ds = ds.batch(batch, drop_remainder=True)
    batches = iter(ds.prefetch(2))
    model, optimizer = build(preset, precision, bucketing)
    step = train_step_fn(model, optimizer, alpha=0.5)
    for _ in range(spec["warmup"]):
        next_batch = next(batches)
        step(next_batch["image"], next_batch["stroke5"]).numpy()
    seconds, steps_run, examples, decoded = 0.0, 0, 0, 0
    while steps_run < spec["steps"] or seconds < spec.get("min_seconds", 0):
        next_batch = next(batches)
        t0 = time.perf_counter()
        step(next_batch["image"], next_batch["stroke5"]).numpy()
        seconds += time.perf_counter() - t0
        steps_run += 1
        examples += int(next_batch["image"].shape[0])
        decoded += int(next_batch["image"].shape[0]) * (int(next_batch["stroke5"].shape[1]) - 1)
    cfg = presets.resolve_config(preset)
    mean_steps = decoded / examples  # decoder steps per example actually run
    flops = train_flops_per_example(cfg, mean_steps) * examples / seconds / 1e9
    return dict(spec, source=source, examples_per_sec=round(examples / seconds, 2),
                steps_per_sec=round(steps_run / seconds, 3),
                ms_per_step=round(1000 * seconds / steps_run, 1),
                mean_decoded_steps=round(mean_steps, 1), gflops=round(flops, 1),
                peak_rss_mib=round(peak_rss_mib()))

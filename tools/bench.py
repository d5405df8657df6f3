r"""Performance harness: where a SketchEmbedNet training step spends its time, and how fast.

    python tools/bench.py                                # everything, about 15 min on 2 cores
    python tools/bench.py --sections=matmul,train --train_rows=cpu:64 --out=/tmp/bench.json

Measures on the current machine, in one invocation (compare configurations by the
ratios of one run: the machine is shared and noisy):

* ``matmul``: dense matmul GFLOP/s in float32 and bfloat16 at the decoder's shape
  ``[B, Z + 5 + H] x [Z + 5 + H, 4 Hh]``, the references for MFU;
* ``train``: training examples/s and steps/s of the training step (losses, gradient,
  element-wise clipping, Adam) per ``preset:batch`` row, in float32 and mixed
  bfloat16, with and without length bucketing, on real sketch lengths (Quickdraw from
  the shared data when present, else KanjiVG); the achieved GFLOP/s from the analytic
  FLOPs, as a fraction of the matmul rates (MFU); and each row's peak RSS;
* ``breakdown``: the same step split into encoder, decoder (teacher-forced, pen and
  stroke losses), pixel loss (rasterizer, blur, cross-entropy) and optimizer, each
  forward + backward, plus the whole step with and without the pixel term;
* ``sampling``: sketches/s of ``model.sample`` (one compiled loop over the batch)
  against stepping the decoder from Python, batched and one sketch at a time (as
  Magenta's ``sample``), at T = 64 for every sketch (pen logits biased so that no
  sketch ends early);
* ``embedding``: images/s of ``model.embed`` (compiled), and of the exported encoder
  when ``--exported_encoder`` names one;
* ``input``: examples/s that the tf.data pipeline delivers (cached, after a warm-up
  epoch), padded and bucketed, against what training consumes.

Every training row runs in its own process (a clean heap for its peak RSS). Figures
are medians of ``--repeats`` timed runs after warm-up, or totals over the timed
batches for the training rows (whose batches differ in length when bucketed).
The report is printed as tables and written as JSON (``--out``).
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf
from absl import app
from absl import flags
from absl import logging

_SECTIONS = flags.DEFINE_list(
    "sections", ["matmul", "train", "breakdown", "sampling", "embedding", "input"],
    "Parts of the report to run.")
_ROWS = flags.DEFINE_list("train_rows", ["paper:256", "paper:64", "cpu:64"],
                          "Training rows as preset:global_batch.")
_PRECISIONS = flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"],
                                "Precisions of the training rows (bf16 only where supported).")
_BUCKETING = flags.DEFINE_list("bucketing", ["off", "on"], "Length bucketing of training rows.")
_BUCKETS = flags.DEFINE_list("length_buckets", ["24", "32", "40", "48", "56"],
                             "Bucket upper lengths when bucketing is on.")
_STEPS = flags.DEFINE_integer("steps", 8, "Timed training steps per row (at least).")
_MIN_SECONDS = flags.DEFINE_float("min_seconds", 15.0, "Time each training row at least this long.")
_WARMUP = flags.DEFINE_integer("warmup", 2, "Untimed training steps per row (tracing).")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repeats of the other measurements.")
_BREAKDOWN = flags.DEFINE_string("breakdown_row", "paper:256", "preset:batch of the breakdown.")
_DATA = flags.DEFINE_enum("lengths", "auto", ["auto", "quickdraw", "kanjivg"],
                          "Sketches whose lengths the training rows use.")
_SHARED = flags.DEFINE_string(
    "shared_data", os.environ.get("SKETCHEMBEDNET_SHARED_DATA", "../shared/data"),
    "Shared data root (its quickdraw/ ndjson files give the Quickdraw lengths).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir for the input section.")
_EXPORTED = flags.DEFINE_string("exported_encoder", None, "SavedModel dir of an exported encoder.")
_OUT = flags.DEFINE_string("out", None, "Write the report here as JSON.")
_ROW = flags.DEFINE_string("row", None, "(internal) run one training row given as JSON.")

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


def _median_time(fn, repeats: int) -> float:
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

    seconds = _median_time(lambda: run(a, b).numpy(), repeats)
    return 32 * 2 * batch * k * n / seconds / 1e9


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _split_row(row: str) -> tuple[str, int]:
    preset, batch = row.split(":")
    return preset, int(batch)


def sketch_pool(source: str, count: int = 4096, seed: int = 0) -> tuple[list, str]:
    """``count`` normalised stroke-3 sketches of at most MAX_LEN rows, and their source."""
    from sketchembednet.data import quickdraw
    from sketchembednet.data import strokes

    files = sorted(glob.glob(os.path.join(_SHARED.value, "quickdraw", "*", "*.ndjson")))
    if source == "quickdraw" or (source == "auto" and files):
        if not files:
            raise FileNotFoundError(f"no Quickdraw ndjson files under {_SHARED.value}/quickdraw")
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


def _pool_dataset(pool: list):
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


def _build(preset: str, precision: str, bucketing: bool):
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


def _train_step_fn(model, optimizer, alpha: float):
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


def run_train_row(spec: dict) -> dict:
    """Times ``spec['steps']`` training steps of one configuration (in this process)."""
    from sketchembednet.data import pipeline
    from sketchembednet.models import presets

    preset, batch, precision, bucketing = (spec["preset"], spec["batch"], spec["precision"],
                                           spec["bucketing"])
    pool, source = sketch_pool(spec["lengths"])
    ds = _pool_dataset(pool).shuffle(len(pool), seed=0).repeat()
    if bucketing:
        ds = pipeline.bucket_by_length(ds, spec["length_buckets"], MAX_LEN, batch)
    else:
        ds = ds.batch(batch, drop_remainder=True)
    batches = iter(ds.prefetch(2))
    model, optimizer = _build(preset, precision, bucketing)
    step = _train_step_fn(model, optimizer, alpha=0.5)
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


def _run_row_subprocess(spec: dict) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), f"--row={json.dumps(spec)}",
         f"--shared_data={_SHARED.value}"],
        capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"training row {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ sections


def section_matmul(report: dict) -> None:
    from sketchembednet.models import presets

    paper = presets.resolve_config("paper")
    k, n = paper["embedding_dim"] + 5 + paper["rnn_units"], 4 * paper["hyper_units"]
    dtypes = [("float32", tf.float32), ("bfloat16", tf.bfloat16)]
    rows = []
    for batch in sorted({_split_row(r)[1] for r in _ROWS.value}):
        for name, dtype in dtypes:
            rate = matmul_rate(batch, k, n, dtype, _REPEATS.value)
            rows.append({"batch": batch, "dtype": name, "shape": [batch, k, n],
                         "gflops": round(rate, 1)})
    report["matmul"] = rows
    print("\n## Matmul reference  [B, K] x [K, N]")
    print(f"{'B':>5} {'K':>5} {'N':>5} {'dtype':>9} {'GFLOP/s':>8}")
    for r in rows:
        print(f"{r['batch']:5d} {k:5d} {n:5d} {r['dtype']:>9} {r['gflops']:8.1f}")


def _matmul_ref(report: dict, batch: int, dtype: str) -> float | None:
    for r in report.get("matmul", []):
        if r["batch"] == batch and r["dtype"] == dtype:
            return r["gflops"]
    return None


def section_train(report: dict) -> None:
    precisions = list(_PRECISIONS.value)
    if "mixed_bfloat16" in precisions:
        from sketchembednet import precision

        if not precision.bf16_support()[0]:
            precisions.remove("mixed_bfloat16")
    rows = []
    for row in _ROWS.value:
        preset, batch = _split_row(row)
        for prec in precisions:
            for bucketing in _BUCKETING.value:
                spec = dict(preset=preset, batch=batch, precision=prec,
                            bucketing=bucketing == "on", steps=_STEPS.value,
                            min_seconds=_MIN_SECONDS.value,
                            warmup=_WARMUP.value, lengths=_DATA.value,
                            length_buckets=[int(b) for b in _BUCKETS.value])
                result = _run_row_subprocess(spec)
                ref32 = _matmul_ref(report, batch, "float32")
                ref16 = _matmul_ref(report, batch, "bfloat16")
                if ref32:
                    result["mfu_vs_fp32_matmul"] = round(result["gflops"] / ref32, 3)
                if ref16:
                    result["mfu_vs_bf16_matmul"] = round(result["gflops"] / ref16, 3)
                rows.append(result)
                print(f"  {preset}:{batch} {prec} bucketing={bucketing}: "
                      f"{result['examples_per_sec']} ex/s", flush=True)
    report["train"] = rows
    print(f"\n## Training step (lengths: {rows[0]['source'] if rows else '-'})")
    print(f"{'row':>10} {'precision':>15} {'bucket':>6} {'ex/s':>8} {'steps/s':>8} "
          f"{'T mean':>6} {'GFLOP/s':>8} {'MFU32':>6} {'MFU16':>6} {'RSS MiB':>8}")
    for r in rows:
        mfu32 = r.get("mfu_vs_fp32_matmul")
        mfu16 = r.get("mfu_vs_bf16_matmul")
        print(f"{r['preset'] + ':' + str(r['batch']):>10} {r['precision']:>15} "
              f"{'on' if r['bucketing'] else 'off':>6} {r['examples_per_sec']:8.1f} "
              f"{r['steps_per_sec']:8.3f} {r['mean_decoded_steps']:6.1f} {r['gflops']:8.1f} "
              f"{'' if mfu32 is None else f'{mfu32:.0%}':>6} "
              f"{'' if mfu16 is None else f'{mfu16:.0%}':>6} {r['peak_rss_mib']:8d}")
    speedups = {}
    by_key = {(r["preset"], r["batch"], r["precision"], r["bucketing"]): r for r in rows}
    for (preset, batch, prec, bucketing), r in by_key.items():
        base = by_key.get((preset, batch, "float32", False))
        if base and (prec, bucketing) != ("float32", False):
            key = f"{preset}:{batch} {prec}{' +bucketing' if bucketing else ''}"
            speedups[key] = round(r["examples_per_sec"] / base["examples_per_sec"], 2)
    report["train_speedups_vs_fp32_padded"] = speedups
    print("speed-ups over float32 without bucketing: "
          + ", ".join(f"{k}: {v}x" for k, v in speedups.items()))


def section_breakdown(report: dict) -> None:
    """Forward + backward time of each part of one step, float32 and padded batches."""
    from sketchembednet import losses

    preset, batch = _split_row(_BREAKDOWN.value)
    pool, _ = sketch_pool(_DATA.value, count=batch)
    data = next(iter(_pool_dataset(pool).batch(batch)))
    images, stroke5 = tf.cast(data["image"], tf.float32), data["stroke5"]
    model, optimizer = _build(preset, "float32", False)
    enc, dec = model.encoder, model.decoder
    z_fixed = tf.stop_gradient(enc(images)[0])
    raw_fixed = tf.Variable(dec((z_fixed, stroke5)))  # stands in for the decoder output
    variables = model.trainable_variables

    @tf.function
    def encoder_part():
        with tf.GradientTape() as tape:
            z = enc(images, training=True)[0]
            loss = tf.reduce_mean(tf.square(z))
        return tape.gradient(loss, enc.trainable_variables)

    @tf.function
    def decoder_part():
        with tf.GradientTape() as tape:
            params = dec.head.split(dec((z_fixed, stroke5), training=True))
            target = stroke5[:, 1:]
            loss = tf.reduce_mean(losses.pen_cross_entropy(params["pen_logits"], target[..., 2:],
                                                           MAX_LEN)
                                  + losses.stroke_nll(params, target, MAX_LEN))
        return tape.gradient(loss, dec.trainable_variables)

    @tf.function
    def pixel_part():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(model._pixel_term(dec.head.split(raw_fixed), stroke5, CANVAS))
        return tape.gradient(loss, raw_fixed)

    grads = [tf.random.normal(v.shape) * 1e-3 for v in variables]

    @tf.function
    def optimizer_part():
        optimizer.apply([tf.clip_by_value(g, -1.0, 1.0) for g in grads], variables)

    def full(alpha):
        step = _train_step_fn(model, optimizer, alpha)
        return lambda: step(data["image"], stroke5).numpy()

    def run(fn):
        return lambda: tf.nest.map_structure(lambda t: t.numpy() if t is not None else t, fn())

    parts = {
        "encoder (fwd+bwd)": _median_time(run(encoder_part), _REPEATS.value),
        "decoder + pen/stroke losses (fwd+bwd)": _median_time(run(decoder_part), _REPEATS.value),
        "pixel loss: rasterize, blur, BCE (fwd+bwd)": _median_time(run(pixel_part),
                                                                     _REPEATS.value),
        "optimizer (clip + Adam)": _median_time(lambda: optimizer_part(), _REPEATS.value),
    }
    step_alpha = _median_time(full(0.5), _REPEATS.value)
    step_zero = _median_time(full(0.0), _REPEATS.value)
    total = sum(parts.values())
    report["breakdown"] = dict(
        row=_BREAKDOWN.value, seconds={k: round(v, 4) for k, v in parts.items()},
        step_alpha_0_5=round(step_alpha, 4), step_alpha_0=round(step_zero, 4),
        pixel_share_of_step=round((step_alpha - step_zero) / step_alpha, 3))
    print(f"\n## Breakdown of one float32 step, {preset} batch {batch} (padded T = {MAX_LEN})")
    for name, seconds in parts.items():
        print(f"  {name:45s} {1000 * seconds:8.1f} ms  {seconds / total:5.0%}")
    print(f"  {'sum of parts':45s} {1000 * total:8.1f} ms")
    print(f"  whole step, alpha 0.5: {1000 * step_alpha:.1f} ms; alpha 0 (no pixel term): "
          f"{1000 * step_zero:.1f} ms; the pixel term adds "
          f"{report['breakdown']['pixel_share_of_step']:.1%} of the step")


def _sampling_model(preset: str):
    model, _ = _build(preset, "float32", False)
    head = model.decoder.head.dense
    bias = head.bias.numpy()
    bias[2] = -30.0  # p3 (end) logit: no sketch ends early, every row runs T steps
    head.bias.assign(bias)
    return model


def section_sampling(report: dict) -> None:
    from sketchembednet import sampling

    rows = []
    for row in ("paper:64", "cpu:64"):
        preset, batch = _split_row(row)
        model = _sampling_model(preset)
        dec = model.decoder
        z = tf.random.normal([batch, model.encoder.embedding_dim])
        compiled = _median_time(lambda: model.sample(z, max_len=MAX_LEN, seed=0)[0].numpy(),
                                _REPEATS.value)

        def python_loop(z):
            """Steps the decoder from Python, one call per time step (Magenta's ``sample``
            does this one sketch at a time)."""
            states = dec.initial_state(z)
            prev = tf.tile([[0.0, 0, 1, 0, 0]], [z.shape[0], 1])
            cache = dict(cache=dec.step_cache(z)) if hasattr(dec, "step_cache") else {}
            for t in range(MAX_LEN):
                raw, states = dec.step(z, prev, states, **cache)
                prev = sampling.sample_mixture(dec.head.split(raw), 1.0, False,
                                               tf.constant([0, t], tf.int32))
            return prev.numpy()

        batched = _median_time(lambda: python_loop(z), max(1, _REPEATS.value // 2))
        single = _median_time(lambda: python_loop(z[:1]), _REPEATS.value)
        rows.append(dict(
            row=row, steps=MAX_LEN, compiled_sketches_per_sec=round(batch / compiled, 1),
            python_batched_sketches_per_sec=round(batch / batched, 1),
            python_per_sketch_sketches_per_sec=round(1 / single, 1),
            speedup_vs_python_batched=round(batched / compiled, 1),
            speedup_vs_python_per_sketch=round(batch * single / compiled, 1)))
    report["sampling"] = rows
    print(f"\n## Sampling, T = {MAX_LEN} steps for every sketch")
    for r in rows:
        print(f"  {r['row']:>9}: compiled loop over the batch "
              f"{r['compiled_sketches_per_sec']:8.1f} sketches/s | Python stepping: batched "
              f"{r['python_batched_sketches_per_sec']:7.1f} ({r['speedup_vs_python_batched']}x "
              f"slower), one sketch at a time {r['python_per_sketch_sketches_per_sec']:6.1f} "
              f"({r['speedup_vs_python_per_sketch']}x slower)")


def section_embedding(report: dict) -> None:
    rows = []
    batch = 256
    images = tf.random.uniform([batch, CANVAS, CANVAS, 1], 0, 255)
    for preset in ("paper", "paper_resnet12"):
        model, _ = _build(preset, "float32", False)
        embed = tf.function(model.embed)
        seconds = _median_time(lambda: embed(images).numpy(), _REPEATS.value)
        rows.append(dict(encoder=preset, batch=batch, images_per_sec=round(batch / seconds, 1)))
    if _EXPORTED.value:
        loaded = tf.saved_model.load(_EXPORTED.value)
        seconds = _median_time(lambda: tf.nest.flatten(loaded(images))[0].numpy(), _REPEATS.value)
        rows.append(dict(encoder=f"exported: {_EXPORTED.value}", batch=batch,
                         images_per_sec=round(batch / seconds, 1)))
    report["embedding"] = rows
    print("\n## Embedding (inference, batch 256, 28x28)")
    for r in rows:
        print(f"  {r['encoder']:>30}: {r['images_per_sec']:9.1f} images/s")


def section_input(report: dict) -> None:
    from sketchembednet.data import pipeline

    rows = []
    batch = 256
    for buckets in (None, tuple(int(b) for b in _BUCKETS.value)):
        ds, _ = pipeline.load("kanjivg", "train", MAX_LEN, batch, data_dir=_DATA_DIR.value,
                              shuffle=True, repeat=True, length_buckets=buckets)
        it = iter(ds)
        per_epoch = 10_000 // batch
        for _ in range(per_epoch + 5):  # fill the cache (one epoch), then steady state
            next(it)
        count = 4 * per_epoch
        t0 = time.perf_counter()
        for _ in range(count):
            next(it)
        seconds = time.perf_counter() - t0
        rows.append(dict(dataset="kanjivg", bucketing=buckets is not None, batch=batch,
                         examples_per_sec=round(count * batch / seconds, 1)))
    consumption = max((r["examples_per_sec"] for r in report.get("train", [])), default=None)
    report["input"] = dict(rows=rows, fastest_training_consumption=consumption)
    print("\n## Input pipeline (cached; delivery without a consumer)")
    for r in rows:
        ratio = f" = {r['examples_per_sec'] / consumption:.0f}x the fastest training row" \
            if consumption else ""
        print(f"  bucketing={'on' if r['bucketing'] else 'off':3}: "
              f"{r['examples_per_sec']:10.1f} examples/s{ratio}")


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    if _ROW.value:
        print(json.dumps(run_train_row(json.loads(_ROW.value))))
        return
    try:
        from sketchembednet import precision
        bf16 = precision.bf16_support()[1]
    except ImportError:  # versions before the precision option
        bf16 = "unknown"

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": dict(platform=platform.platform(), cpus=os.cpu_count(),
                        bf16=bf16, tensorflow=tf.__version__),
    }
    print(f"{report['date']}  {report['machine']}")
    sections = {"matmul": section_matmul, "train": section_train,
                "breakdown": section_breakdown, "sampling": section_sampling,
                "embedding": section_embedding, "input": section_input}
    unknown = set(_SECTIONS.value) - set(sections)
    if unknown:
        raise app.UsageError(f"unknown sections {sorted(unknown)}; choose from {list(sections)}")
    for name in _SECTIONS.value:
        sections[name](report)
    report["peak_rss_mib_harness"] = round(peak_rss_mib())
    if _OUT.value:
        with open(_OUT.value, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)

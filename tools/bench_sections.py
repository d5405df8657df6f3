"""The sections of ``tools/bench.py``: each measures one part, prints its table and
adds its figures to the report (``tools/bench.py`` says what each measures).

Every section is ``section_<name>(report, settings)``: ``report`` is the JSON report
so far (the training section reads the matmul references from it, the input section
the training rates), ``settings`` the harness's flags as :class:`Settings`.

Example:
  >>> report = {}
  >>> section_matmul(report, Settings(rows=["cpu:8"], repeats=1))  # doctest: +SKIP
  >>> [r["dtype"] for r in report["matmul"]]  # doctest: +SKIP
  ['float32', 'bfloat16']
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable

import tensorflow as tf

from bench_rows import CANVAS
from bench_rows import MAX_LEN
from bench_rows import build
from bench_rows import matmul_rate
from bench_rows import median_time
from bench_rows import pool_dataset
from bench_rows import sketch_pool
from bench_rows import split_row
from bench_rows import train_step_fn


@dataclasses.dataclass(frozen=True)
class Settings:
    """The harness's flags (``tools/bench.py``), as the sections read them.

    Attributes:
      rows: training rows as ``preset:global_batch``.
      precisions: precisions of the training rows (bf16 only where supported).
      bucketing: ``off`` / ``on``: length bucketing of the training rows.
      length_buckets: bucket upper lengths when bucketing is on.
      steps: timed training steps per row (at least).
      min_seconds: time each training row at least this long.
      warmup: untimed training steps per row (tracing).
      repeats: timed repeats of the other measurements.
      breakdown_row: ``preset:batch`` of the breakdown.
      lengths: ``auto``, ``quickdraw`` or ``kanjivg``: the sketches whose lengths the
        training rows use.
      shared_data: the shared data root (its ``quickdraw/`` ndjson files).
      data_dir: TFDS data dir of the input section.
      exported_encoder: SavedModel dir of an exported encoder, or None.
      run_row: runs one training row, given as a spec dict, in a fresh process and
        returns its figures (:func:`bench_rows.run_train_row`).

    Example:
      >>> Settings(rows=["cpu:64"]).breakdown_row
      'paper:256'
    """

    rows: list = dataclasses.field(default_factory=lambda: ["paper:256", "paper:64", "cpu:64"])
    precisions: list = dataclasses.field(default_factory=lambda: ["float32", "mixed_bfloat16"])
    bucketing: list = dataclasses.field(default_factory=lambda: ["off", "on"])
    length_buckets: tuple = (24, 32, 40, 48, 56)
    steps: int = 8
    min_seconds: float = 15.0
    warmup: int = 2
    repeats: int = 5
    breakdown_row: str = "paper:256"
    lengths: str = "auto"
    shared_data: str = ""
    data_dir: str | None = None
    exported_encoder: str | None = None
    run_row: Callable[[dict], dict] | None = None


def section_matmul(report: dict, settings: Settings) -> None:
    from sketchembednet.models import presets

    paper = presets.resolve_config("paper")
    k, n = paper["embedding_dim"] + 5 + paper["rnn_units"], 4 * paper["hyper_units"]
    dtypes = [("float32", tf.float32), ("bfloat16", tf.bfloat16)]
    rows = []
    for batch in sorted({split_row(r)[1] for r in settings.rows}):
        for name, dtype in dtypes:
            rate = matmul_rate(batch, k, n, dtype, settings.repeats)
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


def section_train(report: dict, settings: Settings) -> None:
    precisions = list(settings.precisions)
    if "mixed_bfloat16" in precisions:
        from sketchembednet import precision

        if not precision.bf16_support()[0]:
            precisions.remove("mixed_bfloat16")
    rows = []
    for row in settings.rows:
        preset, batch = split_row(row)
        for prec in precisions:
            for bucketing in settings.bucketing:
                spec = dict(preset=preset, batch=batch, precision=prec,
                            bucketing=bucketing == "on", steps=settings.steps,
                            min_seconds=settings.min_seconds,
                            warmup=settings.warmup, lengths=settings.lengths,
                            length_buckets=list(settings.length_buckets))
                result = settings.run_row(spec)
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


def _step_parts(model, optimizer, images, stroke5) -> dict:
    """Callables running the forward + backward of each part of one training step
    (encoder, decoder and its losses, pixel loss, optimizer), named as reported."""
    from sketchembednet import losses

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

    def run(fn):
        return lambda: tf.nest.map_structure(lambda t: t.numpy() if t is not None else t, fn())

    return {
        "encoder (fwd+bwd)": run(encoder_part),
        "decoder + pen/stroke losses (fwd+bwd)": run(decoder_part),
        "pixel loss: rasterize, blur, BCE (fwd+bwd)": run(pixel_part),
        "optimizer (clip + Adam)": lambda: optimizer_part(),
    }


def section_breakdown(report: dict, settings: Settings) -> None:
    """Forward + backward time of each part of one step, float32 and padded batches."""
    preset, batch = split_row(settings.breakdown_row)
    pool, _ = sketch_pool(settings.lengths, settings.shared_data, count=batch)
    data = next(iter(pool_dataset(pool).batch(batch)))
    images, stroke5 = tf.cast(data["image"], tf.float32), data["stroke5"]
    model, optimizer = build(preset, "float32", False)
    parts = {name: median_time(fn, settings.repeats)
             for name, fn in _step_parts(model, optimizer, images, stroke5).items()}

    def full(alpha):
        step = train_step_fn(model, optimizer, alpha)
        return lambda: step(data["image"], stroke5).numpy()

    step_alpha = median_time(full(0.5), settings.repeats)
    step_zero = median_time(full(0.0), settings.repeats)
    total = sum(parts.values())
    report["breakdown"] = dict(
        row=settings.breakdown_row, seconds={k: round(v, 4) for k, v in parts.items()},
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
    model, _ = build(preset, "float32", False)
    head = model.decoder.head.dense
    bias = head.bias.numpy()
    bias[2] = -30.0  # p3 (end) logit: no sketch ends early, every row runs T steps
    head.bias.assign(bias)
    return model


def section_sampling(report: dict, settings: Settings) -> None:
    from sketchembednet import sampling

    rows = []
    for row in ("paper:64", "cpu:64"):
        preset, batch = split_row(row)
        model = _sampling_model(preset)
        dec = model.decoder
        z = tf.random.normal([batch, model.encoder.embedding_dim])
        compiled = median_time(lambda: model.sample(z, max_len=MAX_LEN, seed=0)[0].numpy(),
                                settings.repeats)

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

        batched = median_time(lambda: python_loop(z), max(1, settings.repeats // 2))
        single = median_time(lambda: python_loop(z[:1]), settings.repeats)
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


def section_embedding(report: dict, settings: Settings) -> None:
    rows = []
    batch = 256
    images = tf.random.uniform([batch, CANVAS, CANVAS, 1], 0, 255)
    for preset in ("paper", "paper_resnet12"):
        model, _ = build(preset, "float32", False)
        embed = tf.function(model.embed)
        seconds = median_time(lambda: embed(images).numpy(), settings.repeats)
        rows.append(dict(encoder=preset, batch=batch, images_per_sec=round(batch / seconds, 1)))
    if settings.exported_encoder:
        loaded = tf.saved_model.load(settings.exported_encoder)
        seconds = median_time(lambda: tf.nest.flatten(loaded(images))[0].numpy(),
                              settings.repeats)
        rows.append(dict(encoder=f"exported: {settings.exported_encoder}", batch=batch,
                         images_per_sec=round(batch / seconds, 1)))
    report["embedding"] = rows
    print("\n## Embedding (inference, batch 256, 28x28)")
    for r in rows:
        print(f"  {r['encoder']:>30}: {r['images_per_sec']:9.1f} images/s")


def section_input(report: dict, settings: Settings) -> None:
    from sketchembednet.data import pipeline

    rows = []
    batch = 256
    for buckets in (None, tuple(settings.length_buckets)):
        ds, _ = pipeline.load("kanjivg", "train", MAX_LEN, batch, data_dir=settings.data_dir,
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


SECTIONS = {"matmul": section_matmul, "train": section_train, "breakdown": section_breakdown,
            "sampling": section_sampling, "embedding": section_embedding,
            "input": section_input}  # By --sections name, in the default order.

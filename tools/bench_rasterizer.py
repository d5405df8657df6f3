"""Throughput and peak memory of the differentiable rasterizer (sketchembednet.data.rasterize).

For each configuration (canvas S, batch B, stroke-5 rows N) and chunk size K it
times, after warm-up, the median over repeats of

* ``forward``: ``render_stroke5`` of a batch of stroke-5 sketches;
* ``fwd+bwd``: the pixel loss of SketchEmbedNet (Sec. 3): the ground truth's
  fit applied to GT and prediction, rasterize, Gaussian blur, binary
  cross-entropy, and its gradient w.r.t. the predicted stroke-5 offsets.

Each (configuration, K, mode) runs in a fresh process so that its peak RSS
(``resource.getrusage``) is its own; the table shows the peak, the peak minus
the RSS measured just before the first TensorFlow op (imports and data only),
and the module docstring's bound (fwd+bwd renders GT and prediction, whose
forward loops TF may run concurrently: twice the forward term). ``cpu ms`` is the process CPU time
per batch and ``load`` the 1-minute load average before timing: on a shared
machine, wall-clock numbers drop when other processes take the cores.

Usage:
  python tools/bench_rasterizer.py [--repeats=10] [--chunk_sizes=16] [--json=out.json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import platform
import resource
import statistics
import time

CONFIGS = {"28x28": (28, 256, 65), "84x84": (84, 64, 101)}  # name: (S, B, N)


def _random_stroke5(rng, batch, n, soft):
    """Random stroke-5 [B, N, 5] with pen lifts and 0..N/4 end-token rows."""
    import numpy as np

    out = np.zeros((batch, n, 5), np.float32)
    out[:, 1:, :2] = rng.normal(0.0, 3.0, (batch, n - 1, 2))
    pen = (rng.random((batch, n)) < 0.2).astype(int)
    pen[:, 0] = 0
    for b in range(batch):
        length = rng.integers(3 * n // 4, n)
        pen[b, length + 1 :] = 2
        out[b, length + 1 :, :2] = 0.0
    out[:, :, 2:] = np.eye(3)[pen]
    if soft:
        out[:, :, 2:] = 0.6 * out[:, :, 2:] + 0.4 * rng.dirichlet(np.ones(3), (batch, n))
    return out


def _rss_mb():
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _run_one(name, chunk_size, mode, repeats, warmup):
    """Runs in a child process; returns a result dict."""
    import numpy as np
    import tensorflow as tf

    from sketchembednet.data import rasterize as rz

    size, batch, n = CONFIGS[name]
    rng = np.random.default_rng(0)
    gt = tf.constant(_random_stroke5(rng, batch, n, soft=False))  # [B, N, 5]
    pred = tf.constant(_random_stroke5(rng, batch, n, soft=True))  # [B, N, 5]

    @tf.function
    def forward(stroke5):
        points, seg, valid = rz.stroke5_to_points(stroke5)
        scale, offset = rz.bbox_transform(points, valid, size)
        return rz.rasterize(points * scale + offset, seg, size, chunk_size=chunk_size)

    @tf.function
    def forward_backward(gt5, pred5):
        gt_points, gt_seg, gt_valid = rz.stroke5_to_points(gt5)
        scale, offset = rz.bbox_transform(gt_points, gt_valid, size)
        target = rz.rasterize(gt_points * scale + offset, gt_seg, size, chunk_size)
        target = rz.gaussian_blur(target)  # [B, S, S, 1]
        offsets = pred5[..., :2]
        with tf.GradientTape() as tape:
            tape.watch(offsets)
            points, seg, _ = rz.stroke5_to_points(tf.concat([offsets, pred5[..., 2:]], -1))
            image = rz.rasterize(points * scale + offset, seg, size, chunk_size)
            image = tf.clip_by_value(rz.gaussian_blur(image), 1e-6, 1 - 1e-6)
            bce = -(target * tf.math.log(image) + (1 - target) * tf.math.log(1 - image))
            loss = tf.reduce_mean(bce)
        return loss, tape.gradient(loss, offsets)

    step = (lambda: forward(pred)) if mode == "forward" else (lambda: forward_backward(gt, pred))
    rss_before = _rss_mb()
    for _ in range(warmup):
        np.asarray(tf.nest.flatten(step())[0])
    times, cpu_times = [], []
    load_before = os.getloadavg()[0]
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        np.asarray(tf.nest.flatten(step())[-1])  # fetch the result: the work is done
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    median = statistics.median(times)
    return {
        "config": name, "canvas": size, "batch": batch, "rows": n, "chunk_size": chunk_size,
        "mode": mode, "median_s": median, "sketches_per_s": batch / median,
        "median_cpu_s": statistics.median(cpu_times), "load_avg_1min": load_before,
        "peak_rss_mb": peak_mb, "rss_before_mb": rss_before,
        "formula_mb": _formula_mb(size, batch, n, chunk_size, mode),
    }


def _formula_mb(size, batch, n, chunk, mode):
    """The module docstring's bound on rasterize's working memory, in MiB."""
    pix = size * size
    fwd = 4 * batch * pix * (5 * chunk + 6) + 64 * batch * n
    bwd = 4 * batch * pix * 24 + 16 * batch * n
    kept = 16 * batch * pix + 8 * batch * n
    # fwd+bwd renders GT and prediction, whose forward loops TF may run concurrently.
    return (fwd if mode == "forward" else max(2 * fwd, fwd + bwd) + kept) / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma list of: "
                        + ", ".join(CONFIGS))
    parser.add_argument("--chunk_sizes", default="16", help="comma list of chunk sizes K")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    # The children (spawned below) inherit the environment: quiet TensorFlow's C++ logs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    jobs = [(name, int(k), mode) for name in args.configs.split(",")
            for k in args.chunk_sizes.split(",") for mode in ("forward", "fwd+bwd")]
    results = []
    spawn = multiprocessing.get_context("spawn")
    for job in jobs:  # one fresh process each: peak RSS per job
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
            results.append(pool.submit(_run_one, *job, args.repeats, args.warmup).result())

    header = (f"{'config':>6} {'B':>4} {'N':>4} {'K':>3} {'mode':>8} {'ms/batch':>9} "
              f"{'sketch/s':>9} {'cpu ms':>7} {'load':>5} {'peak MiB':>8} {'+MiB':>6} "
              f"{'bound MiB':>9}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['config']:>6} {r['batch']:>4} {r['rows']:>4} {r['chunk_size']:>3} "
              f"{r['mode']:>8} "
              f"{1000 * r['median_s']:9.1f} {r['sketches_per_s']:9.0f} "
              f"{1000 * r['median_cpu_s']:7.0f} {r['load_avg_1min']:5.1f} {r['peak_rss_mb']:8.0f} "
              f"{r['peak_rss_mb'] - r['rss_before_mb']:6.0f} {r['formula_mb']:9.1f}")
    if args.json:
        meta = {"cpus": os.cpu_count(), "machine": platform.machine(), "repeats": args.repeats,
                "warmup": args.warmup}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()

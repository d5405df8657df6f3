r"""Performance harness, part 1: matmul references, analytic FLOPs and MFU of training.

    python tools/bench.py                                   # paper preset, batch 64 and 256
    python tools/bench.py --presets=cpu,paper --batch_sizes=64 --json=/tmp/bench.json

Measures, in one process, so ratios are comparable on a noisy shared machine:

* the dense matmul rate (GFLOP/s) in float32 and bfloat16 at the decoder's shape
  (``[B, Z + 5 + H] x [Z + 5 + H, 4 Hh]``-like products), the references for MFU;
* the analytic FLOPs of one training step per example (forward x 3 for forward +
  backward), from the model's sizes;
* the real training step's examples/s and its MFU = achieved GFLOP/s / matmul rate.

Medians over ``--repeats`` after warm-up. Still to come (issue 5): mixed precision,
length bucketing, the per-part breakdown, sampling/embedding/input-pipeline rates
and peak memory.
"""

import json
import os
import statistics
import sys
import time

import tensorflow as tf
from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_train  # noqa: E402  (the trainer-step measurement; same flags)

from sketchembednet.models import presets  # noqa: E402

_PRESETS = flags.DEFINE_list("bench_presets", ["paper"], "Model presets to time.")
_BATCHES = flags.DEFINE_list("batch_sizes", ["64", "256"], "Global batch sizes.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repeats of each matmul.")
_OUT = flags.DEFINE_string("out", None, "Write the report here as JSON.")


def decoder_flops_per_step(cfg: dict, max_len: int = 64) -> dict:
    """Forward multiply-add FLOPs (2 per MAC) per example per time step, by part.

    Matches Magenta's HyperLSTM: the hyper cell reads ``[x; h]``; 8 hyper norms
    (4 gates x {x, h}) each project the hyper output to an embedding and back to
    H, 4 of them (the biased ones) twice.
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
    parts["train_step_per_example"] = 3 * max_len * parts["total"]  # fwd + bwd ~ 3x fwd
    return parts


def matmul_rate(batch: int, k: int, n: int, dtype) -> float:
    """Median GFLOP/s of ``[batch, k] x [k, n]`` matmuls (32 chained per call)."""
    a = tf.random.normal([batch, k], dtype=tf.float32)
    b = tf.random.normal([k, n], dtype=tf.float32) * 0.01
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)

    @tf.function
    def run(a, b):
        acc = tf.zeros([batch, n], dtype)
        for _ in tf.range(32):
            acc += tf.matmul(a, b)
        return acc

    run(a, b).numpy()
    times = []
    for _ in range(_REPEATS.value):
        t0 = time.perf_counter()
        run(a, b).numpy()
        times.append(time.perf_counter() - t0)
    return 32 * 2 * batch * k * n / statistics.median(times) / 1e9


def main(argv):
    del argv
    report = {"matmul": [], "models": []}
    paper = presets.resolve_config("paper")
    k = paper["embedding_dim"] + 5 + paper["rnn_units"]
    for batch in map(int, _BATCHES.value):
        for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
            rate = matmul_rate(batch, k, 4 * paper["hyper_units"], dtype)
            report["matmul"].append({"batch": batch, "dtype": name, "gflops": round(rate, 1)})
            print(f"matmul [{batch}, {k}] x [{k}, {4 * paper['hyper_units']}] {name:8s}: "
                  f"{rate:7.1f} GFLOP/s")
    fp32 = {r["batch"]: r["gflops"] for r in report["matmul"] if r["dtype"] == "float32"}
    for preset in _PRESETS.value:
        flops = decoder_flops_per_step(presets.resolve_config(preset))
        print(f"{preset}: forward MFLOP per example-step {flops['total'] / 1e6:.1f} "
              f"(main {flops['main_lstm'] / 1e6:.1f}, hyper {flops['hyper_lstm'] / 1e6:.1f}, "
              f"norms {flops['hyper_norms'] / 1e6:.1f}, head {flops['mdn_head'] / 1e6:.2f}); "
              f"train step {flops['train_step_per_example'] / 1e9:.2f} GFLOP per example")
        for batch in map(int, _BATCHES.value):
            flags.FLAGS.batch_size = batch
            row = bench_train.run_isolated(preset, "default")
            achieved = row["examples_per_sec"] * flops["train_step_per_example"] / 1e9
            row.update(gflops=round(achieved, 1), mfu_fp32=round(achieved / fp32[batch], 3))
            report["models"].append(row)
            print(f"  batch {batch}: {row['examples_per_sec']:.1f} examples/s, "
                  f"{achieved:.1f} GFLOP/s = {100 * row['mfu_fp32']:.0f}% of the fp32 matmul rate")
    if _OUT.value:
        with open(_OUT.value, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    app.run(main)

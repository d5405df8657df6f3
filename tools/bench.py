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

This file is the CLI; the sections are in ``tools/bench_sections.py``, one training
row and the measurement helpers in ``tools/bench_rows.py``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys

import tensorflow as tf
from absl import app
from absl import flags
from absl import logging

from sketchembednet import paths

import bench_sections
from bench_rows import peak_rss_mib
from bench_rows import run_train_row

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
    "shared_data", paths.shared_data_dir(),
    "Shared data root (its quickdraw/ ndjson files give the Quickdraw lengths).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir for the input section.")
_EXPORTED = flags.DEFINE_string("exported_encoder", None, "SavedModel dir of an exported encoder.")
_OUT = flags.DEFINE_string("out", None, "Write the report here as JSON.")
_ROW = flags.DEFINE_string("row", None, "(internal) run one training row given as JSON.")


def _run_row_subprocess(spec: dict) -> dict:
    """Runs one training row in a fresh process (``--row``): its peak RSS is its own."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), f"--row={json.dumps(spec)}",
         f"--shared_data={_SHARED.value}"],
        capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"training row {spec} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def settings_from_flags() -> bench_sections.Settings:
    """The parsed flags as the sections' :class:`bench_sections.Settings`."""
    return bench_sections.Settings(
        rows=list(_ROWS.value), precisions=list(_PRECISIONS.value),
        bucketing=list(_BUCKETING.value),
        length_buckets=tuple(int(b) for b in _BUCKETS.value), steps=_STEPS.value,
        min_seconds=_MIN_SECONDS.value, warmup=_WARMUP.value, repeats=_REPEATS.value,
        breakdown_row=_BREAKDOWN.value, lengths=_DATA.value, shared_data=_SHARED.value,
        data_dir=_DATA_DIR.value, exported_encoder=_EXPORTED.value,
        run_row=_run_row_subprocess)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    if _ROW.value:
        print(json.dumps(run_train_row(json.loads(_ROW.value), _SHARED.value)))
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
    sections = bench_sections.SECTIONS
    unknown = set(_SECTIONS.value) - set(sections)
    if unknown:
        raise app.UsageError(f"unknown sections {sorted(unknown)}; choose from {list(sections)}")
    settings = settings_from_flags()
    for name in _SECTIONS.value:
        sections[name](report, settings)
    report["peak_rss_mib_harness"] = round(peak_rss_mib())
    if _OUT.value:
        with open(_OUT.value, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {_OUT.value}")


if __name__ == "__main__":
    app.run(main)

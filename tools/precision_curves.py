r"""Training-loss curves of float32 and mixed_bfloat16 runs, with seed noise for scale.

    python tools/precision_curves.py --root=runs/precision --steps=2000 \
        --plot=docs/precision_loss_curves.png

Trains three runs of the demo config (real KanjiVG data) for ``--steps`` steps each,
one after the other in this process: float32 with seed 0, float32 with seed 1, and
mixed_bfloat16 with seed 0. A finished run is not retrained (the trainer resumes and
stops at once). Then it reads ``train/loss`` from each run's TensorBoard log, plots the
three curves, and reports the mean absolute difference of the logged losses over the
last ``--tail`` steps between bf16 and float32 (same seed and data order) next to the
difference between the two float32 seeds, the noise floor. Writes the figures as JSON
beside the plot.
"""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import tensorflow as tf
from absl import app
from absl import flags
from absl import logging

_ROOT = flags.DEFINE_string("root", "runs/precision", "Folder for the three run workdirs.")
_STEPS = flags.DEFINE_integer("steps", 2000, "Training steps per run.")
_TAIL = flags.DEFINE_integer("tail", 500, "Steps at the end over which curves are compared.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir.")
_PLOT = flags.DEFINE_string("plot", "docs/precision_loss_curves.png", "Output PNG.")

RUNS = (("float32, seed 0", "float32", 0), ("float32, seed 1", "float32", 1),
        ("mixed_bfloat16, seed 0", "mixed_bfloat16", 0))


def run_config(precision: str, seed: int):
    from sketchembednet.configs import demo

    config = demo.get_config()
    config.model.precision = precision
    config.train.seed = seed
    config.train.num_steps = _STEPS.value
    config.train.steps_per_loop = 50  # Each logged loss is the mean of the last 50 steps.
    config.train.log_every = 50
    config.train.sample_every = 0
    config.train.checkpoint_every = 500
    if _DATA_DIR.value:
        config.dataset.data_dir = _DATA_DIR.value
    return config


def read_scalars(workdir: str, tag: str = "train/loss") -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one scalar from a run's TensorBoard event files."""
    points = {}
    for path in sorted(glob.glob(os.path.join(workdir, "tensorboard", "events.out.tfevents.*"))):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    points[event.step] = float(tf.make_ndarray(value.tensor))
    if not points:
        raise ValueError(f"{workdir}: no {tag!r} summaries in its tensorboard/ folder")
    steps = np.array(sorted(points))
    return steps, np.array([points[s] for s in steps])


def main(argv):
    del argv
    from sketchembednet import distribute
    from sketchembednet import trainer

    curves = {}
    for label, precision, seed in RUNS:
        workdir = os.path.join(_ROOT.value, f"{precision}-seed{seed}")
        config = run_config(precision, seed)
        result = trainer.Trainer(config, workdir, distribute.get_strategy("default")).train()
        logging.info("%s: %s", label, result)
        curves[label] = read_scalars(workdir)
        curves[label + " wall"] = result.get("train/wall_seconds")

    def tail_mean_abs(a: str, b: str) -> float:
        (sa, va), (sb, vb) = curves[a], curves[b]
        common = np.intersect1d(sa, sb)
        common = common[common > _STEPS.value - _TAIL.value]
        pick = lambda s, v: v[np.searchsorted(s, common)]  # noqa: E731
        return float(np.mean(np.abs(pick(sa, va) - pick(sb, vb))))

    report = dict(
        steps=_STEPS.value, tail=_TAIL.value,
        bf16_vs_fp32_same_seed=tail_mean_abs("mixed_bfloat16, seed 0", "float32, seed 0"),
        fp32_seed0_vs_seed1=tail_mean_abs("float32, seed 1", "float32, seed 0"),
        final_loss={label: float(curves[label][1][-1]) for label, _, _ in RUNS},
    )
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for (label, _, _), style in zip(RUNS, ("-", ":", "--")):
        steps, values = curves[label]
        ax.plot(steps, values, style, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (mean of 50 steps)")
    gap, noise = report["bf16_vs_fp32_same_seed"], report["fp32_seed0_vs_seed1"]
    ax.set_title(f"demo config on KanjiVG: bf16 vs float32 (last {_TAIL.value} steps: "
                 f"|bf16 - fp32| {gap:.3f}, seed noise {noise:.3f})", fontsize=8)
    ax.legend()
    ax.grid(alpha=0.3)
    os.makedirs(os.path.dirname(os.path.abspath(_PLOT.value)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(_PLOT.value, dpi=120)
    with open(os.path.splitext(_PLOT.value)[0] + ".json", "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    app.run(main)

r"""Training throughput of the real trainer, per model preset and strategy.

    python tools/bench_train.py                                  # demo (cpu) + paper, batch 64
    python tools/bench_train.py --presets=cpu --strategies=default,mirrored --steps=100

Each row runs ``sketchembednet.trainer.Trainer`` on the embedded KanjiVG data for
``--warmup`` steps (compilation), then ``--steps`` more, and reports the steps/s and
examples/s of the timed part (the trainer's own measurement, over whole inner loops),
with α > 0 so the pixel loss is included. ``mirrored`` splits the CPU into
``--cpu_replicas`` logical devices; on one machine the replicas share its cores, so
it measures the distribution overhead, not a speed-up. Batches are length-bucketed
as in the demo config unless ``--nobucketing``. ``tools/bench.py`` is the full harness.
"""

import json
import os
import subprocess
import sys
import tempfile

from absl import app
from absl import flags

from sketchembednet import distribute

_PRESETS = flags.DEFINE_list("presets", ["cpu", "paper"], "Model presets.")
_STRATEGIES = flags.DEFINE_list("strategies", ["default", "mirrored"], "Strategies.")
_BATCH = flags.DEFINE_integer("batch_size", 64, "Global batch size.")
_STEPS = flags.DEFINE_integer("steps", 40, "Timed steps.")
_WARMUP = flags.DEFINE_integer("warmup", 10, "Untimed steps (tracing, first allocations).")
_CPU_REPLICAS = flags.DEFINE_integer("cpu_replicas", 2, "Logical CPUs for mirrored.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir.")
_JSON = flags.DEFINE_string("json", None, "Write the rows here as JSON.")
_BUCKETING = flags.DEFINE_bool("bucketing", True, "Length bucketing as the demo config.")


def run_one(preset: str, strategy_name: str) -> dict:
    from sketchembednet import trainer
    from sketchembednet.configs import base
    from sketchembednet.configs import demo

    config = demo.get_config()
    config.model = base.model_config(preset, mask_after_end=_BUCKETING.value)
    if not _BUCKETING.value:
        config.dataset.length_buckets = ()
    config.dataset.data_dir = _DATA_DIR.value or ""
    config.train.batch_size = _BATCH.value
    config.alpha.start = 0.5  # Pixel loss on throughout.
    total = _WARMUP.value + _STEPS.value
    config.train.update(num_steps=total, steps_per_loop=_STEPS.value, log_every=0,
                        sample_every=0, checkpoint_every=total)
    with tempfile.TemporaryDirectory() as workdir:
        run = trainer.Trainer(config, workdir, distribute.get_strategy(strategy_name))
        run.config.train.num_steps = _WARMUP.value
        run.train()
        run.config.train.num_steps = total
        result = run.train()
    return {
        "preset": preset, "strategy": strategy_name, "batch": _BATCH.value,
        "bucketing": _BUCKETING.value,
        "replicas": run.strategy.num_replicas_in_sync,
        "steps_per_sec": round(result["train/steps_per_sec"], 3),
        "examples_per_sec": round(result["train/examples_per_sec"], 1),
        "ms_per_step": round(1000 / result["train/steps_per_sec"], 1),
    }


def run_isolated(preset: str, strategy_name: str) -> dict:
    """One row in a fresh process: two MirroredStrategies with different models in one
    process collide on TF's collective instance keys."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "row.json")
        cmd = [sys.executable, os.path.abspath(__file__), f"--presets={preset}",
               f"--strategies={strategy_name}", f"--batch_size={_BATCH.value}",
               f"--steps={_STEPS.value}", f"--warmup={_WARMUP.value}",
               f"--cpu_replicas={_CPU_REPLICAS.value}", f"--json={out}",
               f"--bucketing={_BUCKETING.value}"]
        if _DATA_DIR.value:
            cmd.append(f"--data_dir={_DATA_DIR.value}")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            return json.load(f)[0]


def main(argv):
    del argv
    pairs = [(p, s) for p in _PRESETS.value for s in _STRATEGIES.value]
    if len(pairs) == 1:
        distribute.split_cpu(_CPU_REPLICAS.value)
        rows = [run_one(*pairs[0])]
    else:
        rows = [run_isolated(*pair) for pair in pairs]
    header = (f"{'preset':8} {'strategy':9} {'batch':>5} {'repl':>4} {'steps/s':>8} "
              f"{'ex/s':>7} {'ms/step':>8}")
    print(header)
    for r in rows:
        print(f"{r['preset']:8} {r['strategy']:9} {r['batch']:5d} {r['replicas']:4d} "
              f"{r['steps_per_sec']:8.3f} {r['examples_per_sec']:7.1f} {r['ms_per_step']:8.1f}")
    if _JSON.value:
        os.makedirs(os.path.dirname(os.path.abspath(_JSON.value)), exist_ok=True)
        with open(_JSON.value, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    app.run(main)

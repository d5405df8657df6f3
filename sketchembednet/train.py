r"""Trains SketchEmbedNet. The only module of the package that reads flags.

    python -m sketchembednet.train --strategy=mirrored          # demo on the embedded KanjiVG data
    python -m sketchembednet.train --config=quickdraw --workdir=runs/qd --strategy=mirrored
    python -m sketchembednet.train --config=demo --config.model.rnn_units=512 --workdir=runs/demo512
    TF_CONFIG='{"cluster": ...}' python -m sketchembednet.train --strategy=multi_worker ...

Re-running the same command resumes from the last checkpoint in ``--workdir``.
Ctrl-C (SIGINT) or SIGTERM writes a checkpoint of the current step and exits with
128 + the signal number (130 or 143) and a one-line message.
``--export=exported/<name>`` exports the trained model afterwards (``sketchembednet.export``).
``--config`` takes a packaged config name (``demo``, ``quickdraw``, ``sketchy``;
see ``sketchembednet/configs/``) or a path to a config file, optionally with
``:arg``; dotted flags override single fields. The resolved config is saved as
``<workdir>/config.json``. TensorBoard: ``tensorboard --logdir <workdir>``.

Strategies: ``default``, ``one_device``, ``mirrored`` (all GPUs, or the logical
CPUs; ``--cpu_replicas=2`` splits the CPU in two, for testing), ``multi_worker``
(MultiWorkerMirroredStrategy from ``TF_CONFIG``) and ``tpu`` (untested).
"""

import os
import shlex
import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from sketchembednet import configs

_CONFIG = config_flags.DEFINE_config_file(
    "config", configs.config_path("demo"), "Training config: a packaged name or a file path."
)
_WORKDIR = flags.DEFINE_string(
    "workdir", "",
    "Output folder (default runs/<dataset>-<model preset>[-<baseline kind>]); resumes from it.",
)
_STRATEGY = flags.DEFINE_enum(
    "strategy", "default", ["default", "one_device", "mirrored", "multi_worker", "tpu"],
    "tf.distribute strategy.",
)
_CPU_REPLICAS = flags.DEFINE_integer(
    "cpu_replicas", 0, "Split the CPU into this many logical devices (for mirrored on CPU).",
)
_TPU = flags.DEFINE_string("tpu", "", "TPU name or address for --strategy=tpu.")
_EXPORT = flags.DEFINE_string(
    "export", "",
    "After training, export the run here (sketchembednet.export; an earlier export is replaced).",
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    # Imported here so that --help is fast and flags parse before TF initialises.
    from sketchembednet import distribute
    from sketchembednet import interrupts
    from sketchembednet import trainer
    from sketchembednet.configs import checks
    from sketchembednet.models import checkpoints

    config = _CONFIG.value
    try:  # Before anything touches the disk (the replica count is checked again later).
        checks.check_config(config)
    except ValueError as e:
        sys.exit(f"error: {e}")
    distribute.split_cpu(_CPU_REPLICAS.value)
    kind = config.model.get("kind", "sketchembednet")
    suffix = "" if kind == "sketchembednet" else f"-{kind}"
    dataset = config.dataset.name.replace("/", "_")
    workdir = _WORKDIR.value or f"runs/{dataset}-{config.model.preset}{suffix}"
    strategy = distribute.get_strategy(_STRATEGY.value, _TPU.value)
    logging.info("config:\n%s", config)
    try:
        result = trainer.Trainer(config, workdir, strategy).train()
    except interrupts.TrainingInterrupted as e:
        print(str(e), file=sys.stderr, flush=True)
        sys.exit(128 + e.signal_number)
    except (checks.ConfigError, checkpoints.CheckpointMismatchError,
            checkpoints.CorruptCheckpointError) as e:
        sys.exit(f"error: {e}")
    logging.info("done: %s", result)
    print(f"trained to step {result.get('train/step', 'n/a')}; outputs in {workdir}")
    if _EXPORT.value and distribute.is_chief(strategy):
        from sketchembednet import export

        command = " ".join(["python -m sketchembednet.train", *map(shlex.quote, sys.argv[1:])])
        paths = export.export(workdir, _EXPORT.value, overwrite=True, train_command=command)
        print(f"exported to {paths['out']}")


def run():
    """Entry point: maps packaged config names (``--config=demo``) to their files."""
    argv = list(sys.argv)
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            argv[i] = "--config=" + _resolve(arg.split("=", 1)[1])
        elif arg == "--config" and i + 1 < len(argv):
            argv[i + 1] = _resolve(argv[i + 1])
    app.run(main, argv=argv)


def _resolve(value: str) -> str:
    path = configs.config_path(value)
    if not os.path.exists(path.split(":", 1)[0]):
        sys.exit(f"--config={value}: no such config file; use a path or one of "
                 f"{', '.join(configs.PACKAGED)}")
    return path


if __name__ == "__main__":
    run()

r"""Scale check: the streaming input pipeline and training on a dataset of N sketches.

    python tools/scale_check.py --examples=2000000          # about 10 min on 2 cores
    python tools/scale_check.py --examples=20000 --steps=50  # a quick look

1. Builds, in a child process (so that the build's memory is not counted as the
   training's), a TFDS dataset ``scale_check`` of N training sketches under a
   temporary folder: the real Quick, Draw! drawings of the shared pack
   (``quickdraw/simplified_345cls_25each``, found through
   ``SKETCHEMBEDNET_SHARED_DATA``), each replica a random rotation (±15°), shear
   (±0.15), anisotropic scale (±15%) and point jitter (σ 0.5 units of the 256 box)
   of one of them, so that no two examples are equal. Strokes only, like every
   stroke builder of the project.
2. Times the input pipeline alone, called as the trainer calls it
   (``pipeline.load``: interleaved reads, bounded shuffle, length buckets, images
   rendered in ``tf.data``), over ``--pipeline_batches`` batches after a warm-up.
3. Trains ``--steps`` steps of the ``cpu`` preset (the demo config on this dataset,
   batch 64) through the real :class:`sketchembednet.trainer.Trainer`; the training
   rate is the last logging window's (compiled and warm).
4. Prints one JSON line with ``examples``, ``peak_rss_mib`` (this process's peak
   resident memory: pipeline and training), ``pipeline_examples_per_sec``,
   ``train_examples_per_sec``, and more (the ratio, whether the split was cached,
   build time and memory, dataset size on disk).

Targets (issue 18) at N = 2,000,000: peak RSS <= 4 GiB, and the pipeline delivers
at least 3x what training consumes.
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import tensorflow_datasets as tfds
from absl import app
from absl import flags

from sketchembednet import paths

_EXAMPLES = flags.DEFINE_integer("examples", 2_000_000, "Training sketches to write.")
_STEPS = flags.DEFINE_integer("steps", 100, "Training steps (cpu preset, batch 64).")
_PIPELINE_BATCHES = flags.DEFINE_integer("pipeline_batches", 400,
                                         "Batches timed for the pipeline alone.")
_WORK_DIR = flags.DEFINE_string("work_dir", "", "Where to build (default: a temporary dir, "
                                "removed at the end).")
_KEEP = flags.DEFINE_bool("keep", False, "Keep the work dir.")
_SHARED = flags.DEFINE_string("shared_data", paths.shared_data_dir(), "The shared data pack.")
_BUILD_ONLY = flags.DEFINE_bool("build_only", False, "Internal: build the dataset and exit.")

NAME = "scale_check"
VALIDATION = 1_000  # Validation sketches (the trainer's sample grids read a few).
SOURCE = "quickdraw/simplified_345cls_25each"


def _peak_rss_mib(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: KiB.


def source_drawings(shared_data: str) -> list[np.ndarray]:
    """The real drawings replicated: every shared Quick, Draw! drawing of <= 64 rows."""
    from sketchembednet.data import quickdraw

    folder = pathlib.Path(shared_data) / SOURCE
    files = sorted(folder.glob("*.ndjson"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.ndjson files; set SKETCHEMBEDNET_SHARED_DATA "
                                "or --shared_data to the shared data pack")
    drawings = [d.stroke3 for path in files for d in quickdraw.read_simplified_ndjson(path)
                if d.stroke3 is not None and len(d.stroke3) <= 64]
    return drawings


def replica(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly transformed copy of a stroke-3 drawing (NumPy)."""
    angle = np.deg2rad(rng.uniform(-15, 15))
    rotate = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, 0.0], [rng.uniform(-0.15, 0.15), 1.0]])
    scale = np.diag(1.0 + rng.uniform(-0.15, 0.15, 2))
    points = np.cumsum(base[:, :2], axis=0) @ (shear @ scale @ rotate)
    points += rng.normal(0.0, 0.5, points.shape)
    offsets = np.diff(points, axis=0, prepend=np.zeros((1, 2)))
    return np.concatenate([offsets, base[:, 2:]], axis=1).astype(np.float32)


class ScaleCheck(tfds.core.GeneratorBasedBuilder):
    """N replicated real sketches (strokes only), for the scale check."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Replicas of the shared Quick, Draw! drawings."}
    IMAGE_SIZE = 28

    def __init__(self, *, examples: int = 0, shared_data: str = "", **kwargs):
        self._examples, self._shared_data = int(examples), shared_data
        super().__init__(**kwargs)

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict({
                "strokes": tfds.features.Tensor(shape=(None, 3), dtype=np.float32),
                "source": tfds.features.Scalar(dtype=np.int32, doc="Index of the drawing."),
            }),
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        drawings = source_drawings(self._shared_data)
        from sketchembednet.data import quickdraw

        scale = quickdraw.scale_from_moments(quickdraw.offset_moments(drawings))
        self.info.metadata.update(stroke_scale=scale, max_len=64, image_size=self.IMAGE_SIZE,
                                  source_drawings=len(drawings))
        return {"train": self._generate_examples(drawings, self._examples, seed=0),
                "validation": self._generate_examples(drawings, VALIDATION, seed=1)}

    def _generate_examples(self, drawings, n, seed):
        rng = np.random.default_rng(seed)
        for i in range(n):
            k = int(rng.integers(len(drawings)))
            yield i, {"strokes": replica(drawings[k], rng), "source": k}


def build(data_dir: str) -> dict:
    """Builds the dataset in a child process; returns its time and peak memory."""
    start = time.time()
    subprocess.run([sys.executable, __file__, "--build_only", f"--examples={_EXAMPLES.value}",
                    f"--work_dir={data_dir}", f"--shared_data={_SHARED.value}"], check=True)
    builder = tfds.builder(NAME, data_dir=data_dir)
    split = builder.info.splits["train"]
    return dict(build_seconds=round(time.time() - start, 1),
                build_peak_rss_mib=round(_peak_rss_mib(resource.RUSAGE_CHILDREN), 1),
                dataset_mib=round(split.num_bytes / 2**20, 1), shards=split.num_shards)


def config(data_dir: str, steps: int):
    from sketchembednet.configs import demo

    c = demo.get_config()
    c.dataset.name = NAME
    c.dataset.data_dir = data_dir
    c.dataset.eval_split = "validation[:32]"
    c.train.num_steps = steps
    c.train.steps_per_loop = 25
    c.train.log_every = 25
    c.train.sample_every = 0
    c.train.checkpoint_every = steps
    return c


def time_pipeline(cfg) -> tuple[float, bool]:
    """Examples per second of the training input pipeline alone, and whether it cached."""
    from sketchembednet.data import pipeline

    builder = tfds.builder(NAME, data_dir=cfg.dataset.data_dir)
    cached = pipeline.fits_in_memory(builder, "train", cfg.dataset.cache_budget_mib)
    ds, _ = pipeline.load(NAME, "train", cfg.dataset.max_len, int(cfg.train.batch_size),
                          data_dir=cfg.dataset.data_dir, shuffle=True, repeat=True, seed=0,
                          length_buckets=tuple(cfg.dataset.length_buckets),
                          shuffle_buffer=cfg.dataset.shuffle_buffer,
                          cache_budget_mib=cfg.dataset.cache_budget_mib)
    iterator = iter(ds)
    for _ in range(50):  # Warm-up: tracing, and filling the shuffle buffer.
        next(iterator)
    start, examples = time.time(), 0
    for _ in range(_PIPELINE_BATCHES.value):
        examples += int(next(iterator)["length"].shape[0])
    return examples / (time.time() - start), cached


def main(argv):
    del argv
    if _BUILD_ONLY.value:
        ScaleCheck(data_dir=_WORK_DIR.value, examples=_EXAMPLES.value,
                   shared_data=_SHARED.value).download_and_prepare()
        return
    import tensorflow as tf

    from sketchembednet import trainer as trainer_lib

    work = _WORK_DIR.value or tempfile.mkdtemp(prefix="scale_check_")
    try:
        data_dir = os.path.join(work, "tfds")
        report = dict(examples=_EXAMPLES.value, **build(data_dir))
        cfg = config(data_dir, _STEPS.value)
        pipeline_rate, cached = time_pipeline(cfg)
        trainer = trainer_lib.Trainer(cfg, os.path.join(work, "train"),
                                      tf.distribute.get_strategy())
        metrics = trainer.train()
        train_rate = float(metrics["train/examples_per_sec"])
        report.update(
            peak_rss_mib=round(_peak_rss_mib(), 1),
            pipeline_examples_per_sec=round(pipeline_rate, 1),
            train_examples_per_sec=round(train_rate, 1),
            pipeline_over_train=round(pipeline_rate / train_rate, 2),
            cached=cached, steps=_STEPS.value, batch_size=int(cfg.train.batch_size),
            shuffle_buffer=int(cfg.dataset.shuffle_buffer),
            final_loss=round(float(metrics["train/loss"]), 4))
        print(json.dumps(report))
    finally:
        if not _KEEP.value and not _WORK_DIR.value:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    app.run(main)

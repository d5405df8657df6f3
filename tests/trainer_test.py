"""Tests for sketchembednet.trainer: resume, non-finite handling, strategies, summaries."""

import glob
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import distribute
from sketchembednet import precision
from sketchembednet import trainer
from sketchembednet.configs import demo
from sketchembednet.models import checkpoints


def tiny_config(data_dir, **train):
    config = demo.get_config("tiny")
    config.dataset.data_dir = data_dir
    for key, value in train.items():
        config.train[key] = value
    return config


def summary_tags(workdir):
    tags = set()
    for path in glob.glob(os.path.join(workdir, "tensorboard", "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value)
    return tags


def test_trains_writes_outputs_and_resumes(kanjivg_data_dir, tmp_path):
    workdir = str(tmp_path / "run")
    strategy = distribute.get_strategy("default")
    first = trainer.Trainer(tiny_config(kanjivg_data_dir), workdir, strategy).train()
    assert first["train/step"] == 20 and first["train/steps_run"] == 20
    assert np.isfinite(first["train/loss"])
    for name in ("config.json", "samples.png", "model.weights.h5"):
        assert os.path.exists(os.path.join(workdir, name)), name
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("ckpt-20")
    tags = summary_tags(workdir)
    for tag in ("train/loss", "train/pen", "train/stroke", "train/pixel", "train/alpha",
                "train/learning_rate", "train/grad_norm", "train/examples_per_sec",
                "samples/inputs_and_samples"):
        assert tag in tags, tag

    # Re-running resumes: same step count, optimizer state and α; only the rest is trained.
    trained = trainer.Trainer(tiny_config(kanjivg_data_dir), str(tmp_path / "fresh"), strategy)
    first_run = [v.numpy() for v in trained.model.variables]  # A new, untrained model ...
    trained.model.load_weights(os.path.join(workdir, "model.weights.h5"))  # ... set to the result.
    resumed = trainer.Trainer(tiny_config(kanjivg_data_dir, num_steps=30), workdir, strategy)
    assert int(resumed.optimizer.iterations.numpy()) == 0  # Restored inside train().
    assert resumed._restore() == 20
    # Every variable, BatchNorm statistics included, comes back from the checkpoint.
    assert len(resumed.model.variables) == len(trained.model.variables)
    for got, want in zip(resumed.model.variables, trained.model.variables):
        if "seed_generator" not in got.path:  # RNG state is checkpointed but not in .weights.h5.
            np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=got.path)
    assert any(not np.array_equal(v.numpy(), f) for v, f in zip(trained.model.variables, first_run))
    slots = [v for v in resumed.optimizer.variables if "momentum" in v.path]
    assert slots and all(np.any(v.numpy() != 0) for v in slots[:3])
    second = resumed.train()
    assert second["train/steps_run"] == 10 and second["train/step"] == 30
    # α keeps following the global step: +0.05 every 5 steps -> 0.25..0.30 over steps 20-30.
    assert second["train/alpha"] == pytest.approx(0.25, abs=0.03)


class _NaNTrainer(trainer.Trainer):
    """Injects a NaN loss at global step `nan_step`, `nan_times` times."""

    nan_step = 7
    nan_times = 1

    def build_model(self):
        model = super().build_model()
        original = model.compute_losses
        self.nan_left = tf.Variable(self.nan_times, dtype=tf.int64, trainable=False)

        def compute_losses(*args, **kwargs):
            terms = dict(original(*args, **kwargs))
            bad = tf.logical_and(tf.equal(self.optimizer.iterations, self.nan_step),
                                 self.nan_left > 0)
            with tf.control_dependencies([self.nan_left.assign_sub(tf.cast(bad, tf.int64))]):
                terms["loss"] = tf.where(bad, tf.constant(np.nan), terms["loss"])
            return terms

        model.compute_losses = compute_losses
        return model


def test_transient_nonfinite_step_is_not_applied_and_training_finishes(kanjivg_data_dir, tmp_path):
    config = tiny_config(kanjivg_data_dir, checkpoint_every=5, num_steps=15)
    run = _NaNTrainer(config, str(tmp_path / "run"), distribute.get_strategy("default"))
    result = run.train()
    assert result["train/step"] == 15
    assert int(run.nan_left.numpy()) == 0  # The NaN really happened once.
    for var in run.model.trainable_variables:
        assert np.all(np.isfinite(var.numpy())), var.name


def test_repeated_nonfinite_steps_stop_with_a_clear_error(kanjivg_data_dir, tmp_path):
    config = tiny_config(kanjivg_data_dir, checkpoint_every=5, num_steps=15,
                         max_nonfinite_restarts=2)
    _NaNTrainer.nan_times = 100
    try:
        run = _NaNTrainer(config, str(tmp_path / "run"), distribute.get_strategy("default"))
        with pytest.raises(trainer.NonFiniteLossError, match="3th time .*max_nonfinite_restarts=2"):
            run.train()
    finally:
        _NaNTrainer.nan_times = 1
    # Restored to the last good checkpoint (step 5): no NaN reached the weights.
    assert int(run.optimizer.iterations.numpy()) == 5
    for var in run.model.trainable_variables:
        assert np.all(np.isfinite(var.numpy())), var.name


def _one_sgd_step(run, batch, learning_rate):
    """One step of the trainer's own distributed loop, with plain SGD and the model made
    deterministic (inference mode), on a fixed global batch. Returns every trainable
    weight after the step, per replica."""
    import keras

    strategy = run.strategy
    with strategy.scope():
        run.optimizer = keras.optimizers.SGD(learning_rate)  # Linear in the gradient.
        run.optimizer.build(run.model.trainable_variables)
    losses = run.model.compute_losses
    run.model.compute_losses = lambda *a, **k: losses(*a, **dict(k, training=False))
    run._train_loop = run._make_train_loop()
    dist = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch).repeat())
    _, ok = run._train_loop(iter(dist), tf.constant(1))
    assert bool(ok)
    return [[np.asarray(r) for r in strategy.experimental_local_results(v)]
            for v in run.model.trainable_variables]


def test_mirrored_step_equals_the_single_device_gradient_step(kanjivg_data_dir, tmp_path):
    """A real distributed step (2 replicas x 4 examples) moves every weight exactly as one
    SGD step on the mean gradient of the 8 examples does.

    Plain SGD makes the update linear in the gradient (Adam would hide a wrong scale),
    so a missing division by the replica count or a second all-reduce doubles the step
    and fails this (tried once by deleting ``/ replicas`` in ``Trainer._replica_step``).
    """
    config = tiny_config(kanjivg_data_dir, num_steps=1, batch_size=8)
    config.optim.clip_value = 0.0
    default = trainer.Trainer(config, str(tmp_path / "default"), distribute.get_strategy("default"))
    batch = next(iter(default._dataset(seed=0)))
    batch = {"image": batch["image"], "stroke5": batch["stroke5"]}
    initial = [v.numpy() for v in default.model.trainable_variables]
    alpha = float(config.alpha.start)
    # The reference: the gradient of the mean loss of the 8 examples, on one device.
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(default.model.compute_losses(
            tf.cast(batch["image"], tf.float32), batch["stroke5"], alpha=alpha,
            training=False, per_example=True)["loss"])
    grads = tape.gradient(loss, default.model.trainable_variables)
    lr = 0.5
    expected = [w - lr * (0.0 if g is None else g.numpy()) for w, g in zip(initial, grads)]
    moved = max(float(np.max(np.abs(e - w))) for e, w in zip(expected, initial))
    assert moved > 1e-3  # The step is large enough for a wrong scale to show.

    results = {"default": _one_sgd_step(default, batch, lr)}
    mirrored = trainer.Trainer(config, str(tmp_path / "mirrored"),
                               distribute.get_strategy("mirrored"))
    assert mirrored.strategy.num_replicas_in_sync == 2
    for v, w in zip(mirrored.model.trainable_variables, initial):
        np.testing.assert_array_equal(v.numpy(), w)  # Same seed, same initial weights.
    results["mirrored"] = _one_sgd_step(mirrored, batch, lr)
    for name, weights in results.items():
        for var, per_replica, want in zip(default.model.trainable_variables, weights, expected):
            for got in per_replica:  # Every replica holds the same, correct weights.
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6,
                                           err_msg=f"{name}: {var.path}")


def test_length_bucketing_trains_and_needs_the_padding_free_loss(kanjivg_data_dir, tmp_path):
    config = tiny_config(kanjivg_data_dir, num_steps=10)
    config.dataset.length_buckets = (16, 24, 32, 48)
    strategy = distribute.get_strategy("default")
    with pytest.raises(ValueError, match="mask_after_end"):
        trainer.Trainer(config, str(tmp_path / "refused"), strategy)
    config.model.mask_after_end = True
    run = trainer.Trainer(config, str(tmp_path / "run"), strategy)
    shapes = {int(batch["stroke5"].shape[1]) for batch, _ in zip(run._dataset(seed=0), range(8))}
    assert len(shapes) > 1 and max(shapes) <= config.dataset.max_len + 1  # batches are cut
    result = run.train()
    assert result["train/step"] == 10 and np.isfinite(result["train/loss"])


def test_mixed_bfloat16_config_trains(kanjivg_data_dir, tmp_path):
    from sketchembednet import precision

    if not precision.bf16_support()[0]:
        pytest.skip("this machine has no native bfloat16 matmuls")
    config = tiny_config(kanjivg_data_dir, num_steps=10)
    config.model.precision = "mixed_bfloat16"
    run = trainer.Trainer(config, str(tmp_path / "run"), distribute.get_strategy("default"))
    assert run.model.decoder.cell.compute_dtype == "bfloat16"
    result = run.train()
    assert result["train/step"] == 10 and np.isfinite(result["train/loss"])


@pytest.mark.parametrize("kind, terms", [("conv_vae", ("recon", "kl")),
                                         ("contrastive", ("accuracy",))])
def test_baselines_train_through_the_same_trainer(kanjivg_data_dir, tmp_path, kind, terms):
    from sketchembednet.evaluation import loading

    config = demo.get_config(f"tiny,{kind}")
    config.dataset.data_dir = kanjivg_data_dir
    config.train.num_steps = 10
    workdir = str(tmp_path / kind)
    run = trainer.Trainer(config, workdir, distribute.get_strategy("default"))
    assert type(run.model).__name__ == {"conv_vae": "ConvVAE",
                                         "contrastive": "ContrastiveEmbedNet"}[kind]
    before = [v.numpy().copy() for v in run.model.trainable_variables]
    result = run.train()
    assert result["train/step"] == 10 and np.isfinite(result["train/loss"])
    for term in terms:
        assert np.isfinite(result[f"train/{term}"]), term
    after = [v.numpy() for v in run.model.trainable_variables]
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert sum(changed) >= len(changed) - 2  # all but the contrastive model's unused logvar head
    assert {f"train/{t}" for t in terms} <= summary_tags(workdir)
    assert os.path.exists(os.path.join(workdir, "samples.png")) == (kind == "conv_vae")
    with open(os.path.join(workdir, "train_result.json")) as f:
        saved = json.load(f)
    assert saved["total_steps_run"] == 10 and saved["cpus"] == [precision.cpu_model()]
    embed_fn = loading.embed_fn_from_workdir(workdir)  # evaluators load baselines the same way
    assert embed_fn(np.full([3, 28, 28, 1], 255, np.uint8)).shape == (3, 16)


def test_metrics_rates_count_steps_not_loss_terms(kanjivg_data_dir, tmp_path):
    run = trainer.Trainer(tiny_config(kanjivg_data_dir), str(tmp_path / "run"),
                          distribute.get_strategy("default"))
    values = np.arange(len(run.terms) + 2, dtype=np.float32)
    metrics = run._metrics(values, step=40, n=40, elapsed=8.0)
    assert metrics["train/steps_per_sec"] == 5.0
    assert metrics["train/examples_per_sec"] == 5.0 * run.global_batch
    assert metrics["train/loss"] == 0.0 and metrics["train/alpha"] == len(run.terms) + 1


def test_mixture_of_datasets_trains_and_records_every_scale(kanjivg_data_dir, tmp_path):
    """KanjiVG mixed with the Hershey fonts (another stroke scale; built offline here)."""
    from sketchembednet import export

    config = tiny_config(kanjivg_data_dir, num_steps=5, steps_per_loop=5)
    config.dataset.mix = (dict(name="hershey", split="train", data_dir=kanjivg_data_dir),)
    config.dataset.mix_weights = (1.0, 1.0)
    result = trainer.Trainer(config, str(tmp_path), distribute.get_strategy("default")).train()
    assert result["train/step"] == 5 and np.isfinite(result["train/loss"])
    with open(tmp_path / "config.json") as f:
        saved = json.load(f)["dataset"]
    assert saved["mix"][0]["name"] == "hershey" and saved["mix_weights"] == [1.0, 1.0]
    with open(tmp_path / checkpoints.SOURCES_JSON) as f:
        sources = json.load(f)
    assert [(s["name"], s["split"]) for s in sources] == [("kanjivg", "train"),
                                                          ("hershey", "train")]
    kanji, hershey = (s["stroke_scale"] for s in sources)
    assert kanji == pytest.approx(20.31, abs=0.01) and hershey == pytest.approx(6.80, abs=0.01)
    # The export records every source's scale, from the run's sources.json.
    scales = export.source_scales(json.loads((tmp_path / "config.json").read_text()),
                                   str(tmp_path))
    assert [s["stroke_scale"] for s in scales] == [kanji, hershey]


def test_initial_weights_do_not_depend_on_whether_the_dataset_was_built(
        kanjivg_data_dir, tmp_path, monkeypatch):
    """A first run builds the dataset (TF ops that advance the seeded RNG); a second reuses it.
    Both must start from the same weights, or the same command trains differently."""
    from sketchembednet.data import pipeline

    def weights(workdir):
        t = trainer.Trainer(tiny_config(kanjivg_data_dir), str(workdir),
                            tf.distribute.get_strategy())
        return [v.numpy() for v in t.model.weights]

    reused = weights(tmp_path / "reused")
    prepare = pipeline.prepare

    def building_prepare(*args, **kwargs):  # What a real build does to the RNG state.
        tf.random.uniform([3])
        tf.keras.initializers.GlorotUniform()((4, 4))
        return prepare(*args, **kwargs)

    monkeypatch.setattr(pipeline, "prepare", building_prepare)
    built = weights(tmp_path / "built")
    assert len(built) == len(reused)
    for a, b in zip(built, reused):
        np.testing.assert_array_equal(a, b)


def aux_config(data_dir, **train):
    """demo:tiny with augmentation and the auxiliary contrastive term on (weight 0.1)."""
    config = tiny_config(data_dir, **train)
    config.dataset.augment.rotation = 15.0
    config.dataset.augment.jitter = 0.02
    config.model.aux_contrastive_weight = 0.1
    return config


def test_aux_contrastive_trains_logs_the_term_and_resumes(kanjivg_data_dir, tmp_path):
    from sketchembednet.evaluation import loading

    workdir = str(tmp_path / "run")
    strategy = distribute.get_strategy("default")
    run = trainer.Trainer(aux_config(kanjivg_data_dir, num_steps=10), workdir, strategy)
    assert run.terms == ("loss", "pen", "stroke", "pixel", "kl", "contrastive")
    batch = next(iter(run._dataset(seed=0)))
    assert batch["image_aux"].shape == batch["image"].shape == (8, 28, 28, 1)
    head = run.model.aux_hidden.weights + run.model.aux_projection.weights
    before = [v.numpy().copy() for v in head]
    first = run.train()
    assert first["train/step"] == 10 and np.isfinite(first["train/loss"])
    assert 0.0 < first["train/contrastive"] < 10.0
    assert all(not np.array_equal(v.numpy(), b) for v, b in zip(head, before))  # Trained.
    assert "train/contrastive" in summary_tags(workdir)
    with open(os.path.join(workdir, "config.json")) as f:
        assert json.load(f)["model"]["aux_contrastive_weight"] == 0.1
    resumed = trainer.Trainer(aux_config(kanjivg_data_dir, num_steps=15), workdir, strategy)
    second = resumed.train()
    assert second["train/steps_run"] == 5 and second["train/step"] == 15
    assert np.isfinite(second["train/contrastive"])
    embed_fn = loading.embed_fn_from_workdir(workdir)  # Evaluation builds it from config.json.
    assert embed_fn(np.full([3, 28, 28, 1], 255, np.uint8)).shape == (3, 16)


@pytest.mark.large
def test_aux_contrastive_trains_under_a_mirrored_strategy(kanjivg_data_dir, tmp_path):
    """Each replica contrasts its own half batch (4 examples). In a process of its own: two
    MirroredStrategies with different models in one process collide on TF's collective
    instance keys (as tools/bench_train.py notes)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "sketchembednet.train", "--config=demo:tiny",
               f"--workdir={tmp_path}", "--strategy=mirrored", "--cpu_replicas=2",
               "--config.dataset.augment.rotation=15", "--config.model.aux_contrastive_weight=0.1",
               "--config.train.num_steps=5", "--config.train.steps_per_loop=5",
               "--config.train.sample_every=0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=dict(
        os.environ, TFDS_DATA_DIR=kanjivg_data_dir, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / "train_result.json") as f:
        result = json.load(f)
    assert result["replicas"] == 2 and result["train/step"] == 5
    assert np.isfinite(result["train/contrastive"]) and result["train/contrastive"] > 0


def test_aux_contrastive_refuses_stored_images_before_the_workdir(kanjivg_data_dir, tmp_path,
                                                                  monkeypatch):
    import dataclasses

    from sketchembednet.configs import checks
    from sketchembednet.data import pipeline

    prepare = pipeline.prepare

    def stored(*args, **kwargs):  # As Sketchy's photos: stored, not rendered from strokes.
        builder, info = prepare(*args, **kwargs)
        return builder, dataclasses.replace(info, rendered=False)

    monkeypatch.setattr(pipeline, "prepare", stored)
    with pytest.raises(checks.ConfigError, match=r"rendered from strokes: \['kanjivg'\]"):
        trainer.Trainer(aux_config(kanjivg_data_dir), str(tmp_path / "run"),
                        distribute.get_strategy("default"))
    assert not (tmp_path / "run").exists()

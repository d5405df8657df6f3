"""The one training loop of sketchembednet: a custom loop under any tf.distribute strategy.

Used by ``python -m sketchembednet.train`` (the CLI) and by the tuner. It

* creates the model, the optimizer and the checkpoint under ``strategy.scope()``
  and feeds per-replica batches from ``distribute_datasets_from_function``;
* scales per-example losses by the *global* batch, sums the gradient over
  replicas, clips it element-wise at ``optim.clip_value`` (the paper's
  ``clipvalue=1.0``) and applies it with Adam and the smooth exponential decay;
* computes α from the global step (``schedules.alpha``), so schedules are
  defined in global steps whatever the number of workers;
* checkpoints every ``train.checkpoint_every`` steps and at the end, and resumes
  from the last checkpoint (same step, optimizer state and therefore α);
* never trains on a non-finite step: its gradient is replaced by zeros, the loop
  stops, and the last good checkpoint is restored (undoing the optimizer's
  momentum step and step count too); after ``train.max_nonfinite_restarts``
  restores it stops with an error;
* shows a progress bar, writes TensorBoard summaries (loss terms, α, learning
  rate, gradient norm, examples/s, and grids of inputs beside samples), and at
  the end a PNG grid ``samples.png``, the weights ``model.weights.h5`` and
  ``train_result.json`` (final metrics; wall time summed over resumes);
* trains any model of ``config.model.kind`` (SketchEmbedNet and the Conv-VAE and
  contrastive baselines): it logs the model's own ``loss_terms`` and draws what the
  model generates (sketches, reconstructions, or no grid for the contrastive one),
  and feeds the pipeline's second view ``image_aux`` to ``model.aux_contrastive_weight``;
* stops at the end of the inner loop that spends ``train.max_wall_minutes`` (summed over
  every invocation: ``wall_clock.json`` keeps the seconds behind each checkpoint), with
  the usual outputs and ``stop_reason: "wall_budget"``; a re-run then only reports.

Example:
  >>> from sketchembednet.configs import demo
  >>> trainer = Trainer(demo.get_config("tiny"), "/tmp/sen_demo", tf.distribute.get_strategy())
  >>> result = trainer.train()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
import tqdm
from absl import logging

from sketchembednet import distribute
from sketchembednet import interrupts
from sketchembednet import jsonio
from sketchembednet import precision
from sketchembednet import schedules
from sketchembednet import visualize
from sketchembednet import wall_clock
from sketchembednet.configs import checks
from sketchembednet.data import augment
from sketchembednet.data import pipeline
from sketchembednet.data import rasterize
from sketchembednet.models import checkpoints
from sketchembednet.models import factory

TERMS = ("loss", "pen", "stroke", "pixel", "kl")  # SketchEmbedNet's; a model's own: loss_terms


class NonFiniteLossError(RuntimeError):
    """Training produced non-finite losses or gradients too many times."""


class Trainer:
    """Trains a SketchEmbedNet from a config into a workdir. See the module docstring.

    Args:
      config: an ``ml_collections.ConfigDict`` like ``configs.base.get_base_config()``.
      workdir: folder for ``config.json``, checkpoints, TensorBoard logs and outputs.
      strategy: a ``tf.distribute.Strategy`` (``distribute.get_strategy``).
    """

    def __init__(self, config, workdir: str, strategy: tf.distribute.Strategy):
        checks.check_config(config, strategy.num_replicas_in_sync)  # Before anything touches the disk.
        self.config = config
        self.workdir = workdir
        self.strategy = strategy
        self.chief = distribute.is_chief(strategy)
        self.global_batch = int(config.train.batch_size)
        replicas = strategy.num_replicas_in_sync
        self.source_infos = [pipeline.prepare(src["name"], src.get("data_dir"),
                                              manual_dir=src.get("manual_dir"),
                                              builder_kwargs=src.get("builder_kwargs"))[1]
                             for src in checks.data_sources(config.dataset)]
        self.info = self.source_infos[0]
        self.aux_view = float(config.model.get("aux_contrastive_weight", 0.0)) > 0
        if self.aux_view and any(not i.rendered for i in self.source_infos):
            raise checks.ConfigError("model.aux_contrastive_weight needs images rendered from "
                                     f"strokes: {[i.name for i in self.source_infos]} store some")
        self.clock = wall_clock.WallClock(workdir, config.train.get("max_wall_minutes", 0.0))
        os.makedirs(workdir, exist_ok=True)
        # Seeded after prepare(): building a dataset may run TF ops (the builders rendered
        # images up to version 2.0.0), which advance the seed's op counter. Seeding first made
        # the initial weights, and so the whole run, depend on whether it was already built.
        keras.utils.set_random_seed(int(config.train.seed))
        with strategy.scope():
            self.model = self.build_model()
            self.terms = tuple(getattr(self.model, "loss_terms", TERMS))
            schedule = keras.optimizers.schedules.ExponentialDecay(
                config.optim.learning_rate, config.optim.decay_steps, config.optim.decay_rate
            )
            self.optimizer = keras.optimizers.Adam(schedule)
            # Keras 3 needs the slots before the first strategy.run (stack notes).
            self.optimizer.build(self.model.trainable_variables)
            self.checkpoint = checkpoints.make_checkpoint(self.model, self.optimizer)
        self.manager = checkpoints.make_manager(self.checkpoint, self._checkpoint_dir(),
                                                config.train.keep_checkpoints)
        self._train_loop = self._make_train_loop()
        logging.info("chief=%s, %d replica(s), checkpoints in %s", self.chief, replicas,
                     self.manager.directory)

    # ------ Setup
    def build_model(self) -> keras.Model:
        """Builds the model of ``config.model`` with all its variables (under scope)."""
        return factory.from_config(self.config, self.info.image_shape)

    def _checkpoint_dir(self) -> str:
        if self.chief:
            return os.path.join(self.workdir, "checkpoints")
        # MultiWorkerMirroredStrategy: every worker must save; others write to a scratch dir.
        task_id = self.strategy.cluster_resolver.task_id
        return os.path.join(self.workdir, f"tmp_worker_{task_id}", "checkpoints")

    def _dataset(self, seed: int, skip_steps: int = 0):
        """The distributed training batches; ``skip_steps`` global steps' batches are skipped
        (a resumed run continues the data order of an uninterrupted one)."""
        cfg = self.config.dataset
        streaming = dict(
            shuffle_buffer=int(cfg.get("shuffle_buffer", pipeline.DEFAULT_SHUFFLE_BUFFER)),
            cache_budget_mib=float(cfg.get("cache_budget_mib",
                                           pipeline.DEFAULT_CACHE_BUDGET_MIB)),
            augmentation=augment.Augmentation.from_config(cfg.get("augment")),
            aux_view=self.aux_view)

        def dataset_fn(ctx: tf.distribute.InputContext):
            batch_size = ctx.get_per_replica_batch_size(self.global_batch)
            buckets = tuple(cfg.length_buckets) or None
            # Each step takes one batch per replica from this worker's pipeline.
            skip = skip_steps * (ctx.num_replicas_in_sync // ctx.num_input_pipelines)
            if cfg.get("mix"):
                ds, _ = pipeline.load_mixture(
                    checks.data_sources(cfg), cfg.max_len, batch_size, seed=seed, input_context=ctx,
                    length_buckets=buckets, weights=tuple(cfg.get("mix_weights", ())) or None,
                    skip_batches=skip, **streaming)
                return ds
            ds, _ = pipeline.load(
                cfg.name, cfg.train_split, cfg.max_len, batch_size,
                **checks.dataset_source(cfg), shuffle=True, repeat=True, seed=seed,
                input_context=ctx, length_buckets=buckets, skip_batches=skip, **streaming,
            )
            return ds

        return self.strategy.distribute_datasets_from_function(dataset_fn)

    # ------ The step
    def _replica_step(self, batch):
        """One optimizer step on this replica's batch; returns globally reduced values."""
        ctx = tf.distribute.get_replica_context()
        cfg = self.config
        variables = self.model.trainable_variables
        alpha = schedules.alpha(self.optimizer.iterations, cfg.alpha.start, cfg.alpha.increment,
                                cfg.alpha.interval, cfg.alpha.max, cfg.alpha.start_step)
        images = tf.cast(batch["image"], tf.float32)  # [b, S, S, C]
        # The auxiliary contrastive term's second view [b, S, S, C] (when the pipeline has it).
        aux = {"aux_images": tf.cast(batch["image_aux"], tf.float32)} if "image_aux" in batch \
            else {}
        with tf.GradientTape() as tape:
            terms = self.model.compute_losses(images, batch["stroke5"], alpha=alpha,
                                              training=True, per_example=True, **aux)  # each [b]
            loss = tf.nn.compute_average_loss(terms["loss"], global_batch_size=self.global_batch)
        grads = tape.gradient(loss, variables)
        # A weight the loss does not use (the contrastive baseline's logvar head) gets 0.
        grads = [tf.zeros(v.shape, v.dtype) if g is None else g for g, v in zip(grads, variables)]
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads)  # the global mean's gradient
        grad_norm = tf.linalg.global_norm(grads)
        means = tf.stack([tf.reduce_sum(terms[k]) / self.global_batch
                          for k in self.terms])  # [n_terms]
        means = ctx.all_reduce(tf.distribute.ReduceOp.SUM, means)
        # Only what is trained on counts: the total loss and its gradient (a logged-only
        # term such as the KL at kl_weight=0 may grow without harm).
        finite = tf.math.is_finite(grad_norm) & tf.math.is_finite(means[0])
        clip = float(cfg.optim.clip_value)
        replicas = float(ctx.num_replicas_in_sync)
        safe = []
        for g in grads:
            g = tf.where(finite, g, tf.zeros_like(g))
            g = tf.clip_by_value(g, -clip, clip) if clip > 0 else g
            safe.append(g / replicas)  # The optimizer sums replicas' gradients again.
        self.optimizer.apply_gradients(zip(safe, variables))
        return tf.concat([means, [grad_norm, alpha, tf.cast(finite, tf.float32)]],
                         axis=0)  # [n_terms + 3]

    def _make_train_loop(self):
        strategy = self.strategy

        @tf.function
        def train_loop(iterator, num_steps):
            total = tf.zeros([len(self.terms) + 2])
            done = tf.constant(0.0)
            ok = tf.constant(True)
            for _ in tf.range(num_steps):
                values = strategy.run(self._replica_step, args=(next(iterator),))
                values = strategy.experimental_local_results(values)[0]  # equal on all replicas
                if values[-1] < 0.5:
                    ok = tf.constant(False)
                    break
                total += values[:-1]
                done += 1.0
            return total / tf.maximum(done, 1.0), ok

        return train_loop

    # ------ The loop
    def train(self) -> dict:
        """Trains to ``train.num_steps`` (resuming if possible); returns final metrics.

        SIGINT (Ctrl-C) and SIGTERM stop the run at the end of the current inner loop
        (``train.steps_per_loop`` steps): a checkpoint of that step is written and
        :class:`TrainingInterrupted` is raised with a one-line message. A resumed run
        sees the batches an uninterrupted one would have seen. A spent ``train.max_wall_minutes``
        stops it there too, with the usual outputs; a re-run then trains nothing.

        Raises:
          TrainingInterrupted: after SIGINT or SIGTERM, once the checkpoint is written.
          checkpoints.CheckpointMismatchError: if the workdir's checkpoints belong to
            another model (then ``config.json`` is left as it was).
        """
        step = self._restore()
        self.clock.resume(step)
        if self._wall_budget_spent():  # A re-run after the budget was spent only reports.
            logging.info("wall budget train.max_wall_minutes=%g already spent (%.2f min up to "
                         "step %d): nothing to train", self.config.train.max_wall_minutes,
                         self.clock.seconds() / 60, step)
            return dict(self._old_result(), **{"train/step": step, "train/steps_run": 0})
        self._save_config()  # Only once the checkpoints are known to be this config's.
        if self.manager.latest_checkpoint is None:
            self._save_checkpoint(step)  # A good state to fall back to.
        with interrupts.StopSignals(enabled=not isinstance(
                self.strategy, tf.distribute.MultiWorkerMirroredStrategy)) as signals:
            return self._train(step, signals)

    def _train(self, step: int, signals: "interrupts.StopSignals") -> dict:
        cfg = self.config.train
        iterator = iter(self._dataset(seed=int(cfg.seed), skip_steps=step))
        writer = tf.summary.create_file_writer(os.path.join(self.workdir, "tensorboard")) \
            if self.chief else tf.summary.create_noop_writer()
        eval_images = self._eval_images()
        restarts, metrics = 0, {}
        bar = tqdm.tqdm(total=cfg.num_steps, initial=step, disable=not self.chief,
                        desc="train", unit="step", dynamic_ncols=True)
        start_time, start_step = time.time(), step
        self.clock.start(start_time)
        over_budget = False
        while step < cfg.num_steps and not signals.received and not over_budget:
            n = self._steps_to_next_event(step)
            t0 = time.time()
            values, ok = self._train_loop(iterator, tf.constant(n))
            if not bool(ok):
                restarts += 1
                step = self._handle_nonfinite(restarts)
                bar.n = step
                bar.refresh()
                continue
            elapsed = time.time() - t0
            step = int(self.optimizer.iterations.numpy())
            bar.update(step - bar.n)
            metrics = self._metrics(values.numpy(), step, n, elapsed)
            bar.set_postfix(loss=f"{metrics['train/loss']:.3f}", alpha=f"{metrics['train/alpha']:.2f}")
            self._events(step, metrics, writer, eval_images)
            over_budget = self._wall_budget_spent()
        bar.close()
        metrics.update({"train/step": step, "train/wall_seconds": time.time() - start_time,
                        "train/steps_run": step - start_step})
        if signals.received:
            self._save_now(step)
            self._save_result(metrics, "interrupted")
            raise interrupts.TrainingInterrupted(
                f"interrupted by {signals.received} at step {step}: checkpoint "
                f"{self.manager.latest_checkpoint} written; run the same command to resume",
                signals.number)
        self._finish(step, eval_images)
        metrics = self._save_result(metrics, "wall_budget" if over_budget else "num_steps")
        logging.info("%s at step %d: %s", "stopped on the wall budget train.max_wall_minutes"
                     if over_budget else "finished", step, metrics)
        return metrics

    def _save_now(self, step: int) -> None:
        """Writes a checkpoint of ``step`` unless the newest one is of this step."""
        latest = self.manager.latest_checkpoint
        if latest is None or not latest.endswith(f"-{step}"):
            self._save_checkpoint(step)

    def _save_checkpoint(self, step: int) -> None:
        """Writes a checkpoint of ``step`` and records the wall seconds behind it."""
        self.manager.save(checkpoint_number=step)
        if not self.chief:
            return
        self.clock.record(step, self.manager.checkpoints)

    def _old_result(self) -> dict:
        return jsonio.read_json(os.path.join(self.workdir, checkpoints.TRAIN_RESULT_JSON),
                                corrupt_ok=True) or {}

    def _wall_budget_spent(self) -> bool:
        """Whether ``train.max_wall_minutes`` (> 0) is reached; all workers agree."""
        if self.clock.budget <= 0:
            return False
        spent = float(self.clock.spent())
        if isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy):
            # Every worker must stop after the same inner loop: it stops if any worker's does.
            spent = float(self.strategy.reduce(tf.distribute.ReduceOp.SUM, self.strategy.run(
                lambda: tf.constant(spent, tf.float32)), axis=None))
        return spent > 0

    def _save_result(self, metrics: dict, stop_reason: str) -> dict:
        """Writes ``train_result.json``: the final metrics, why and where the run stopped
        (``num_steps``, ``wall_budget`` or ``interrupted``), the wall time and steps
        summed over every invocation on this workdir, and the CPU model of each (``cpus``:
        speeds compare only on one machine type). Returns the metrics + stop fields."""
        metrics = dict(metrics, stop_reason=stop_reason, stopped_at_step=metrics["train/step"],
                       counted_wall_seconds=self.clock.seconds())
        if not self.chief:
            return metrics
        old = self._old_result()
        total_wall, total_steps = old.get("total_wall_seconds", 0.0), old.get("total_steps_run", 0)
        result = dict(metrics, total_wall_seconds=total_wall + metrics["train/wall_seconds"],
                      total_steps_run=total_steps + metrics["train/steps_run"],
                      replicas=self.strategy.num_replicas_in_sync,
                      cpus=list(dict.fromkeys(old.get("cpus", []) + [precision.cpu_model()])))
        jsonio.write_json(os.path.join(self.workdir, checkpoints.TRAIN_RESULT_JSON), result)
        return metrics

    def _steps_to_next_event(self, step: int) -> int:
        cfg = self.config.train
        n = min(cfg.steps_per_loop, cfg.num_steps - step)
        for every in (cfg.log_every, cfg.checkpoint_every, cfg.sample_every):
            if every > 0:
                n = min(n, every - step % every)
        return max(n, 1)

    def _metrics(self, values: np.ndarray, step: int, n: int, elapsed: float) -> dict:
        num_terms = len(self.terms)
        metrics = {f"train/{k}": float(v) for k, v in zip(self.terms, values)}
        metrics["train/grad_norm"] = float(values[num_terms])
        metrics["train/alpha"] = float(values[num_terms + 1])
        metrics["train/learning_rate"] = float(self.optimizer.learning_rate.numpy())
        metrics["train/steps_per_sec"] = n / elapsed
        metrics["train/examples_per_sec"] = n * self.global_batch / elapsed
        metrics["train/step"] = step
        return metrics

    def _events(self, step: int, metrics: dict, writer, eval_images) -> None:
        cfg = self.config.train
        if cfg.log_every and step % cfg.log_every == 0:
            with writer.as_default(step=step):
                for name, value in metrics.items():
                    if name != "train/step":
                        tf.summary.scalar(name, value)
            logging.info("step %d: %s", step, {k: round(v, 4) for k, v in metrics.items()})
        if cfg.sample_every and step % cfg.sample_every == 0 and self.chief:
            outputs = self._generated_images(eval_images)
            if outputs is not None:
                with writer.as_default(step=step):
                    tf.summary.image("samples/inputs_and_samples",
                                     self._pair_grid(eval_images, outputs))
        if step % cfg.checkpoint_every == 0 or step == cfg.num_steps:
            self._save_checkpoint(step)
        writer.flush()

    # ------ Checkpoints
    def _restore(self) -> int:
        """Restores the newest intact checkpoint (a damaged newer one is reported, moved to
        ``checkpoints/damaged/`` and skipped); returns the step."""
        latest = checkpoints.restore_latest(self.checkpoint, self.manager.directory,
                                            quarantine=self.chief)
        if latest:
            if latest != self.manager.latest_checkpoint and self.chief:  # Fell back.
                directory = self.manager.directory
                checkpoints.write_index(directory, latest)  # Names intact files only.
                self.manager = checkpoints.make_manager(self.checkpoint, directory,
                                                        self.config.train.keep_checkpoints)
            logging.info("resumed from %s (step %d)", latest, int(self.optimizer.iterations.numpy()))
        return int(self.optimizer.iterations.numpy())

    def _handle_nonfinite(self, restarts: int) -> int:
        limit = self.config.train.max_nonfinite_restarts
        step = int(self.optimizer.iterations.numpy())
        if restarts > limit:
            self._restore()  # Leave the in-memory model at the last good state too.
            raise NonFiniteLossError(
                f"non-finite loss or gradient near step {step} for the {restarts}th time "
                f"(limit train.max_nonfinite_restarts={limit}); the last good checkpoint is "
                f"{self.manager.latest_checkpoint}. Lower optim.learning_rate or check the data."
            )
        logging.warning("non-finite loss or gradient near step %d: restoring %s (restart %d of %d)",
                        step, self.manager.latest_checkpoint, restarts, limit)
        return self._restore()

    def _save_config(self) -> None:
        """Writes ``config.json`` and ``sources.json`` (each training source's split,
        size and ``stroke_scale``: with a mix, every source is normalised by its own)."""
        if not self.chief:
            return
        sources = [dict(name=info.name, split=src["split"], stroke_scale=info.stroke_scale,
                        num_examples=info.num_examples.get(src["split"].split("[")[0]),
                        image_shape=list(info.image_shape), rendered=info.rendered)
                   for src, info in zip(checks.data_sources(self.config.dataset), self.source_infos)]
        jsonio.write_json(os.path.join(self.workdir, checkpoints.SOURCES_JSON), sources)
        path = os.path.join(self.workdir, checkpoints.CONFIG_JSON)
        new = json.loads(self.config.to_json_best_effort())
        old = jsonio.read_json(path)
        if old is not None and old != new:
            logging.warning("config differs from the one saved in %s; saving the new one", path)
        jsonio.write_json(path, new)

    # ------ Samples and outputs
    def _eval_images(self) -> np.ndarray | None:
        """The fixed images of the sample grids; None on non-chief workers (they draw none)."""
        if not self.chief:
            return None
        cfg = self.config
        ds, _ = pipeline.load(cfg.dataset.name, cfg.dataset.eval_split, cfg.dataset.max_len,
                              cfg.train.num_samples, **checks.dataset_source(cfg.dataset),
                              drop_remainder=False, cache=False)
        return next(iter(ds))["image"].numpy()  # [n, S, S, C] uint8

    def sample(self, images: np.ndarray):
        """Sketches of ``images`` by the current model: (stroke5 [n, T+1, 5], lengths [n])."""
        z = self.model.embed(tf.cast(images, tf.float32))  # [n, Z]
        temperature = float(self.config.train.sample_temperature)
        return self.model.sample(z, max_len=self.config.dataset.max_len,
                                 temperature=max(temperature, 1e-3), greedy=temperature == 0)

    def _generated_images(self, images: np.ndarray) -> np.ndarray | None:
        """What the model makes of ``images``, as uint8 ``[n, S, S, 1]`` images: rendered
        sketches (SketchEmbedNet), reconstructions (Conv-VAE), or None (contrastive)."""
        size = images.shape[1]
        if hasattr(self.model, "sample"):
            stroke5, _ = self.sample(images)
            return rasterize.render_images(stroke5, size).numpy()
        if hasattr(self.model, "reconstruct"):
            out = np.asarray(self.model.reconstruct(tf.cast(images, tf.float32)))
            return out if out.shape[-1] == 1 else out.mean(-1, keepdims=True).astype(np.uint8)
        return None

    def _pair_grid(self, images: np.ndarray, outputs: np.ndarray) -> tf.Tensor:
        """One image: rows of [input | output] pairs, 8 pairs per row."""
        inputs = images[..., :1] if images.shape[-1] == 1 else images.mean(-1, keepdims=True)
        pairs = np.concatenate([inputs.astype(np.uint8), outputs], axis=2)  # [n, S, 2S, 1]
        cols = 8
        pad = (-len(pairs)) % cols
        pairs = np.concatenate([pairs, np.full((pad, *pairs.shape[1:]), 255, np.uint8)])
        rows = [np.concatenate(list(pairs[i : i + cols]), axis=1) for i in range(0, len(pairs), cols)]
        return tf.constant(np.concatenate(rows, axis=0)[None])  # [1, H, W, 1]

    def _finish(self, step: int, eval_images: np.ndarray) -> None:
        self._save_now(step)
        if not self.chief:
            shutil.rmtree(os.path.dirname(self._checkpoint_dir()), ignore_errors=True)
            return
        if hasattr(self.model, "sample"):
            stroke5, _ = self.sample(eval_images)
            path = visualize.save_sketch_grid(
                os.path.join(self.workdir, "samples.png"), list(eval_images),
                list(stroke5.numpy()), sketch_label="sample",
            )
        else:
            outputs = self._generated_images(eval_images)
            path = os.path.join(self.workdir, "samples.png") if outputs is not None else "no grid"
            if outputs is not None:  # Conv-VAE: inputs beside reconstructions.
                tf.io.write_file(path, tf.io.encode_png(self._pair_grid(eval_images, outputs)[0]))
        self.model.save_weights(os.path.join(self.workdir, "model.weights.h5"))
        logging.info("wrote %s and model.weights.h5", path)

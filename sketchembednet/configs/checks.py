"""Checks and reads a training config: value ranges, and its data sources.

``check_config`` runs before a run touches the disk, so a typo costs nothing;
``data_sources`` lists the sources ``pipeline.load_mixture`` trains on.

Example:
  >>> from sketchembednet.configs import demo
  >>> config = demo.get_config()
  >>> config.alpha.max = 5.0
  >>> check_config(config)
  Traceback (most recent call last):
  ...
  sketchembednet.configs.checks.ConfigError: invalid config: alpha.max=5.0 must be in [0, 1]
"""

from __future__ import annotations

from sketchembednet import paths
from sketchembednet.data import augment


def dataset_source(dataset_config) -> dict:
    """``data_dir``, ``manual_dir`` and ``builder_kwargs`` of a ``config.dataset``, for
    ``pipeline.prepare`` / ``pipeline.load`` (empty strings and dicts mean "default")."""
    get = dataset_config.get
    kwargs = get("builder_kwargs") or {}
    return {"data_dir": paths.expand(get("data_dir")) or None,
            "manual_dir": paths.expand(get("manual_dir")) or None,
            "builder_kwargs": dict(kwargs.to_dict() if hasattr(kwargs, "to_dict") else kwargs)}


class ConfigError(ValueError):
    """A training config with values out of range."""


def check_config(config, replicas: int = 1) -> None:
    """Checks a training config's values before a run touches the disk.

    Raises:
      ConfigError: listing every field out of range, e.g.
        ``invalid config: alpha.max=5.0 must be in [0, 1]; train.batch_size=-8 must be
        a positive multiple of the 1 replica(s)``.
    """
    problems = []

    def need(ok, field, value, rule):
        if not ok:
            problems.append(f"{field}={value!r} {rule}")

    t, a, o, d = config.train, config.alpha, config.optim, config.dataset
    batch = t.batch_size
    need(isinstance(batch, int) and batch > 0 and batch % replicas == 0, "train.batch_size",
         batch, f"must be a positive multiple of the {replicas} replica(s)")
    for field in ("num_steps", "log_every", "sample_every", "num_samples"):
        need(int(t[field]) >= 0, f"train.{field}", t[field], "must be >= 0")
    for field in ("steps_per_loop", "checkpoint_every", "keep_checkpoints"):
        need(int(t[field]) > 0, f"train.{field}", t[field], "must be > 0")
    need(t.max_nonfinite_restarts >= 0, "train.max_nonfinite_restarts",
         t.max_nonfinite_restarts, "must be >= 0")
    need(t.sample_temperature >= 0, "train.sample_temperature", t.sample_temperature,
         "must be >= 0")
    for field in ("start", "max"):
        need(0.0 <= a[field] <= 1.0, f"alpha.{field}", a[field], "must be in [0, 1]")
    need(a.start <= a.max, "alpha.start", a.start, f"must not exceed alpha.max={a.max!r}")
    need(a.increment >= 0, "alpha.increment", a.increment, "must be >= 0")
    need(a.interval > 0, "alpha.interval", a.interval, "must be > 0")
    need(a.start_step >= 0, "alpha.start_step", a.start_step, "must be >= 0")
    need(o.learning_rate > 0, "optim.learning_rate", o.learning_rate, "must be > 0")
    need(0 < o.decay_rate <= 1, "optim.decay_rate", o.decay_rate, "must be in (0, 1]")
    need(o.decay_steps > 0, "optim.decay_steps", o.decay_steps, "must be > 0")
    need(o.clip_value >= 0, "optim.clip_value", o.clip_value, "must be >= 0 (0 = off)")
    need(d.max_len > 0, "dataset.max_len", d.max_len, "must be > 0")
    need(d.get("shuffle_buffer", 1) > 0, "dataset.shuffle_buffer", d.get("shuffle_buffer"),
         "must be > 0")
    need(d.get("cache_budget_mib", 0) >= 0, "dataset.cache_budget_mib",
         d.get("cache_budget_mib"), "must be >= 0")
    need(t.get("max_wall_minutes", 0.0) >= 0, "train.max_wall_minutes",
         t.get("max_wall_minutes"), "must be >= 0 (0 = no budget)")
    try:
        augmented = augment.Augmentation.from_config(d.get("augment")).active
    except ValueError as e:
        problems.append(f"dataset.augment: {e}")
        augmented = True  # Reported already.
    _check_aux_contrastive(config.model, augmented, need)
    if problems:
        raise ConfigError("invalid config: " + "; ".join(problems))
    if tuple(d.get("length_buckets", ())) and not config.model.mask_after_end:
        raise ConfigError(
            "dataset.length_buckets needs model.mask_after_end=True: the paper's pen loss "
            "also covers padding, so cutting batches would change every example's loss")


def _check_aux_contrastive(model, augmented: bool, need) -> None:
    """The auxiliary contrastive term's fields (``model.aux_*``; absent = off)."""
    weight = model.get("aux_contrastive_weight", 0.0)
    need(weight >= 0, "model.aux_contrastive_weight", weight, "must be >= 0 (0 = off)")
    need(model.get("aux_projection_dim", 1) > 0, "model.aux_projection_dim",
         model.get("aux_projection_dim"), "must be > 0")
    need(model.get("aux_temperature", 1.0) > 0, "model.aux_temperature",
         model.get("aux_temperature"), "must be > 0")
    if weight > 0:
        need(augmented, "model.aux_contrastive_weight", weight,
             "needs a non-zero dataset.augment strength (its two views of a sketch would be "
             "identical)")
        kind = model.get("kind", "sketchembednet")
        need(kind == "sketchembednet", "model.aux_contrastive_weight", weight,
             f"needs model.kind='sketchembednet' (not {kind!r})")


def data_sources(dataset_config) -> list[dict]:
    """The training sources of a ``config.dataset``: the main dataset, then ``mix``
    (the ``sources`` of ``pipeline.load_mixture``)."""
    sources = [dict(name=dataset_config.name, split=dataset_config.train_split,
                    **dataset_source(dataset_config))]
    mix = [plain(source) for source in dataset_config.get("mix", ())]
    for source in mix:
        for key in ("data_dir", "manual_dir"):
            if source.get(key):
                source[key] = paths.expand(source[key])
    return sources + mix


def plain(value):
    """A ConfigDict (or dict) as a plain dict, recursively."""
    value = value.to_dict() if hasattr(value, "to_dict") else value
    return {k: plain(v) for k, v in value.items()} if isinstance(value, dict) else value

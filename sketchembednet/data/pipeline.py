"""TFDS -> tf.data input pipelines for training and evaluation.

Every stroke dataset of the project (see ``tfds_builders``) has the features
``image`` (uint8 ``[S, S, C]``) and ``strokes`` (float32 stroke-3 ``[L, 3]``,
not normalised) and records the normalising scale (the standard deviation of
its training offsets) as ``info.metadata["stroke_scale"]``. This module turns
such a dataset into batches of

* ``image``: uint8 ``[B, S, S, C]`` (white background, black ink),
* ``stroke5``: float32 ``[B, T + 1, 5]``, offsets divided by the scale,
* ``length``: int32 ``[B]``, the number of stroke-3 rows.

Decoded, converted examples are cached in memory; images are never re-rendered.

Example:
  >>> ds, info = load("kanjivg", "validation", max_len=64, batch_size=8)
  >>> batch = next(iter(ds))
  >>> batch["image"].shape, batch["stroke5"].shape
  (TensorShape([8, 28, 28, 1]), TensorShape([8, 65, 5]))
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging

import tfds_builders  # noqa: F401  (registers the project's builders)
from sketchembednet.data import strokes


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a prepared stroke dataset.

    Attributes:
      name: TFDS name, e.g. ``"kanjivg"``.
      stroke_scale: offsets are divided by this (std of the training offsets).
      image_shape: ``(S, S, C)`` of the ``image`` feature.
      num_examples: examples per split.
      metadata: the builder's metadata dict (drop counts, build time, ...).
    """

    name: str
    stroke_scale: float
    image_shape: tuple
    num_examples: dict
    metadata: dict


def prepare(name: str, data_dir: str | None = None, *, manual_dir: str | None = None,
            builder_kwargs: dict | None = None) -> tuple[tfds.core.DatasetBuilder, DatasetInfo]:
    """Builds the dataset if needed and returns its builder and :class:`DatasetInfo`.

    Args:
      name: TFDS dataset name (a builder of ``tfds_builders``).
      data_dir: TFDS data dir (default ``~/tensorflow_datasets``).
      manual_dir: where the builder finds manually downloaded files (used only
        when the dataset is not built yet).
      builder_kwargs: keyword arguments of the builder, e.g.
        ``{"allow_missing_classes": True}`` for a partial Quickdraw folder.

    Raises:
      ValueError: if the dataset does not record a ``stroke_scale``.
    """
    builder = tfds.builder(name, data_dir=data_dir, **(builder_kwargs or {}))
    config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
    builder.download_and_prepare(download_config=config)
    meta = dict(builder.info.metadata or {})
    if "stroke_scale" not in meta:
        raise ValueError(f"dataset {name!r} in {builder.data_dir} records no stroke_scale metadata")
    info = DatasetInfo(
        name=name,
        stroke_scale=float(meta["stroke_scale"]),
        image_shape=tuple(builder.info.features["image"].shape),
        num_examples={k: v.num_examples for k, v in builder.info.splits.items()},
        metadata=meta,
    )
    return builder, info


def _read_shard(builder, split, input_context, shuffle, seed) -> tf.data.Dataset:
    """Reads this input pipeline's share of a split: by files if there are enough
    files for every pipeline, else by examples (from a fixed file order, so the
    shares are disjoint)."""
    pipelines = input_context.num_input_pipelines if input_context else 1
    num_shards = builder.info.splits[split.split("[")[0]].num_shards
    by_files = pipelines > 1 and num_shards >= pipelines
    read_config = tfds.ReadConfig(input_context=input_context if by_files else None,
                                  shuffle_seed=seed)
    ds = builder.as_dataset(split=split, read_config=read_config,
                            shuffle_files=shuffle and (by_files or pipelines == 1))
    if pipelines > 1 and not by_files:
        ds = ds.shard(pipelines, input_context.input_pipeline_id)
    return ds.map(lambda ex: {"image": ex["image"], "strokes": ex["strokes"]})


def to_model_inputs(example: dict, stroke_scale: float, max_len: int) -> dict:
    """Maps one TFDS example to ``{image, stroke5, length}`` (a tf.data map fn)."""
    stroke3 = tf.cast(example["strokes"], tf.float32)  # [L, 3]
    stroke3 = tf.concat([stroke3[:, :2] / stroke_scale, stroke3[:, 2:]], axis=1)  # [L, 3]
    stroke5, length = strokes.stroke3_to_stroke5_tf(stroke3, max_len)  # [T+1, 5], []
    return {"image": example["image"], "stroke5": stroke5, "length": length}


def load(
    name: str,
    split: str,
    max_len: int,
    batch_size: int | None,
    *,
    data_dir: str | None = None,
    shuffle: bool = False,
    repeat: bool = False,
    seed: int = 0,
    input_context: tf.distribute.InputContext | None = None,
    drop_remainder: bool = True,
    cache: bool = True,
    length_buckets: tuple[int, ...] | None = None,
    manual_dir: str | None = None,
    builder_kwargs: dict | None = None,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Returns batched model inputs of one split, and the dataset's info.

    Args:
      name: TFDS dataset name (a builder of ``tfds_builders``).
      split: TFDS split, e.g. ``"train"`` or ``"validation[:50%]"``.
      max_len: T. Sketches with more stroke-3 rows are dropped, and the number
        dropped is logged (never truncated).
      batch_size: per-replica batch size, or None for unbatched examples.
      data_dir: TFDS data dir (default ``~/tensorflow_datasets``).
      shuffle: shuffle examples (buffer = the whole cached split).
      repeat: repeat forever.
      seed: shuffle seed.
      input_context: from ``distribute_datasets_from_function``; shards input
        between workers.
      drop_remainder: drop the last partial batch (static shapes for training).
      cache: keep decoded examples in memory (off for a one-off peek at a few batches).
      length_buckets: length bucketing: upper stroke-3 lengths of the buckets, e.g.
        ``(24, 32, 40, 48, 56)`` (a last bucket up to ``max_len`` is implied). Each
        batch then holds sketches of one bucket and is cut to its longest sketch:
        ``stroke5`` is ``[B, T_b + 1, 5]`` with ``T_b = min(max(length) + 1, max_len)``
        (one end-token row kept as a target), so a decoder runs only ``T_b`` steps.
        Needs a loss that ignores padding (``SketchEmbedNet(mask_after_end=True)``).
      manual_dir, builder_kwargs: as in :func:`prepare`.
    """
    ds, info = _examples(name, split, max_len, data_dir, manual_dir, builder_kwargs, shuffle,
                         repeat, seed, input_context, cache)
    return _batched(ds, batch_size, max_len, length_buckets, drop_remainder), info


def _examples(name, split, max_len, data_dir, manual_dir, builder_kwargs, shuffle, repeat, seed,
              input_context, cache) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Unbatched model inputs of one split (filtered, mapped, cached, shuffled, repeated)."""
    builder, info = prepare(name, data_dir, manual_dir=manual_dir, builder_kwargs=builder_kwargs)
    dataset_max_len = info.metadata.get("max_len")
    ds = _read_shard(builder, split, input_context, shuffle, seed)
    if dataset_max_len is None or max_len < dataset_max_len:
        too_long = sum(1 for ex in ds.map(lambda ex: tf.shape(ex["strokes"])[0] > max_len) if ex)
        logging.info("%s[%s]: dropping %d sketches longer than max_len=%d",
                     name, split, too_long, max_len)
        ds = ds.filter(lambda ex: tf.shape(ex["strokes"])[0] <= max_len)
    ds = ds.map(lambda ex: to_model_inputs(ex, info.stroke_scale, max_len),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(info.num_examples.get(split.split("[")[0], 10_000), seed=seed,
                        reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds, info


def _batched(ds, batch_size, max_len, length_buckets, drop_remainder) -> tf.data.Dataset:
    if batch_size is not None and length_buckets:
        ds = bucket_by_length(ds, length_buckets, max_len, batch_size, drop_remainder)
    elif batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    elif length_buckets:
        raise ValueError("length_buckets needs a batch_size")
    return ds.prefetch(tf.data.AUTOTUNE)


def load_mixture(
    sources: list[dict],
    max_len: int,
    batch_size: int | None,
    *,
    seed: int = 0,
    input_context: tf.distribute.InputContext | None = None,
    drop_remainder: bool = True,
    length_buckets: tuple[int, ...] | None = None,
    weights: tuple[float, ...] | None = None,
) -> tuple[tf.data.Dataset, list[DatasetInfo]]:
    """Training batches drawn from several stroke datasets (shuffled, repeated forever).

    Each source is read as by :func:`load` (its own ``stroke_scale`` normalises its
    offsets, so every source has unit-scale offsets) and examples are drawn from
    the sources at random, in proportion to ``weights`` or, by default, to the
    sizes of their splits (as if the splits were concatenated; a slice such as
    ``train[:5%]`` counts as its whole split, so give ``weights`` with slices).
    Batches mix sources; length buckets work as in :func:`load`.

    Args:
      sources: dicts with ``name`` and optionally ``split`` (default "train"),
        ``data_dir``, ``manual_dir`` and ``builder_kwargs``.
      max_len, batch_size, seed, input_context, drop_remainder, length_buckets:
        as in :func:`load`.
      weights: one positive number per source; None or empty = by split size.

    Returns:
      The batched dataset, and each source's :class:`DatasetInfo`.

    Raises:
      ValueError: for no sources, unknown source keys, mixed image shapes, or
        weights that are not one positive number per source.

    Example:
      >>> ds, infos = load_mixture([dict(name="kanjivg"), dict(name="quickdraw/paper_300_ndjson",
      ...     manual_dir="/tmp/qd", builder_kwargs=dict(allow_missing_classes=True))],
      ...     max_len=64, batch_size=64)  # doctest: +SKIP
    """
    if not sources:
        raise ValueError("load_mixture needs at least one source")
    datasets, infos, sizes = [], [], []
    for i, source in enumerate(sources):
        unknown = set(source) - {"name", "split", "data_dir", "manual_dir", "builder_kwargs"}
        if unknown or "name" not in source:
            raise ValueError(f"source {i} ({source}): needs 'name'; unknown keys {sorted(unknown)}")
        split = source.get("split") or "train"
        ds, info = _examples(source["name"], split, max_len, source.get("data_dir") or None,
                             source.get("manual_dir") or None,
                             dict(source.get("builder_kwargs") or {}), True, True,
                             seed + i, input_context, True)
        if infos and info.image_shape != infos[0].image_shape:
            raise ValueError(f"source {source['name']} has images {info.image_shape}, "
                             f"{infos[0].name} has {infos[0].image_shape}: they cannot be mixed")
        datasets.append(ds)
        infos.append(info)
        sizes.append(info.num_examples.get(split.split("[")[0], 1))
    if weights and (len(weights) != len(sources) or min(weights) <= 0):
        raise ValueError(f"weights {list(weights)}: need one positive number per source "
                         f"({len(sources)})")
    weights = np.asarray(weights or sizes, np.float64)
    weights = (weights / weights.sum()).tolist()
    logging.info("mixing %s with weights %s", [i.name for i in infos],
                 [round(w, 3) for w in weights])
    ds = datasets[0] if len(datasets) == 1 else tf.data.Dataset.sample_from_datasets(
        datasets, weights, seed=seed)
    return _batched(ds, batch_size, max_len, length_buckets, drop_remainder), infos


def trim_batch(batch: dict, max_len: int) -> dict:
    """Cuts a batch's ``stroke5`` to its longest sketch plus one end-token row."""
    steps = tf.minimum(tf.reduce_max(batch["length"]) + 1, max_len)  # T_b
    return dict(batch, stroke5=batch["stroke5"][:, : steps + 1])  # [B, T_b + 1, 5]


def bucket_by_length(ds: tf.data.Dataset, boundaries, max_len: int, batch_size: int,
                     drop_remainder: bool = True) -> tf.data.Dataset:
    """Batches examples of similar length together and trims each batch (see :func:`load`).

    Raises:
      ValueError: for boundaries that are not increasing integers in ``[1, max_len)``.
    """
    boundaries = [int(b) for b in boundaries]
    if boundaries != sorted(set(boundaries)) or boundaries[0] < 1 or boundaries[-1] >= max_len:
        raise ValueError(
            f"length_buckets={list(boundaries)} must be increasing integers in [1, {max_len})"
        )
    # A bucket holds lengths <= its boundary (tf.data's boundaries are exclusive).
    ds = ds.bucket_by_sequence_length(
        lambda ex: ex["length"], [b + 1 for b in boundaries],
        [batch_size] * (len(boundaries) + 1), no_padding=True, drop_remainder=drop_remainder,
    )
    return ds.map(lambda batch: trim_batch(batch, max_len), num_parallel_calls=tf.data.AUTOTUNE,
                  deterministic=True)

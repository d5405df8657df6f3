"""TFDS -> tf.data input pipelines: streamed, rendered on the fly, optionally augmented.

Every stroke dataset of the project (see ``tfds_builders``) stores the feature
``strokes`` (float32 stroke-3 ``[L, 3]``, not normalised) and records the
normalising scale (the standard deviation of its training offsets) as
``info.metadata["stroke_scale"]``. Datasets whose source has images (Sketchy's
photos) store them as ``image``; for all others the model's input image is
rendered here, in ``tf.data``, by the same ``tf.function`` rasterizer as the
pixel loss (:func:`sketchembednet.data.rasterize.render_images`). This module
turns such a dataset into batches of

* ``image``: uint8 ``[B, S, S, C]`` (white background, black ink),
* ``stroke5``: float32 ``[B, T + 1, 5]``, offsets divided by the scale,
* ``length``: int32 ``[B]``, the number of stroke-3 rows,
* with ``aux_view=True`` also ``image_aux``: a second, independently augmented
  rendering of the same strokes (:mod:`sketchembednet.data.views`).

The pipeline, per source:

1. reads the TFDS shards interleaved and in parallel (16 files at a time), each
   of N ``tf.distribute`` input pipelines its own 1/N of the files (of the
   examples when there are fewer files than pipelines);
2. drops sketches longer than ``max_len`` (never truncates);
3. caches the decoded strokes in memory only when this pipeline's share of the
   split fits ``cache_budget_mib`` (estimated from the split's size on disk);
4. shuffles with a bounded buffer (``shuffle_buffer`` examples, default
   :data:`DEFAULT_SHUFFLE_BUFFER`), repeats;
5. augments the strokes (:mod:`sketchembednet.data.augment`; off by default);
6. batches (or buckets by length), then renders the batch's images from its
   un-normalised strokes and divides the offsets by the source's scale.

Memory is bounded by the shuffle buffer, the prefetch queues and the cache
budget, not by the size of the dataset. Everything is deterministic for a given
seed (stateless augmentation keyed by the example's position in the stream).

Example:
  >>> ds, info = load("kanjivg", "validation", max_len=64, batch_size=8)
  >>> batch = next(iter(ds))
  >>> batch["image"].shape, batch["stroke5"].shape
  (TensorShape([8, 28, 28, 1]), TensorShape([8, 65, 5]))
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging

import tfds_builders  # noqa: F401  (registers the project's builders)
from sketchembednet.data import augment as augment_lib
from sketchembednet.data import rasterize
from sketchembednet.data import strokes
from sketchembednet.data import views

# Examples in a shuffle buffer. TFDS writes examples in an order shuffled by the hash
# of their keys (every shard mixes all classes), and the training reader shuffles the
# shard order and interleaves 16 shards, so the buffer only has to decorrelate
# neighbours and epochs. 50k un-normalised sketches take about 50 MB (about 1 kB each with
# tf.data's overhead), a small part of a 4 GiB budget, and exceed a 256-example
# batch 200-fold. A split smaller than the buffer is shuffled whole.
DEFAULT_SHUFFLE_BUFFER = 50_000
# Decoded strokes are cached in memory when the split's share fits this budget (MiB).
# KanjiVG's train split is 10 MiB; Quick, Draw!'s 300-class split is over 10 GiB.
DEFAULT_CACHE_BUDGET_MIB = 1024
_ELEMENT_OVERHEAD_BYTES = 512  # tf.data's cost of one cached element, beyond its tensors.
_INTERLEAVE_FILES = 16


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a prepared stroke dataset.

    Attributes:
      name: TFDS name, e.g. ``"kanjivg"``.
      stroke_scale: offsets are divided by this (std of the training offsets).
      image_shape: ``(S, S, C)`` of the model's input images.
      num_examples: examples per split.
      metadata: the builder's metadata dict (drop counts, build time, ...).
      rendered: True if images are rendered from the strokes (no stored ``image``).
    """

    name: str
    stroke_scale: float
    image_shape: tuple
    num_examples: dict
    metadata: dict
    rendered: bool = True


def image_shape_of(builder: tfds.core.DatasetBuilder) -> tuple:
    """``(S, S, C)`` of a builder's model inputs, known before the dataset is built.

    The stored ``image`` feature's shape, or ``(S, S, 1)`` with the builder's
    ``IMAGE_SIZE`` (the size images are rendered at).

    Raises:
      ValueError: if the builder has neither.
    """
    features = builder.info.features
    if "image" in features:
        return tuple(int(d) for d in features["image"].shape)
    size = getattr(type(builder), "IMAGE_SIZE", None) or (builder.info.metadata or {}).get(
        "image_size")
    if not size:
        raise ValueError(f"dataset {builder.name!r} has no 'image' feature and no IMAGE_SIZE "
                         "to render its strokes at")
    return (int(size), int(size), 1)


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
      ValueError: if the dataset has no ``strokes`` or records no ``stroke_scale``.
    """
    builder = tfds.builder(name, data_dir=data_dir, **(builder_kwargs or {}))
    config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
    builder.download_and_prepare(download_config=config)
    meta = dict(builder.info.metadata or {})
    if "stroke_scale" not in meta or "strokes" not in builder.info.features:
        raise ValueError(f"dataset {name!r} in {builder.data_dir} is not a stroke dataset "
                         "(it needs a 'strokes' feature and stroke_scale metadata)")
    info = DatasetInfo(
        name=name,
        stroke_scale=float(meta["stroke_scale"]),
        image_shape=image_shape_of(builder),
        num_examples={k: v.num_examples for k, v in builder.info.splits.items()},
        metadata=meta,
        rendered="image" not in builder.info.features,
    )
    return builder, info


def _read_shard(builder, split, input_context, shuffle, seed) -> tf.data.Dataset:
    """Reads this input pipeline's share of a split: by files if there are enough
    files for every pipeline, else by examples (from a fixed file order, so the
    shares are disjoint). Files are interleaved and read in parallel."""
    pipelines = input_context.num_input_pipelines if input_context else 1
    num_shards = builder.info.splits[split.split("[")[0]].num_shards
    by_files = pipelines > 1 and num_shards >= pipelines
    read_config = tfds.ReadConfig(
        input_context=input_context if by_files else None, shuffle_seed=seed,
        try_autocache=False,  # Caching is decided here, by the memory budget.
        interleave_cycle_length=_INTERLEAVE_FILES, interleave_block_length=16,
        num_parallel_calls_for_interleave_files=tf.data.AUTOTUNE,
        num_parallel_calls_for_decode=tf.data.AUTOTUNE)
    ds = builder.as_dataset(split=split, read_config=read_config,
                            shuffle_files=shuffle and (by_files or pipelines == 1))
    if pipelines > 1 and not by_files:
        ds = ds.shard(pipelines, input_context.input_pipeline_id)
    keys = ("strokes", "image") if "image" in builder.info.features else ("strokes",)
    return ds.map(lambda ex: {k: ex[k] for k in keys})


def fits_in_memory(builder: tfds.core.DatasetBuilder, split: str, budget_mib: float,
                   pipelines: int = 1) -> bool:
    """Whether one input pipeline's decoded share of ``split`` fits ``budget_mib``.

    An estimate from the split's bytes on disk (strokes are stored as raw
    float32), decoded stored images and tf.data's per-element overhead.
    """
    splits = builder.info.splits
    base = splits[split.split("[")[0]]
    share = splits[split].num_examples / max(base.num_examples, 1) / pipelines
    examples = base.num_examples * share
    features = builder.info.features
    image_bytes = int(np.prod(features["image"].shape)) if "image" in features else 0
    estimate = base.num_bytes * share + examples * (_ELEMENT_OVERHEAD_BYTES + image_bytes)
    return estimate <= budget_mib * 2**20


def _to_raw_stroke5(example: dict, stroke_scale: float, max_len: int) -> dict:
    """One example as un-normalised ``stroke5 [T+1, 5]``, ``length`` and its ``scale``."""
    stroke5, length = strokes.stroke3_to_stroke5_tf(example["strokes"], max_len)  # [T+1, 5]
    out = {"stroke5": stroke5, "length": length, "scale": tf.constant(stroke_scale, tf.float32)}
    if "image" in example:
        out["image"] = example["image"]
    if views.AUX_STROKES in example:
        out[views.AUX_STROKE5] = views.aux_stroke5(example[views.AUX_STROKES], max_len)
    return out


def finish_batch(batch: dict, image_size: int | None) -> dict:
    """Model inputs of a batch of raw examples: renders ``image`` (unless stored, i.e.
    ``image_size`` None) from the un-normalised strokes, then normalises the offsets.
    A second view's ``stroke5_aux`` becomes ``image_aux`` (and is dropped)."""
    stroke5 = batch["stroke5"]  # [B, N, 5], the source's units
    image = batch["image"] if image_size is None else rasterize.render_images(stroke5, image_size)
    offsets = stroke5[..., :2] / batch["scale"][:, None, None]  # [B, N, 2]
    stroke5 = tf.concat([offsets, stroke5[..., 2:]], axis=-1)  # [B, N, 5]
    out = {"image": image, "stroke5": stroke5, "length": batch["length"]}
    if views.AUX_STROKE5 in batch:
        out[views.AUX_IMAGE] = views.render_aux(batch, image_size)  # [B, S, S, 1]
    return out


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
    cache: bool | None = None,
    length_buckets: tuple[int, ...] | None = None,
    manual_dir: str | None = None,
    builder_kwargs: dict | None = None,
    shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
    cache_budget_mib: float = DEFAULT_CACHE_BUDGET_MIB,
    augmentation: augment_lib.Augmentation | None = None,
    skip_batches: int = 0,
    aux_view: bool = False,
) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Returns batched model inputs of one split, and the dataset's info.

    Args:
      name: TFDS dataset name (a builder of ``tfds_builders``).
      split: TFDS split, e.g. ``"train"`` or ``"validation[:50%]"``.
      max_len: T. Sketches with more stroke-3 rows are dropped (never truncated);
        when the split is small enough to cache, the number dropped is logged.
      batch_size: per-replica batch size, or None for unbatched examples.
      data_dir: TFDS data dir (default ``~/tensorflow_datasets``).
      shuffle: shuffle files and examples.
      repeat: repeat forever.
      seed: shuffle and augmentation seed.
      input_context: from ``distribute_datasets_from_function``; shards input
        between workers.
      drop_remainder: drop the last partial batch (static shapes for training).
      cache: keep decoded strokes in memory: None = when the split fits
        ``cache_budget_mib``; False for a one-off peek at a few batches.
      length_buckets: length bucketing: upper stroke-3 lengths of the buckets, e.g.
        ``(24, 32, 40, 48, 56)`` (a last bucket up to ``max_len`` is implied). Each
        batch then holds sketches of one bucket and is cut to its longest sketch:
        ``stroke5`` is ``[B, T_b + 1, 5]`` with ``T_b = min(max(length) + 1, max_len)``
        (one end-token row kept as a target), so a decoder runs only ``T_b`` steps.
        Needs a loss that ignores padding (``SketchEmbedNet(mask_after_end=True)``).
      manual_dir, builder_kwargs: as in :func:`prepare`.
      shuffle_buffer: examples in the shuffle buffer (the split's size if smaller).
      cache_budget_mib: the memory the strokes of one pipeline may take when cached.
      augmentation: stroke-space augmentation (None or all zeros = off).
      skip_batches: batches to skip (a resumed run continues the same order). They
        are read, shuffled and bucketed, but not rendered.
      aux_view: also yield ``image_aux``, a second rendering of each example's strokes
        augmented independently (:mod:`sketchembednet.data.views`); the other outputs
        stay as without it, bit for bit.

    Raises:
      ValueError: for bad ``length_buckets``, or ``aux_view`` with a dataset of stored
        images or without an active augmentation.
    """
    source = dict(name=name, split=split, data_dir=data_dir, manual_dir=manual_dir,
                  builder_kwargs=builder_kwargs)
    ds, info = _examples(source, max_len, shuffle=shuffle, repeat=repeat, seed=seed,
                         input_context=input_context, cache=cache, shuffle_buffer=shuffle_buffer,
                         cache_budget_mib=cache_budget_mib, augmentation=augmentation,
                         aux_view=aux_view)
    return _batched(ds, batch_size, max_len, length_buckets, drop_remainder, info,
                    skip_batches), info


def _examples(source: dict, max_len: int, *, shuffle, repeat, seed, input_context, cache,
              shuffle_buffer, cache_budget_mib, augmentation, index: int = 0,
              aux_view: bool = False) -> tuple[tf.data.Dataset, DatasetInfo]:
    """Unbatched raw examples of one source (filtered, cached, shuffled, repeated, augmented)."""
    name, split = source["name"], source.get("split") or "train"
    builder, info = prepare(name, source.get("data_dir") or None,
                            manual_dir=source.get("manual_dir") or None,
                            builder_kwargs=dict(source.get("builder_kwargs") or {}))
    aug = augmentation or augment_lib.NONE
    if aux_view:
        views.check_source(name, info.rendered, aug)
    pipelines = input_context.num_input_pipelines if input_context else 1
    fits = fits_in_memory(builder, split, cache_budget_mib, pipelines)
    cache = fits if cache is None else bool(cache)
    ds = _read_shard(builder, split, input_context, shuffle, seed)
    dataset_max_len = info.metadata.get("max_len")
    if dataset_max_len is None or max_len < dataset_max_len:
        if fits:
            too_long = sum(1 for ex in ds.map(lambda ex: tf.shape(ex["strokes"])[0] > max_len)
                           if ex)
            logging.info("%s[%s]: dropping %d sketches longer than max_len=%d",
                         name, split, too_long, max_len)
        else:
            logging.info("%s[%s]: dropping sketches longer than max_len=%d (not counted: the "
                         "split is too large to scan first)", name, split, max_len)
        ds = ds.filter(lambda ex: tf.shape(ex["strokes"])[0] <= max_len)
    logging.info("%s[%s]: %s", name, split, "decoded strokes cached in memory" if cache else
                 f"streamed from disk (cache budget {cache_budget_mib} MiB)")
    if cache:
        ds = ds.cache()
    if shuffle:
        buffer = min(int(shuffle_buffer), info.num_examples.get(split.split("[")[0], 1))
        ds = ds.shuffle(max(buffer, 1), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if aug.active:
        pipeline_id = input_context.input_pipeline_id if input_context else 0
        key = zlib.crc32(f"{seed}/{index}/{pipeline_id}".encode()) & 0x7FFFFFFF
        key_aux = views.aux_key(seed, index, pipeline_id)

        def augmented(i, ex):
            seed_pair = tf.stack([tf.constant(key, tf.int64), i])  # [2]
            out = dict(ex, strokes=augment_lib.augment_stroke3(ex["strokes"], seed_pair, aug,
                                                               info.stroke_scale))
            if aux_view:  # From the raw strokes, with a key of its own.
                out[views.AUX_STROKES] = views.aux_strokes(ex["strokes"], i, key_aux, aug,
                                                           info.stroke_scale)
            return out

        ds = ds.enumerate().map(augmented, num_parallel_calls=tf.data.AUTOTUNE,
                                deterministic=True)
    ds = ds.map(lambda ex: _to_raw_stroke5(ex, info.stroke_scale, max_len),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds, info


def _batched(ds, batch_size, max_len, length_buckets, drop_remainder, info,
             skip_batches: int = 0) -> tf.data.Dataset:
    size = int(info.image_shape[0]) if info.rendered else None
    if batch_size is None:
        if length_buckets or skip_batches:
            raise ValueError("length_buckets and skip_batches need a batch_size")
        one = lambda ex: {k: v[0] for k, v in finish_batch(  # noqa: E731
            {k: v[None] for k, v in ex.items()}, size).items()}
        return ds.map(one, num_parallel_calls=tf.data.AUTOTUNE,
                      deterministic=True).prefetch(tf.data.AUTOTUNE)
    if length_buckets:
        ds = bucket_by_length(ds, length_buckets, max_len, batch_size, drop_remainder)
    else:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if skip_batches:
        ds = ds.skip(int(skip_batches))
    ds = ds.map(lambda batch: finish_batch(batch, size), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True)
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
    shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
    cache_budget_mib: float = DEFAULT_CACHE_BUDGET_MIB,
    augmentation: augment_lib.Augmentation | None = None,
    skip_batches: int = 0,
    aux_view: bool = False,
) -> tuple[tf.data.Dataset, list[DatasetInfo]]:
    """Training batches drawn from several stroke datasets (shuffled, repeated forever).

    Each source is read as by :func:`load`, and its offsets are divided by its own
    ``stroke_scale`` (so every source has unit-scale offsets); examples are drawn
    from the sources at random, in proportion to ``weights`` or, by default, to
    the sizes of their splits (as if the splits were concatenated; a slice such as
    ``train[:5%]`` counts as its whole split, so give ``weights`` with slices).
    Batches mix sources; length buckets work as in :func:`load`. The cache budget
    applies to each source.

    Args:
      sources: dicts with ``name`` and optionally ``split`` (default "train"),
        ``data_dir``, ``manual_dir`` and ``builder_kwargs``.
      max_len, batch_size, seed, input_context, drop_remainder, length_buckets,
      shuffle_buffer, cache_budget_mib, augmentation, skip_batches, aux_view: as in
        :func:`load`.
      weights: one positive number per source; None or empty = by split size.

    Returns:
      The batched dataset, and each source's :class:`DatasetInfo`.

    Raises:
      ValueError: for no sources, unknown source keys, mixed image shapes, a mix
        of rendered and stored images, weights that are not one positive
        number per source, or ``aux_view`` as :func:`load` refuses it.

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
        ds, info = _examples(source, max_len, shuffle=True, repeat=True, seed=seed + i,
                             input_context=input_context, cache=None,
                             shuffle_buffer=shuffle_buffer, cache_budget_mib=cache_budget_mib,
                             augmentation=augmentation, index=i, aux_view=aux_view)
        if infos and (info.image_shape, info.rendered) != (infos[0].image_shape,
                                                           infos[0].rendered):
            raise ValueError(f"source {source['name']} has images {info.image_shape} "
                             f"({'rendered' if info.rendered else 'stored'}), {infos[0].name} "
                             f"has {infos[0].image_shape} "
                             f"({'rendered' if infos[0].rendered else 'stored'}): they cannot "
                             "be mixed")
        datasets.append(ds)
        infos.append(info)
        sizes.append(info.num_examples.get((source.get("split") or "train").split("[")[0], 1))
    if weights and (len(weights) != len(sources) or min(weights) <= 0):
        raise ValueError(f"weights {list(weights)}: need one positive number per source "
                         f"({len(sources)})")
    weights = np.asarray(weights or sizes, np.float64)
    weights = (weights / weights.sum()).tolist()
    logging.info("mixing %s with weights %s and scales %s", [i.name for i in infos],
                 [round(w, 3) for w in weights], [round(i.stroke_scale, 4) for i in infos])
    ds = datasets[0] if len(datasets) == 1 else tf.data.Dataset.sample_from_datasets(
        datasets, weights, seed=seed)
    return _batched(ds, batch_size, max_len, length_buckets, drop_remainder, infos[0],
                    skip_batches), infos


def trim_batch(batch: dict, max_len: int) -> dict:
    """Cuts a batch's ``stroke5`` to its longest sketch plus one end-token row (a second
    view's ``stroke5_aux`` keeps its ``max_len + 1`` rows: its lengths differ)."""
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

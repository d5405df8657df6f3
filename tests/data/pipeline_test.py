"""Tests for sketchembednet.data.pipeline on the real embedded kanjivg dataset."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet.data import pipeline
from sketchembednet.data import rasterize
from sketchembednet.data import strokes


def test_batches_have_model_shapes_and_normalised_offsets(kanjivg_data_dir):
    ds, info = pipeline.load("kanjivg", "train", max_len=64, batch_size=128,
                             data_dir=kanjivg_data_dir)
    assert info.image_shape == (28, 28, 1)
    assert info.num_examples["train"] > 10_000
    batch = next(iter(ds))
    assert batch["image"].dtype == tf.uint8 and batch["image"].shape == (128, 28, 28, 1)
    assert batch["stroke5"].shape == (128, 65, 5)
    np.testing.assert_array_equal(batch["stroke5"][:, 0], [strokes.START_TOKEN] * 128)
    # The offsets were divided by the std of all training offsets.
    offsets = np.concatenate([s[1 : n + 1, :2].ravel()
                              for s, n in zip(batch["stroke5"].numpy(), batch["length"].numpy())])
    assert 0.7 < offsets.std() < 1.3


def test_images_match_the_shared_renderer(kanjivg_data_dir):
    ds, _ = pipeline.load("kanjivg", "validation", max_len=64, batch_size=16,
                          data_dir=kanjivg_data_dir)
    batch = next(iter(ds))
    rendered = rasterize.render_images(batch["stroke5"], 28)
    # Normalising offsets does not change the fitted rendering: one renderer for
    # stored inputs and pixel-loss targets.
    diff = np.abs(rendered.numpy().astype(int) - batch["image"].numpy().astype(int))
    assert diff.max() <= 1


def test_shorter_max_len_drops_and_counts(kanjivg_data_dir):
    full, _ = pipeline.load("kanjivg", "validation", max_len=64, batch_size=None,
                            data_dir=kanjivg_data_dir)
    short, _ = pipeline.load("kanjivg", "validation", max_len=20, batch_size=None,
                             data_dir=kanjivg_data_dir)
    lengths = np.array([int(ex["length"]) for ex in full])
    kept = [int(ex["length"]) for ex in short]
    assert len(kept) == int((lengths <= 20).sum()) > 0
    assert max(kept) <= 20


def test_input_context_shards_between_workers(kanjivg_data_dir):
    def examples(ctx):
        ds, _ = pipeline.load("kanjivg", "validation", max_len=64, batch_size=None,
                              data_dir=kanjivg_data_dir, input_context=ctx)
        return collections.Counter(ex["stroke5"].numpy().tobytes() for ex in ds)

    shares = [examples(tf.distribute.InputContext(2, worker, 2)) for worker in range(2)]
    everything = examples(None)
    # The workers' shares are non-empty, about equal, and add up to the split.
    assert abs(sum(shares[0].values()) - sum(shares[1].values())) <= 1
    assert shares[0] + shares[1] == everything


def test_length_buckets_group_and_trim_batches_and_keep_every_example(kanjivg_data_dir):
    kwargs = dict(data_dir=kanjivg_data_dir, max_len=64, batch_size=16, drop_remainder=False)
    plain, _ = pipeline.load("kanjivg", "validation", **kwargs)
    bucketed, _ = pipeline.load("kanjivg", "validation", length_buckets=(24, 32, 40), **kwargs)
    assert bucketed.element_spec["stroke5"].shape.as_list() == [None, None, 5]
    bounds = [0, 24, 32, 40, 64]
    seen_steps = set()
    for batch in bucketed:
        lengths = batch["length"].numpy()
        bucket = np.searchsorted(bounds, lengths.max()) - 1
        assert lengths.min() > bounds[bucket] and lengths.max() <= bounds[bucket + 1], lengths
        steps = batch["stroke5"].shape[1] - 1
        assert steps == min(lengths.max() + 1, 64)
        seen_steps.add(steps)
        # Cutting dropped padding only: every row past the longest sketch's end is an end token.
        if lengths.max() < 64:
            np.testing.assert_array_equal(batch["stroke5"][:, -1, 4].numpy(), 1.0)
    assert len(seen_steps) > 3

    def fingerprints(ds):
        return sorted(
            (int(length), float(np.abs(s5[: length + 1, :2]).sum()))
            for batch in ds for s5, length in zip(batch["stroke5"].numpy(), batch["length"].numpy())
        )

    assert fingerprints(bucketed) == fingerprints(plain)


def test_bad_length_buckets_are_rejected(kanjivg_data_dir):
    with pytest.raises(ValueError, match="length_buckets"):
        pipeline.load("kanjivg", "validation", 64, 8, data_dir=kanjivg_data_dir,
                      length_buckets=(40, 24))


def _fingerprints(ds):
    return {(int(n), round(float(np.abs(s5[: n + 1, :2]).sum()), 3))
            for batch in ds for s5, n in zip(batch["stroke5"].numpy(), batch["length"].numpy())}


def test_mixture_draws_from_every_source_by_weight(kanjivg_data_dir):
    kwargs = dict(data_dir=kanjivg_data_dir, max_len=64, batch_size=64, drop_remainder=False)
    validation = _fingerprints(pipeline.load("kanjivg", "validation", **kwargs)[0])
    test = _fingerprints(pipeline.load("kanjivg", "train[:5%]", **kwargs)[0]) - validation
    sources = [dict(name="kanjivg", split="validation", data_dir=kanjivg_data_dir),
               dict(name="kanjivg", split="train[:5%]", data_dir=kanjivg_data_dir)]
    ds, infos = pipeline.load_mixture(sources, 64, 64, seed=1, weights=(3, 1),
                                      length_buckets=(24, 32))
    assert [i.name for i in infos] == ["kanjivg", "kanjivg"]
    drawn = [fp for batch in ds.take(40) for fp in _fingerprints([batch])]
    from_test = np.mean([fp in test for fp in drawn])
    assert all(fp in validation or fp in test for fp in drawn)
    assert 0.18 < from_test < 0.32  # weights 3:1 -> 25% from the second source
    with pytest.raises(ValueError, match="one positive number per source"):
        pipeline.load_mixture(sources, 64, 8, weights=(1,))
    with pytest.raises(ValueError, match="unknown keys"):
        pipeline.load_mixture([dict(name="kanjivg", wieght=2)], 64, 8)

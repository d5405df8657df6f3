"""Tests for sketchembednet.evaluation.linear_probe."""

import numpy as np
import pytest

from sketchembednet.evaluation import linear_probe


def test_split_is_per_class_disjoint_and_seeded():
    labels = np.repeat(np.arange(4), [10, 5, 2, 1])  # The last class has one example.
    train, test = linear_probe.split_per_class(labels, 0.5, seed=0)
    assert not set(train.tolist()) & set(test.tolist())
    assert np.bincount(labels[train], minlength=4).tolist() == [5, 2, 1, 0]  # round(2.5) = 2.
    assert np.bincount(labels[test], minlength=4).tolist() == [5, 3, 1, 0]
    again, _ = linear_probe.split_per_class(labels, 0.5, seed=0)
    other, _ = linear_probe.split_per_class(labels, 0.5, seed=1)
    assert train.tolist() == again.tolist() and train.tolist() != other.tolist()
    with pytest.raises(ValueError, match="train_fraction"):
        linear_probe.split_per_class(labels, 1.0)


def test_probe_accuracy_separable_and_random():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 20)
    separable = np.eye(10)[labels] + 0.05 * rng.normal(size=(200, 10))
    result = linear_probe.evaluate_embeddings(separable, labels)
    assert result["accuracy"] == 1.0
    assert (result["num_classes"], result["num_train"], result["num_test"]) == (10, 100, 100)
    noise = linear_probe.evaluate_embeddings(rng.normal(size=(200, 32)), labels)
    assert noise["accuracy"] < 0.3  # Chance is 0.1.


def test_probe_on_real_quickdraw_seen_and_unseen_classes(shared_data, tmp_path):
    """Table 4's splits from the real ndjson sample (25 drawings of each class)."""
    from sketchembednet.evaluation import datasets
    from sketchembednet.evaluation import loading

    embed_fn = loading.random_encoder_embed_fn("cpu", (28, 28, 1), seed=0)  # Random CNN.
    manual = str(shared_data / "quickdraw" / "simplified_345cls_25each")
    for spec in ("quickdraw_seen", "quickdraw_unseen"):
        data = datasets.load(spec, data_dir=str(tmp_path), manual_dir=manual)
        assert data.num_classes == 45 and data.name == spec
        assert 45 * 15 < len(data.labels) <= 45 * 25  # Drawings longer than 64 rows dropped.
        result = linear_probe.evaluate(embed_fn, data.images, data.labels, progress=False)
        assert result["num_classes"] == 45
        assert result["accuracy"] > 0.1  # Chance is 1/45; the Random CNN gets ~0.18 here.

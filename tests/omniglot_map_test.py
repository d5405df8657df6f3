"""Tests for sketchembednet.evaluation.omniglot_map: the alphabet table, the readout and
the figure."""

import csv
import os

import numpy as np
import pytest

from sketchembednet.evaluation import datasets
from sketchembednet.evaluation import omniglot_map


def test_alphabet_table_matches_the_shared_character_index(shared_data):
    rows = list(csv.DictReader(open(shared_data / "omniglot" / "character_index.csv")))
    expected = {}
    for row in rows:
        if row["split"] == "background":
            expected.setdefault(row["alphabet"], []).append(int(row["npz_class_index"]))
    labels = omniglot_map.alphabet_labels()
    assert len(labels) == 30 and sum(len(r) for r in labels.values()) == 964
    assert {name: list(r) for name, r in labels.items()} == expected


def test_nearest_neighbour_accuracy_counts_each_point_against_the_others():
    z = np.array([[1.0, 0.0], [0.8, 0.2], [0.0, 1.0], [0.6, 0.4]])
    # Cosines: 0-1 0.97, 1-3 0.94, 0-3 0.83, 2-3 0.55, 1-2 0.24. Points 0 and 1 are each
    # other's nearest (same class), 2's nearest is 3 (same class), but 3's is 1 (other).
    assert omniglot_map.nearest_neighbour_accuracy(z, np.array([0, 0, 1, 1])) == 0.75
    # Scale does not matter (cosine), labels do.
    assert omniglot_map.nearest_neighbour_accuracy(z * 7, np.array([0, 0, 1, 1])) == 0.75
    assert omniglot_map.nearest_neighbour_accuracy(z, np.array([0, 1, 0, 1])) == 0.25


def _fake_background(alphabet_characters, drawers=6, seed=0):
    """Labelled 28x28 images of the given labels: each label an ink blob at its own place
    (on a 3x4 grid, 7 px apart: blobs of different labels never overlap)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k, label in enumerate(alphabet_characters):
        centre = np.array([4 + 7 * (k // 4), 4 + 7 * (k % 4)])
        for _ in range(drawers):
            page = np.full([28, 28, 1], 255, np.uint8)
            y, x = centre + rng.integers(-1, 2, size=2)
            page[max(y - 3, 0):y + 3, max(x - 3, 0):x + 3] = 0
            images.append(page)
            labels.append(label)
    return datasets.LabelledImages(np.stack(images), np.array(labels), name="fake")


def test_run_writes_one_panel_per_alphabet_and_separates_distinct_characters(tmp_path):
    greek, korean = omniglot_map.alphabet_labels()["Greek"], omniglot_map.alphabet_labels()[
        "Korean"]
    data = _fake_background(list(greek)[:5] + list(korean)[:4] + [0])  # + an Arcadian one
    path = tmp_path / "map.png"

    def pixels(images):
        return 1.0 - images.reshape(len(images), -1).astype(np.float32) / 255

    result = omniglot_map.run(pixels, data, path, alphabets=("Greek", "Korean"), method="pca")
    assert os.path.getsize(path) > 10_000
    assert result["figure"] == "map.png"
    assert set(result["alphabets"]) == {"Greek", "Korean"}
    greek_row = result["alphabets"]["Greek"]
    assert (greek_row["characters"], greek_row["drawings"]) == (5, 30)
    assert greek_row["chance"] == pytest.approx(0.2)
    assert greek_row["nn_accuracy"] == 1.0  # Blobs at different places: separable.

    constant = omniglot_map.run(lambda images: np.ones([len(images), 4]) +
                                np.random.default_rng(0).normal(0, 1e-3, [len(images), 4]),
                                data, path, alphabets=("Greek",), method="pca")
    assert constant["alphabets"]["Greek"]["nn_accuracy"] < 0.6  # noise: near chance


def test_subset_names_the_problem():
    data = _fake_background([0, 1])
    with pytest.raises(ValueError, match="unknown Omniglot background alphabet 'Klingon'"):
        omniglot_map.alphabet_subset(data, "Klingon")
    with pytest.raises(ValueError, match="fake: holds no drawing of Greek"):
        omniglot_map.alphabet_subset(data, "Greek")
    assert omniglot_map.alphabet_subset(data, "Arcadian", max_characters=1).num_classes == 1


def test_docstring_examples():
    import doctest

    assert doctest.testmod(omniglot_map).failed == 0

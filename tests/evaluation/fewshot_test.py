"""Tests for sketchembednet.evaluation.fewshot: sampler, CI formula, classifier accuracy."""

import numpy as np
import pytest

from sketchembednet.evaluation import fewshot

LABELS = np.repeat(np.arange(30), 10)  # 30 classes x 10 examples, class-major.


def test_ci95_formula():
    values = [0.5, 0.7, 0.9, 0.7]
    expected = 1.96 * np.std(values) / np.sqrt(4)
    assert fewshot.ci95(values) == pytest.approx(expected)
    assert fewshot.ci95([0.0, 1.0, 0.0, 1.0]) == pytest.approx(1.96 * 0.5 / 2)
    assert fewshot.ci95([0.3] * 50) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="empty"):
        fewshot.ci95([])


@pytest.mark.parametrize("num_query", [None, 3])
def test_episodes_are_disjoint_and_sized(num_query):
    shuffled = np.random.default_rng(1).permutation(LABELS)  # Rows of a class are not adjacent.
    for episode in fewshot.sample_episodes(shuffled, ways=5, shots=2, episodes=50,
                                           num_query=num_query, seed=0):
        assert len(set(episode.classes.tolist())) == 5
        assert len(episode.support) == 10 and len(set(episode.support.tolist())) == 10
        per_class = 10 - 2 if num_query is None else 3
        assert len(episode.query) == 5 * per_class
        assert len(set(episode.query.tolist())) == len(episode.query)
        assert not set(episode.support.tolist()) & set(episode.query.tolist())
        # Episode labels point at the sampled classes.
        np.testing.assert_array_equal(shuffled[episode.support],
                                      episode.classes[episode.support_labels])
        np.testing.assert_array_equal(shuffled[episode.query],
                                      episode.classes[episode.query_labels])
        assert np.bincount(episode.support_labels).tolist() == [2] * 5
        assert np.bincount(episode.query_labels).tolist() == [per_class] * 5


def _as_tuples(episodes):
    return [(e.classes.tolist(), e.support.tolist(), e.query.tolist()) for e in episodes]


def test_episodes_are_seeded():
    first = _as_tuples(fewshot.sample_episodes(LABELS, 5, 1, 20, seed=3))
    again = _as_tuples(fewshot.sample_episodes(LABELS, 5, 1, 20, seed=3))
    other = _as_tuples(fewshot.sample_episodes(LABELS, 5, 1, 20, seed=4))
    assert first == again
    assert first != other


def test_classes_are_drawn_uniformly():
    counts = np.zeros(30)
    for episode in fewshot.sample_episodes(LABELS, 5, 1, 3000, seed=0):
        counts[episode.classes] += 1
    assert counts.min() > 0.8 * 500 and counts.max() < 1.2 * 500  # 3000 * 5 / 30 = 500 each.


def test_too_few_classes_or_examples_raise():
    with pytest.raises(ValueError, match="needs 31 classes"):
        next(fewshot.sample_episodes(LABELS, 31, 1, 1))
    with pytest.raises(ValueError, match="needs 5 classes with at least 11"):
        next(fewshot.sample_episodes(LABELS, 5, 10, 1))
    with pytest.raises(ValueError, match="ways >= 2"):
        next(fewshot.sample_episodes(LABELS, 1, 1, 1))


def test_small_classes_are_skipped():
    labels = np.concatenate([LABELS, [99]])  # One class with a single example.
    for episode in fewshot.sample_episodes(labels, 30, 1, 5, seed=0):
        assert 99 not in episode.classes


def test_separable_embeddings_score_100_percent_and_random_ones_chance():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 64))
    separable = fewshot.l2_normalize(centres[LABELS] + 0.05 * rng.normal(size=(300, 64)))
    result = fewshot.evaluate_embeddings(separable, LABELS, ways=10, shots=1, episodes=30)
    assert result["accuracy"] == 1.0 and result["ci95"] == 0.0
    assert (result["ways"], result["shots"], result["episodes"], result["query_per_class"]) == \
        (10, 1, 30, 9)
    noise = fewshot.l2_normalize(rng.normal(size=(300, 64)))
    chance = fewshot.evaluate_embeddings(noise, LABELS, ways=10, shots=1, episodes=200)
    assert abs(chance["accuracy"] - 0.1) < 3 * chance["ci95"] + 0.01
    assert chance["seconds"] > 0


def test_evaluate_embeds_each_image_once():
    calls = []

    def embed_fn(images):
        calls.append(len(images))
        return np.eye(30)[images[:, 0, 0, 0]] * 5.0

    images = LABELS.astype(np.uint8)[:, None, None, None]  # [300, 1, 1, 1]
    result = fewshot.evaluate(embed_fn, images, LABELS, 5, 1, episodes=40, batch_size=128,
                              progress=False)
    assert calls == [128, 128, 44]
    assert result["accuracy"] == 1.0


def test_compute_embeddings_normalises_and_checks_shapes():
    embeddings = fewshot.compute_embeddings(lambda x: np.ones([len(x), 4]) * 3,
                                            np.zeros([5, 2, 2, 1], np.uint8), progress=False)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match=r"returned shape \(1, 4\) for 5 images"):
        fewshot.compute_embeddings(lambda x: np.ones([1, 4]), np.zeros([5, 2, 2, 1], np.uint8),
                                   progress=False)
    with pytest.raises(ValueError, match="non-finite"):
        fewshot.compute_embeddings(lambda x: np.full([len(x), 4], np.nan),
                                   np.zeros([5, 2, 2, 1], np.uint8), progress=False)

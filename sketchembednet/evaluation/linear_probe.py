"""Linear probe: logistic regression on embeddings of labelled examples (paper Table 4).

Wang et al. 2021 (Table 4) classify Quickdraw sketches of seen (T1, 45 of the
training classes) and unseen (T2, the 45 held-out) classes with a linear
classifier on frozen embeddings. Here each class's examples are split, with a
seeded per-class shuffle, into a training part (``train_fraction``, at least one
example) and a test part (the rest, at least one); the classifier is the
few-shot protocol's ``LogisticRegression(lbfgs, C=1, random_state=0)`` on
L2-normalised embeddings, and the result is the test accuracy.

Example:
  >>> labels = np.repeat(np.arange(3), 10)
  >>> embeddings = np.eye(3)[labels] + 0.01 * np.random.default_rng(0).normal(size=(30, 3))
  >>> evaluate_embeddings(embeddings, labels, train_fraction=0.5)["accuracy"]
  1.0
"""

from __future__ import annotations

import time

import numpy as np
from absl import logging

from sketchembednet.evaluation import fewshot


def split_per_class(labels, train_fraction: float = 0.5, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint ``(train rows, test rows)``: each class split ``train_fraction`` / rest.

    Every class keeps at least one example on each side (rounding to nearest);
    classes with a single example are left out (and logged).

    Example:
      >>> train, test = split_per_class(np.array([0, 0, 0, 0, 1, 1]), 0.5)
      >>> len(train), len(test)
      (3, 3)
    """
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test, skipped = [], [], 0
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        if len(rows) < 2:
            skipped += 1
            continue
        k = min(max(int(round(train_fraction * len(rows))), 1), len(rows) - 1)
        train.append(rows[:k])
        test.append(rows[k:])
    if skipped:
        logging.warning("linear probe: %d classes with a single example left out", skipped)
    if not train:
        raise ValueError("linear probe: no class has two or more examples")
    return np.concatenate(train), np.concatenate(test)


def evaluate_embeddings(embeddings: np.ndarray, labels, train_fraction: float = 0.5,
                        seed: int = 0, make_classifier=None) -> dict:
    """Test accuracy of a linear classifier trained on a per-class split.

    Args:
      embeddings: ``[n, D]`` (normalised by :func:`fewshot.compute_embeddings`).
      labels: ``[n]`` integer classes.
      train_fraction: share of each class used for training.
      seed: the split's seed.
      make_classifier: factory of an sklearn classifier (default: the few-shot one).

    Returns:
      dict: ``accuracy``, ``num_classes``, ``num_train``, ``num_test``,
      ``train_fraction``, ``seed``, ``seconds``.
    """
    start = time.time()
    embeddings, labels = np.asarray(embeddings, np.float32), np.asarray(labels)
    train, test = split_per_class(labels, train_fraction, seed)
    classifier = (make_classifier or fewshot.logistic_regression)()
    classifier.fit(embeddings[train], labels[train])  # [n_train, D]
    accuracy = float(np.mean(classifier.predict(embeddings[test]) == labels[test]))
    return {
        "accuracy": accuracy,
        "num_classes": int(len(np.unique(labels[train]))),
        "num_train": int(len(train)),
        "num_test": int(len(test)),
        "train_fraction": float(train_fraction),
        "seed": int(seed),
        "seconds": time.time() - start,
    }


def evaluate(embed_fn, images: np.ndarray, labels, train_fraction: float = 0.5,
             seed: int = 0, batch_size: int = 256, progress: bool = True) -> dict:
    """Embeds ``images`` once with ``embed_fn``, then :func:`evaluate_embeddings`."""
    embeddings = fewshot.compute_embeddings(embed_fn, images, batch_size, progress=progress)
    return evaluate_embeddings(embeddings, labels, train_fraction, seed)

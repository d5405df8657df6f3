"""N-way K-shot episodes over a labelled embedding matrix (reference notes Sec. 5).

The protocol of Wang et al. 2021 (``models/lr_fs.py``): every image is embedded
once (the encoder mean mu, BatchNorm in inference mode), L2-normalised; each
episode draws ``ways`` classes uniformly without replacement, ``shots`` support
examples per class and, by default, *every remaining example* of those classes
as the query set; a scikit-learn ``LogisticRegression(lbfgs, C=1,
random_state=0)`` (multinomial) is fit on the support set and scored on the
query set. The result is the mean accuracy +- 1.96 std / sqrt(episodes).

The evaluator takes an ``embed_fn(images uint8 [n, S, S, C]) -> [n, D]``, never
a model (style rule 11); ``sketchembednet.evaluation.loading`` makes them.

Example:
  >>> rng = np.random.default_rng(0)
  >>> labels = np.repeat(np.arange(10), 5)  # 10 classes x 5 examples
  >>> embeddings = np.eye(10)[labels] + 0.01 * rng.normal(size=(50, 10))
  >>> result = evaluate_embeddings(embeddings, labels, ways=5, shots=1, episodes=20)
  >>> result["accuracy"], result["query_per_class"]
  (1.0, 4)
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Iterator

import numpy as np
import tqdm
from absl import logging
from sklearn.linear_model import LogisticRegression

# Episodes per setting in the paper (reference notes Sec. 5).
DEFAULT_EPISODES = {"omniglot": 2000, "mini_imagenet": 1000}
SWEEP_EPISODES = 500  # Checkpoint sweeps.

EmbedFn = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Episode:
    """Indices into the embedding matrix of one episode.

    Attributes:
      classes: ``[ways]`` the sampled class labels; episode label ``i`` is ``classes[i]``.
      support: ``[ways * shots]`` row indices, class-major.
      support_labels: ``[ways * shots]`` episode labels 0..ways-1.
      query: ``[Q]`` row indices, disjoint from ``support``.
      query_labels: ``[Q]`` episode labels 0..ways-1.

    Example:
      >>> episode = next(sample_episodes(np.repeat(np.arange(4), 3), 2, 1, 1, seed=0))
      >>> len(episode.support), len(episode.query)
      (2, 4)
    """

    classes: np.ndarray
    support: np.ndarray
    support_labels: np.ndarray
    query: np.ndarray
    query_labels: np.ndarray


HALF_SEED = 0  # Seed of the class permutation that halves the Omniglot background set.


def half_classes(classes, half: int, seed: int = HALF_SEED) -> np.ndarray:
    """The sorted classes of one half of ``classes``: the first ``ceil(C / 2)`` of a
    seeded permutation (``half=0``) or the rest (``half=1``). On the Omniglot background
    set, tuning and the issue-21 ablation select on half 0 and report half 1
    (``tuning.omniglot_half``, ``tools/page_check.py --half``, the ``pages_half1`` route
    of ``tools/results_table.py``).

    Example:
      >>> half_classes(np.arange(5), 0).tolist(), half_classes(np.arange(5), 1).tolist()
      ([2, 3, 4], [0, 1])
    """
    if half not in (0, 1):
        raise ValueError(f"half must be 0 or 1, got {half}")
    order = np.random.default_rng(seed).permutation(np.asarray(classes))
    first = (len(order) + 1) // 2
    return np.sort(order[:first] if half == 0 else order[first:])


def ci95(accuracies) -> float:
    """Half-width of the 95% confidence interval of the mean: ``1.96 * std / sqrt(n)``.

    ``std`` is the population standard deviation (``np.std``, ddof 0) of the
    per-episode accuracies, as in the authors' evaluation code.

    Example:
      >>> round(ci95([0.0, 1.0, 0.0, 1.0]), 4)
      0.49
    """
    values = np.asarray(accuracies, np.float64)
    if values.size == 0:
        raise ValueError("ci95 of an empty list of accuracies")
    return float(1.96 * values.std() / np.sqrt(values.size))


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero).

    Example:
      >>> l2_normalize(np.array([[0.0, 2.0], [0.0, 0.0]])).tolist()
      [[0.0, 1.0], [0.0, 0.0]]
    """
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), eps)  # [n, D]


def compute_embeddings(embed_fn: EmbedFn, images: np.ndarray, batch_size: int = 256,
                       normalize: bool = True, progress: bool = True) -> np.ndarray:
    """Embeds every image once, in batches, with a progress bar.

    Args:
      embed_fn: ``images uint8 [b, S, S, C] -> [b, D]`` (numpy or tensor).
      images: uint8 ``[n, S, S, C]``.
      batch_size: images per ``embed_fn`` call.
      normalize: L2-normalise the rows (the protocol's default).
      progress: show a tqdm bar.

    Returns:
      float32 ``[n, D]``.

    Raises:
      ValueError: if ``images`` is empty or ``embed_fn`` returns the wrong number of rows.
    """
    if len(images) == 0:
        raise ValueError("compute_embeddings: no images")
    out = []
    starts = range(0, len(images), batch_size)
    for start in tqdm.tqdm(starts, desc="embed", unit="batch", disable=not progress):
        batch = images[start : start + batch_size]
        emb = np.asarray(embed_fn(batch), np.float32)  # [b, D]
        if emb.ndim != 2 or emb.shape[0] != len(batch):
            raise ValueError(f"embed_fn returned shape {emb.shape} for {len(batch)} images; "
                             "expected [n, D]")
        out.append(emb)
    embeddings = np.concatenate(out)  # [n, D]
    if not np.all(np.isfinite(embeddings)):
        raise ValueError("embed_fn returned non-finite embeddings")
    return l2_normalize(embeddings) if normalize else embeddings


def _class_index(labels: np.ndarray, min_count: int) -> dict[int, np.ndarray]:
    """``{label: row indices}`` of the classes with at least ``min_count`` examples."""
    order = np.argsort(labels, kind="stable")
    values, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    index = {int(v): order[s : s + c] for v, s, c in zip(values, starts, counts)}
    too_small = [v for v, rows in index.items() if len(rows) < min_count]
    if too_small:
        logging.warning("few-shot: %d of %d classes have fewer than %d examples and are "
                        "never sampled", len(too_small), len(index), min_count)
    return {v: rows for v, rows in index.items() if len(rows) >= min_count}


def sample_episodes(labels, ways: int, shots: int, episodes: int,
                    num_query: int | None = None, seed: int = 0) -> Iterator[Episode]:
    """Yields reproducible N-way K-shot episodes.

    Classes are drawn uniformly without replacement among those with at least
    ``shots + max(num_query, 1)`` examples; support and query examples are drawn
    without replacement, so they are disjoint.

    Args:
      labels: ``[n]`` integer class of each row.
      ways: N, classes per episode.
      shots: K, support examples per class.
      episodes: how many episodes.
      num_query: query examples per class; None = every remaining example.
      seed: seed of the ``numpy.random.Generator``.

    Raises:
      ValueError: for non-positive sizes or fewer eligible classes than ``ways``.
    """
    if ways < 2 or shots < 1 or episodes < 1 or (num_query is not None and num_query < 1):
        raise ValueError(f"need ways >= 2, shots >= 1, episodes >= 1, num_query >= 1 or None; "
                         f"got {ways}, {shots}, {episodes}, {num_query}")
    labels = np.asarray(labels)
    index = _class_index(labels, shots + (num_query or 1))
    if len(index) < ways:
        raise ValueError(f"{ways}-way {shots}-shot needs {ways} classes with at least "
                         f"{shots + (num_query or 1)} examples; there are {len(index)}")
    classes = np.array(sorted(index))
    rng = np.random.default_rng(seed)
    for _ in range(episodes):
        chosen = rng.choice(classes, size=ways, replace=False)  # [ways]
        support, query, query_labels = [], [], []
        for i, c in enumerate(chosen):
            rows = rng.permutation(index[int(c)])
            stop = None if num_query is None else shots + num_query
            support.append(rows[:shots])
            query.append(rows[shots:stop])
            query_labels.append(np.full(len(query[-1]), i))
        yield Episode(classes=chosen, support=np.concatenate(support),
                      support_labels=np.repeat(np.arange(ways), shots),
                      query=np.concatenate(query), query_labels=np.concatenate(query_labels))


def logistic_regression():
    """The protocol's classifier: multinomial lbfgs logistic regression, C = 1."""
    return LogisticRegression(solver="lbfgs", C=1.0, max_iter=1000, random_state=0)


def episode_accuracy(embeddings: np.ndarray, episode: Episode, make_classifier=None) -> float:
    """Fits a classifier on the episode's support set; its accuracy on the query set."""
    classifier = (make_classifier or logistic_regression)()
    classifier.fit(embeddings[episode.support], episode.support_labels)  # [W*K, D]
    return float(np.mean(classifier.predict(embeddings[episode.query]) == episode.query_labels))


def evaluate_embeddings(embeddings: np.ndarray, labels, ways: int, shots: int,
                        episodes: int, num_query: int | None = None, seed: int = 0,
                        make_classifier=None, progress: bool = False) -> dict:
    """Few-shot accuracy over ``episodes`` episodes of an embedding matrix.

    Args:
      embeddings: ``[n, D]`` (already normalised, see :func:`compute_embeddings`).
      labels: ``[n]`` integer classes.
      ways, shots, episodes, num_query, seed: see :func:`sample_episodes`.
      make_classifier: zero-argument factory of an sklearn classifier
        (default :func:`logistic_regression`).
      progress: show a tqdm bar over episodes.

    Returns:
      dict: ``accuracy`` (mean), ``ci95``, ``std``, ``episodes``, ``ways``, ``shots``,
      ``query_per_class`` (the requested number, or the mean when all remaining
      examples are used), ``seed`` and ``seconds`` (classification time).
    """
    embeddings = np.asarray(embeddings, np.float32)
    labels = np.asarray(labels)
    if len(embeddings) != len(labels):
        raise ValueError(f"{len(embeddings)} embeddings but {len(labels)} labels")
    start = time.time()
    accuracies, queries = [], 0
    sampler = sample_episodes(labels, ways, shots, episodes, num_query, seed)
    for episode in tqdm.tqdm(sampler, total=episodes, desc=f"{ways}w{shots}s",
                             unit="episode", disable=not progress):
        accuracies.append(episode_accuracy(embeddings, episode, make_classifier))
        queries += len(episode.query)
    per_class = queries / (episodes * ways)
    return {
        "accuracy": float(np.mean(accuracies)),
        "ci95": ci95(accuracies),
        "std": float(np.std(accuracies)),
        "episodes": int(episodes),
        "ways": int(ways),
        "shots": int(shots),
        "query_per_class": int(per_class) if per_class == int(per_class) else per_class,
        "seed": int(seed),
        "seconds": time.time() - start,
    }


def evaluate(embed_fn: EmbedFn, images: np.ndarray, labels, ways: int, shots: int,
             episodes: int, num_query: int | None = None, seed: int = 0,
             batch_size: int = 256, progress: bool = True) -> dict:
    """Embeds ``images`` once with ``embed_fn``, then :func:`evaluate_embeddings`.

    Example:
      >>> images = np.repeat(np.arange(6, dtype=np.uint8), 4)[:, None, None, None]
      >>> labels = np.repeat(np.arange(6), 4)
      >>> embed = lambda x: np.eye(6)[x[:, 0, 0, 0]]  # A perfect embedding.
      >>> evaluate(embed, images, labels, 3, 1, episodes=5, progress=False)["accuracy"]
      1.0
    """
    t0 = time.time()
    embeddings = compute_embeddings(embed_fn, images, batch_size, progress=progress)
    result = evaluate_embeddings(embeddings, labels, ways, shots, episodes, num_query, seed,
                                 progress=progress)
    result["embed_seconds"] = time.time() - t0 - result["seconds"]
    return result

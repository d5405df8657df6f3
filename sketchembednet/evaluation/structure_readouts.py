"""The numbers of the emergent-structure experiments: embeddings, readouts, arithmetic.

Composites (:mod:`~.structure_sets`) are embedded with the model (the encoder mean
``mu``, :func:`embed_images`), projected to 2-D (:func:`project_2d`: UMAP, or PCA
for quick looks) and read out with linear models:

* :func:`classification_readout`: logistic regression for the categorical labels
  (100 train / 200 test composites, ``CATEGORICAL_SPLIT``), the few-shot
  protocol's ``LogisticRegression(lbfgs, C=1)`` (``fewshot.logistic_regression``);
* :func:`regression_readout`: ridge regression for the continuous variables
  (100 train / 2000 test, ``CONTINUOUS_SPLIT``), its penalty chosen on the
  training split by leave-one-out (``RidgeCV``), so that embeddings and pixels, of
  very different dimension, each get a suitable penalty. The original also used an
  ``MLPRegressor``; it is not run here.

Both run on L2-normalised ``mu``, and on raw pixels (:func:`pixel_features`) as a
reference. Embedding arithmetic works on class-mean embeddings
(:func:`class_mean_embeddings`): ``z = mean(a) - mean(b) + mean(c)``
(:func:`arithmetic`) is compared by cosine with the classes' means
(:func:`nearest_classes`) and drawn by the model's sampler (:func:`decode`).

Example:
  >>> x = np.array([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 0.9]] * 5)
  >>> classification_readout(x, ["a", "a", "b", "b"] * 5, 8, 12)["accuracy"]
  1.0
"""

from __future__ import annotations

import warnings
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import tensorflow as tf
from absl import logging
from tqdm.auto import tqdm

from sketchembednet.evaluation import fewshot
from sketchembednet.evaluation.structure_composites import render_drawings

# Composites per set: categorical 100 train + 200 test, continuous 100 + 2000 (notes).
CATEGORICAL_SPLIT = (100, 200)
CONTINUOUS_SPLIT = (100, 2000)


def model_image_shape(model, default=(28, 28, 1)) -> tuple:
    """``(S, S, C)`` the model was built for (its encoder's input), else ``default``.

    Reads Keras' record of the build shape, or an ``image_shape`` attribute (ConvVAE).

    Example:
      >>> model_image_shape(object(), default=(32, 32, 3))
      (32, 32, 3)
    """
    for obj in (getattr(model, "encoder", None), model):
        build = getattr(obj, "get_build_config", None)  # Keras: the shape built with.
        shape = ((build() if callable(build) else None) or {}).get("input_shape")
        if shape and isinstance(shape[0], (tuple, list)):
            shape = shape[0]  # (images, strokes) of SketchEmbedNet
        if shape and len(shape) == 4 and all(v is not None for v in shape[1:]):
            return tuple(int(v) for v in shape[1:])
    if getattr(model, "image_shape", None):
        return tuple(int(v) for v in model.image_shape)
    logging.info("model is not built: using image shape %s", default)
    return tuple(default)


def embed_images(model, images: np.ndarray, batch_size: int = 256,
                 progress: bool = False) -> np.ndarray:
    """``model.embed`` (the encoder mean mu) of uint8 images, as float32 ``[n, D]``.

    Example:
      >>> embed_images(model, images).shape  # doctest: +SKIP
      (300, 256)
    """
    parts = []
    starts = range(0, len(images), batch_size)
    for start in tqdm(starts, desc="embed", disable=not progress, leave=False):
        batch = tf.constant(images[start : start + batch_size], tf.float32)
        parts.append(np.asarray(model.embed(batch), np.float32))
    return np.concatenate(parts)


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Ink intensities ``1 - image / 255`` flattened: ``[n, S * S * C]`` float32.

    Example:
      >>> pixel_features(np.array([[[[255], [0]]]], np.uint8)).tolist()
      [[0.0, 1.0]]
    """
    images = np.asarray(images, np.float32)
    return (1.0 - images / 255.0).reshape(len(images), -1)


def split_sizes(n: int, n_train: int, n_test: int) -> tuple[int, int]:
    """``(n_train, n_test)``, scaled down proportionally when ``n < n_train + n_test``.

    Example:
      >>> split_sizes(3000, 100, 200), split_sizes(30, 100, 200)
      ((100, 200), (10, 20))
    """
    if n >= n_train + n_test:
        return n_train, n_test
    train = min(max(int(round(n * n_train / (n_train + n_test))), 2), n - 1)
    return train, n - train


def classification_readout(features: np.ndarray, labels: Sequence, n_train: int = 100,
                           n_test: int = 200, seed: int = 0, normalize: bool = True) -> dict:
    """Test accuracy of logistic regression (``fewshot.logistic_regression``).

    The split is stratified and seeded; sizes are scaled down when there are
    fewer than ``n_train + n_test`` examples (:func:`split_sizes`).

    Returns:
      dict: ``accuracy``, ``chance`` (majority share of the test labels),
      ``n_train``, ``n_test``.

    Example:
      >>> labels = np.repeat(["a", "b"], 30)
      >>> x = np.where(labels[:, None] == "a", [1., 0.], [0., 1.])
      >>> classification_readout(x, labels, 20, 40)["accuracy"]
      1.0
    """
    from sklearn.model_selection import train_test_split

    features, labels = np.asarray(features, np.float32), np.asarray(labels)
    if normalize:
        features = fewshot.l2_normalize(features)
    k_train, k_test = split_sizes(len(labels), n_train, n_test)
    idx = np.arange(len(labels))
    train, rest = train_test_split(idx, train_size=k_train, random_state=seed, stratify=labels)
    test = rest[:k_test]
    classifier = fewshot.logistic_regression().fit(features[train], labels[train])
    _, counts = np.unique(labels[test], return_counts=True)
    return dict(accuracy=float(np.mean(classifier.predict(features[test]) == labels[test])),
                chance=float(counts.max() / len(test)), n_train=int(k_train), n_test=int(len(test)))


def make_regressor():
    """Ridge regression with its penalty chosen by leave-one-out on the training split.

    Example:
      >>> make_regressor().alphas.shape
      (15,)
    """
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.logspace(-4, 3, 15))


def regression_readout(features: np.ndarray, targets: Mapping[str, Sequence], n_train: int = 100,
                       n_test: int = 2000, seed: int = 0, normalize: bool = True,
                       make_model: Callable | None = None) -> dict:
    """Test R^2 of ridge regression of each target (one model per target).

    A target pair ``<name>_cos`` / ``<name>_sin`` (a circular variable) also gets
    ``<name>``: the mean of their two R^2.

    Returns:
      dict: ``r2`` (``{target: R^2}``), ``n_train``, ``n_test``.

    Example:
      >>> x = np.random.default_rng(0).normal(size=(300, 5))
      >>> out = regression_readout(x, {"t": x @ np.arange(5.)}, 100, 200, normalize=False)
      >>> round(out["r2"]["t"], 3)
      1.0
    """
    from sklearn.metrics import r2_score

    features = np.asarray(features, np.float32)
    if normalize:
        features = fewshot.l2_normalize(features)
    k_train, k_test = split_sizes(len(features), n_train, n_test)
    order = np.random.default_rng(seed).permutation(len(features))
    train, test = order[:k_train], order[k_train : k_train + k_test]
    r2 = {}
    for name, values in targets.items():
        y = np.asarray(values, np.float64)
        model = (make_model or make_regressor)().fit(features[train], y[train])
        r2[name] = float(r2_score(y[test], model.predict(features[test])))
    for name in list(r2):
        if name.endswith("_cos") and name[:-4] + "_sin" in r2:
            r2[name[:-4]] = (r2[name] + r2[name[:-4] + "_sin"]) / 2.0
    return dict(r2=r2, n_train=int(k_train), n_test=int(len(test)))


def project_2d(features: np.ndarray, seed: int = 0, method: str = "umap") -> np.ndarray:
    """2-D projection ``[n, 2]`` of L2-normalised features.

    ``umap``: ``umap.UMAP`` defaults with ``random_state=seed`` (deterministic; the
    first call in a process JIT-compiles for ~30 s); ``n_neighbors`` is lowered to
    ``n - 1`` for fewer than 16 points. ``pca``: the top two principal components
    (fast; for tests and quick looks).

    Example:
      >>> project_2d(np.eye(4), method="pca").shape
      (4, 2)
    """
    x = fewshot.l2_normalize(np.asarray(features, np.float32))
    if method == "pca":
        centred = x - x.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        return (centred @ vt[:2].T).astype(np.float32)
    if method != "umap":
        raise ValueError(f"unknown projection {method!r}; choose 'umap' or 'pca'")
    import umap

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # random_state => 1 job
        reducer = umap.UMAP(random_state=seed, n_neighbors=min(15, len(x) - 1))
        return np.asarray(reducer.fit_transform(x), np.float32)


def class_mean_embeddings(model, drawings_by_class: Mapping, classes: Iterable[str],
                          image_shape=(28, 28, 1), per_class: int = 10,
                          progress: bool = False) -> dict[str, np.ndarray]:
    """Mean ``mu`` ``[D]`` of the first ``per_class`` drawings of each class.

    Example:
      >>> means = class_mean_embeddings(model, drawings, ["cat", "dog"])  # doctest: +SKIP
      >>> means["cat"].shape  # doctest: +SKIP
      (256,)
    """
    classes = list(classes)
    drawings, owners = [], []
    for name in classes:
        chosen = list(drawings_by_class[name][:per_class])
        drawings += chosen
        owners += [name] * len(chosen)
    mu = embed_images(model, render_drawings(drawings, image_shape, progress=progress),
                      progress=progress)
    owners = np.asarray(owners)
    return {name: mu[owners == name].mean(axis=0) for name in classes}


def arithmetic(means: Mapping[str, np.ndarray], a: str, b: str, c: str) -> np.ndarray:
    """``means[a] - means[b] + means[c]``.

    Example:
      >>> arithmetic({"a": np.array([1., 1]), "b": np.array([1., 0]), "c": np.array([0., 2])},
      ...            "a", "b", "c").tolist()
      [0.0, 3.0]
    """
    return np.asarray(means[a]) - np.asarray(means[b]) + np.asarray(means[c])


def nearest_classes(z: np.ndarray, means: Mapping[str, np.ndarray], k: int = 5,
                    exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
    """The ``k`` classes whose mean embedding has the highest cosine with ``z``.

    Example:
      >>> nearest_classes(np.array([1., 0.1]), {"x": np.array([2., 0]), "y": np.array([0., 1])}, 1)
      [('x', 0.995)]
    """
    exclude = set(exclude)
    names = [n for n in means if n not in exclude]
    if not names:
        return []
    matrix = fewshot.l2_normalize(np.stack([means[n] for n in names]).astype(np.float64))
    cos = matrix @ (np.asarray(z, np.float64) / max(np.linalg.norm(z), 1e-12))
    order = np.argsort(-cos, kind="stable")[:k]
    return [(names[i], round(float(cos[i]), 4)) for i in order]


def decode(model, z: np.ndarray, temperature: float = 0.1, greedy: bool = False,
           seed: int = 0) -> list[np.ndarray]:
    """Stroke-5 sketches ``[T + 1, 5]`` drawn by ``model.sample`` from embeddings ``[n, D]``.

    Example:
      >>> sketches = decode(model, np.stack([z]), greedy=True)  # doctest: +SKIP
    """
    stroke5, _ = model.sample(tf.constant(np.asarray(z, np.float32)), temperature=temperature,
                              greedy=greedy, seed=seed)
    return list(np.asarray(stroke5))

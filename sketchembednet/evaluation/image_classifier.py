"""A small CNN image classifier: trained on real images, it scores generated sketches.

The recognisability experiment (``generation_readouts.recognisability``, the
paper's Table 5 protocol) needs a classifier of REAL images of a class set:
:func:`train_image_classifier` trains one (3 conv layers, deterministic given
its ``seed``: seeded initializers, dropout and shuffling, nothing global) and
:func:`classify` gives its predicted class indices.

Example:
  >>> from sketchembednet.evaluation.datasets import LabelledImages
  >>> data = LabelledImages(np.full([4, 8, 8, 1], 255, np.uint8), [0, 1, 0, 1])
  >>> classify(train_image_classifier(data, epochs=1), data.images).shape
  (4,)
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
import tqdm
from absl import logging

from sketchembednet.evaluation.seeding import derive_seed


def _layers(image_shape, num_classes: int, seed: int) -> list:
    """The classifier's layers, every initializer and the dropout seeded from ``seed``."""
    init = [keras.initializers.GlorotUniform(seed=derive_seed(seed, "init", i)) for i in range(5)]
    conv = dict(padding="same", activation="relu")
    return [
        keras.Input(image_shape),
        keras.layers.Rescaling(-1.0 / 255.0, offset=1.0),  # ink 1, background 0
        keras.layers.Conv2D(32, 3, kernel_initializer=init[0], **conv),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, kernel_initializer=init[1], **conv),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, kernel_initializer=init[2], **conv),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu", kernel_initializer=init[3]),
        keras.layers.Dropout(0.3, seed=derive_seed(seed, "dropout")),
        keras.layers.Dense(num_classes, kernel_initializer=init[4]),
    ]


def train_image_classifier(train, *, epochs: int = 4, batch_size: int = 128,
                           learning_rate: float = 2e-3, seed: int = 0,
                           progress: bool = False) -> keras.Model:
    """A small CNN (3 conv layers) trained on real images; deterministic given ``seed``.

    Output ``k`` of the classifier (logits) is the class ``np.unique(train.labels)[k]``.
    Its input is uint8-valued ``[n, S, S, C]`` (as float), white background.
    About 15 s for 10k 28x28 images on 2 CPU cores with the defaults.

    Args:
      train: a ``LabelledImages`` of real images.

    Example:
      >>> from sketchembednet.evaluation.datasets import LabelledImages
      >>> data = LabelledImages(np.full([4, 8, 8, 1], 255, np.uint8), [0, 1, 0, 1])
      >>> train_image_classifier(data, epochs=1).output_shape
      (None, 2)
    """
    classes = np.unique(train.labels)
    y = np.searchsorted(classes, train.labels)  # [n] in 0..C-1
    x = train.images.astype(np.float32)  # [n, S, S, C]
    classifier = keras.Sequential(_layers(train.image_shape, len(classes), seed),
                                  name="image_classifier")
    classifier.compile(keras.optimizers.Adam(learning_rate),
                       keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
    rng = np.random.default_rng(derive_seed(seed, "shuffle"))
    for _ in tqdm.tqdm(range(epochs), desc="classifier", unit="epoch", disable=not progress):
        order = rng.permutation(len(y))
        history = classifier.fit(x[order], y[order], batch_size=batch_size, epochs=1,
                                 shuffle=False, verbose=0)
    if epochs:
        logging.info("classifier: %d classes, %d images, train accuracy %.3f", len(classes),
                     len(y), history.history["accuracy"][-1])
    return classifier


def classify(classifier, images, batch_size: int = 512, progress: bool = False) -> np.ndarray:
    """Output indices (argmax) of a classifier for uint8 images ``[n, S, S, C]``: ``[n]`` int64.

    Example:
      >>> net = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten()])
      >>> classify(net, np.array([[[[0], [9]], [[1], [2]]]], np.uint8)).tolist()
      [1]
    """
    out = [np.zeros([0], np.int64)]
    starts = range(0, len(images), batch_size)
    for start in tqdm.tqdm(starts, desc="classify", unit="batch", disable=not progress):
        logits = classifier(tf.cast(images[start : start + batch_size], tf.float32),
                            training=False)  # [b, C]
        out.append(np.argmax(np.asarray(logits), axis=-1).astype(np.int64))
    return np.concatenate(out)

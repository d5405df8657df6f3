"""Recognisability of generated sketches (the paper's Table 5 protocol, CPU-sized).

A classifier trained on REAL images of a class set
(``image_classifier.train_image_classifier``) scores the model's samples of
held-out test images, rendered like the real ones. :func:`recognisability`
reports its accuracy on them beside its accuracy on the real test images (the
ceiling), on the samples a random-weight copy of the model draws from the same
test images (the floor; ``generation_samples.random_weight_copy``) and on a
blank canvas.

Example:
  >>> accuracies(np.array([0, 1, 1]), np.array([0, 1, 0]), [0, 1])["balanced_accuracy"]
  0.75
"""

from __future__ import annotations

import numpy as np

from sketchembednet.evaluation.datasets import LabelledImages
from sketchembednet.evaluation.generation_plots import save_pairs
from sketchembednet.evaluation.generation_samples import (BATCH_SIZE, GRID_TEMPERATURE, generate,
                                                          random_weight_copy, render_samples)
from sketchembednet.evaluation.generation_sets import class_name, pick_examples
from sketchembednet.evaluation.image_classifier import classify, train_image_classifier
from sketchembednet.evaluation.seeding import derive_seed


def accuracies(predicted, truth, classes) -> dict:
    """Accuracy and class-balanced accuracy (mean of per-class recalls).

    Example:
      >>> accuracies(np.array([0, 0]), np.array([0, 1]), [0, 1])["per_class"]
      [1.0, 0.0]
    """
    correct = predicted == truth
    per_class = [float(np.mean(correct[truth == c])) for c in classes]
    return {"accuracy": float(np.mean(correct)), "balanced_accuracy": float(np.mean(per_class)),
            "per_class": per_class}


def _examples_figure(path, real_train, real_test, classes, truth, rendered, predicted,
                     result, seed) -> dict:
    """Up to 30 test images beside their rendered samples, titled with the classifier's guess."""
    pick = pick_examples(truth, min(30, len(truth)), derive_seed(seed, "examples"))
    name = [class_name(real_train, int(classes[k])) for k in range(len(classes))]
    return save_pairs(
        path, real_test.images[pick], rendered[pick],
        [f"true: {name[truth[i]]}" for i in pick], [name[predicted[i]] for i in pick],
        f"{real_test.name}: test image (left), its rendered sample (right) titled with the "
        f"classifier's guess (green: right); sample accuracy "
        f"{result['samples']['accuracy']:.3f}, real {result['real']['accuracy']:.3f}",
        right_colors=["green" if predicted[i] == truth[i] else "red" for i in pick])


def _sample_predictions(model, classifier, images, *, temperature, seed, batch_size, progress,
                        desc="sample"):
    """The model's samples of ``images``, rendered at their size, and the classifier's classes.

    Returns ``(rendered uint8 [n, S, S, C], predicted [n], sample lengths [n])``.
    """
    s5, lengths = generate(model, images, temperature=temperature, seed=seed,
                           batch_size=batch_size, progress=progress, desc=desc)
    size, channels = images.shape[1], images.shape[-1]
    rendered = render_samples(s5, size, channels, progress=progress)  # [n, S, S, C]
    return rendered, classify(classifier, rendered, progress=progress), lengths


def _blank_canvas(classifier, real_train, classes, truth, test_classes, size, channels) -> dict:
    """What a blank canvas scores: the share of the class it is taken for."""
    blank = classify(classifier, np.full([1, size, size, channels], 255, np.uint8))[0]
    out = accuracies(np.full_like(truth, blank), truth, test_classes)
    out["predicted"] = class_name(real_train, int(classes[blank]))
    return out


def recognisability(model, classifier, real_train: LabelledImages, real_test: LabelledImages,
                    *, reference_model=None, temperature: float = GRID_TEMPERATURE,
                    seed: int = 0, batch_size: int = BATCH_SIZE, examples_path=None,
                    progress: bool = False) -> dict:
    """How often a classifier of REAL images recognises the model's samples (Table 5 protocol).

    Samples are drawn only from ``real_test`` images (one each), rendered at
    their size, and scored against their labels. References: the real test
    images (the ceiling), the samples of ``reference_model`` from the same
    images (default: ``random_weight_copy`` of ``model``: what an untrained
    drawer scores) and a blank canvas (the share of the class it is taken for).

    Args:
      model: the SketchEmbedNet.
      classifier: trained on ``real_train`` (output k = ``np.unique(real_train.labels)[k]``,
        as ``train_image_classifier``), or None to train one here.
      real_train, real_test: disjoint real images of the same classes.
      examples_path: optional PNG of up to 30 test images beside their rendered
        samples and the class the classifier gives them.

    Returns:
      ``{"classes", "train_images", "test_images", "real", "samples", "reference",
      "blank_canvas", ...}``: accuracies in [0, 1] (each with a balanced accuracy).

    Raises:
      ValueError: if a test class is not among the training classes.

    Example:
      >>> result = recognisability(model, None, train, test, seed=0)  # doctest: +SKIP
      >>> result["samples"]["accuracy"], result["real"]["accuracy"]  # doctest: +SKIP
      (0.41, 0.9)
    """
    classes = np.unique(real_train.labels)
    missing = np.setdiff1d(real_test.labels, classes)
    if missing.size:
        raise ValueError(f"test classes {missing[:10].tolist()} are not among the classifier's")
    if classifier is None:
        classifier = train_image_classifier(real_train, seed=seed, progress=progress)
    truth = np.searchsorted(classes, real_test.labels)  # [n]
    test_classes = np.unique(truth)
    size, channels = real_test.images.shape[1], real_test.images.shape[-1]
    result = {"classes": int(len(test_classes)), "train_images": int(len(real_train.labels)),
              "test_images": int(len(truth)), "temperature": float(temperature),
              "seed": int(seed)}
    result["real"] = accuracies(classify(classifier, real_test.images, progress=progress),
                                truth, test_classes)
    sampling = dict(temperature=temperature, seed=seed, batch_size=batch_size, progress=progress)
    rendered, sample_pred, lengths = _sample_predictions(model, classifier, real_test.images,
                                                         **sampling)
    result["samples"] = accuracies(sample_pred, truth, test_classes)
    result["samples"].update(mean_length=float(np.mean(lengths)),
                             empty=int(np.sum(lengths == 0)))
    if reference_model is None:
        reference_model = random_weight_copy(model, real_test.image_shape, seed)
    _, ref_pred, _ = _sample_predictions(reference_model, classifier, real_test.images,
                                         desc="reference", **sampling)
    result["reference"] = accuracies(ref_pred, truth, test_classes)
    result["reference"]["what"] = "samples of a random-weight copy of the model, same test images"
    result["blank_canvas"] = _blank_canvas(classifier, real_train, classes, truth, test_classes,
                                           size, channels)
    result["class_names"] = [class_name(real_train, int(classes[c])) for c in test_classes]
    if examples_path is not None:
        result["examples"] = _examples_figure(examples_path, real_train, real_test, classes,
                                              truth, rendered, sample_pred, result, seed)
    return result

"""Generation quality: sample grids, one-shot generation, recognisability of samples.

The experiments of SketchEmbedNet's generation section (Wang et al., ICML 2021,
Sec. 6 and Table 5), scaled down to a CPU:

* :func:`sample_grid`: input images beside the sketches the model draws from
  their embeddings (``samples_<set>.png``);
* :func:`one_shot_grid`: ONE example of each of a few classes and K samples
  drawn from its embedding at a higher temperature (``one_shot_<set>.png``);
* recognisability (``generation_readouts.recognisability``): a classifier
  trained on REAL images of a class set (``image_classifier``) scores the
  model's samples of held-out test images, beside the real images (ceiling),
  an untrained copy's samples (floor) and a blank canvas.

:func:`run` does all three and returns a JSON-able dict. The parts live in
``generation_sets`` (images, examples, splits), ``generation_samples`` (sampling
and rendering), ``generation_plots`` (figures), ``image_classifier`` and
``generation_readouts`` (the numbers). Every random choice derives from
``seed`` (>= 0, ``seeding.derive_seed``); nothing global is seeded.

Example:
  >>> slug("Omniglot (unseen)")
  'omniglot_unseen'
  >>> result = run(model, {"Omniglot (unseen dataset)": omniglot}, "out")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re

import numpy as np

from sketchembednet.evaluation import generation_readouts
from sketchembednet.evaluation.datasets import LabelledImages
from sketchembednet.evaluation.generation_plots import plot_one_shot, save_pairs
from sketchembednet.evaluation.generation_samples import (GRID_TEMPERATURE,
                                                          ONE_SHOT_TEMPERATURE, generate)
from sketchembednet.evaluation.generation_sets import (class_name, pick_examples,
                                                       split_per_class, subset)
from sketchembednet.evaluation.image_classifier import train_image_classifier
from sketchembednet.evaluation.seeding import derive_seed


def slug(name: str) -> str:
    """File-name part of a set name: ``"Omniglot (unseen)"`` -> ``omniglot_unseen``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "set"


def sample_grid(model, data: LabelledImages, path, *, n: int = 24, columns: int = 6,
                temperature: float = GRID_TEMPERATURE, seed: int = 0, title: str = "",
                progress: bool = False) -> dict:
    """Saves ``n`` inputs (seeded, spread over classes) beside one sample each.

    Returns:
      The layout of ``generation_plots.save_pairs`` plus ``indices`` (into ``data``)
      and ``mean_length`` (stroke-3 rows of the samples).

    Example:
      >>> layout = sample_grid(model, omniglot, "samples_omniglot.png")  # doctest: +SKIP
    """
    indices = pick_examples(data.labels, min(n, len(data.labels)), derive_seed(seed, "grid"))
    images = data.images[indices]
    s5, lengths = generate(model, images, temperature=temperature,
                           seed=derive_seed(seed, "sample"), progress=progress, desc="grid")
    names = [class_name(data, int(label)) for label in data.labels[indices]]
    layout = save_pairs(path, images, s5, names, ["sample"] * len(indices),
                        f"{title or data.name}: input (left) and sample (right), "
                        f"temperature {temperature:g}, seed {seed}", columns)
    return dict(layout, indices=indices.tolist(), mean_length=float(np.mean(lengths)))


def one_shot_grid(model, data: LabelledImages, path, *, num_classes: int = 6, samples: int = 8,
                  temperature: float = ONE_SHOT_TEMPERATURE, seed: int = 0, title: str = "",
                  progress: bool = False) -> dict:
    """Saves one row per class: ONE example image, then ``samples`` sketches of its embedding.

    Returns:
      ``{"file", "panels", "rows", "columns", "indices"}``: ``rows`` classes,
      ``columns = samples + 1``, the examples' indices into ``data``.

    Example:
      >>> layout = one_shot_grid(model, omniglot, "one_shot_omniglot.png")  # doctest: +SKIP
    """
    indices = pick_examples(data.labels, min(num_classes, data.num_classes),
                            derive_seed(seed, "one"))
    repeated = np.repeat(data.images[indices], samples, axis=0)  # [rows * K, S, S, C]
    s5, _ = generate(model, repeated, temperature=temperature, seed=derive_seed(seed, "sample"),
                     progress=progress, desc="one-shot")
    names = [class_name(data, int(data.labels[index])) for index in indices]
    layout = plot_one_shot(path, data.images[indices], names, s5,
                           f"One-shot generation, {title or data.name}: one example, {samples} "
                           f"samples at temperature {temperature:g} (seed {seed})")
    return dict(layout, rows=len(indices), columns=samples + 1, indices=indices.tolist())


def run_recognisability(model, data: LabelledImages, out_dir, *, seed: int, temperature: float,
                        test_fraction: float, classifier_epochs: int, reference_model,
                        progress: bool) -> dict:
    """Splits ``data`` per class, trains the classifier on one part and scores the samples of
    the other (``generation_readouts.recognisability``); writes ``recognisability_examples.png``.

    Example:
      >>> rec = run_recognisability(model, data, "out", seed=0, temperature=0.1,  # doctest: +SKIP
      ...                           test_fraction=0.1, classifier_epochs=4,
      ...                           reference_model=None, progress=False)
    """
    train_idx, test_idx = split_per_class(data.labels, test_fraction, derive_seed(seed, "split"))
    train = subset(data, train_idx, f"{data.name} (classifier train)")
    test = subset(data, test_idx, f"{data.name} (test)")
    classifier = train_image_classifier(train, epochs=classifier_epochs, seed=seed,
                                        progress=progress)
    rec = generation_readouts.recognisability(
        model, classifier, train, test, reference_model=reference_model,
        temperature=temperature, seed=seed,
        examples_path=os.path.join(out_dir, "recognisability_examples.png"),
        progress=progress)
    return dict(rec, data=data.name, test_fraction=test_fraction)


def run(model, sets: dict, out_dir, *, recognisability: LabelledImages | None = None,
        seed: int = 0, temperature: float = GRID_TEMPERATURE,
        one_shot_temperature: float = ONE_SHOT_TEMPERATURE, grid_size: int = 24,
        one_shot_classes: int = 6, one_shot_samples: int = 8, test_fraction: float = 0.1,
        classifier_epochs: int = 4, reference_model=None, progress: bool = True) -> dict:
    """All generation experiments; PNGs go to ``out_dir``, the numbers are returned.

    Args:
      model: a trained SketchEmbedNet.
      sets: ``{display name: LabelledImages}``, e.g. ``{"unseen classes": ...}``;
        each gets ``samples_<name>.png`` and ``one_shot_<name>.png``.
      out_dir: folder for the PNGs (created).
      recognisability: real images of a class set: split per class (seeded,
        ``test_fraction``), a classifier is trained on one part and scores the
        samples of the other (``recognisability_examples.png``); None skips it.
      temperature: of the grids and the recognisability samples.
      reference_model: the floor of the recognisability (default: a
        random-weight copy of ``model``).

    Returns:
      JSON-able ``{"seed", "temperature", "one_shot_temperature", "sets":
      {name: {"images", "classes", "grid", "one_shot"}}, "recognisability",
      "files"}`` (file names relative to ``out_dir``).

    Example:
      >>> result = run(model, {"Omniglot (unseen dataset)": omniglot}, "out")  # doctest: +SKIP
    """
    os.makedirs(out_dir, exist_ok=True)
    result = {"seed": int(seed), "temperature": float(temperature),
              "one_shot_temperature": float(one_shot_temperature), "sets": {}, "files": []}
    for name, data in sets.items():
        grid = sample_grid(model, data, os.path.join(out_dir, f"samples_{slug(name)}.png"),
                           n=grid_size, temperature=temperature, seed=seed,
                           title=name, progress=progress)
        one = one_shot_grid(model, data, os.path.join(out_dir, f"one_shot_{slug(name)}.png"),
                            num_classes=one_shot_classes, samples=one_shot_samples,
                            temperature=one_shot_temperature, seed=seed,
                            title=name, progress=progress)
        result["sets"][name] = {"images": int(len(data.labels)), "classes": data.num_classes,
                                "grid": grid, "one_shot": one}
        result["files"] += [grid["file"], one["file"]]
    result["recognisability"] = None
    if recognisability is not None:
        result["recognisability"] = run_recognisability(
            model, recognisability, out_dir, seed=seed, temperature=temperature,
            test_fraction=test_fraction, classifier_epochs=classifier_epochs,
            reference_model=reference_model, progress=progress)
        result["files"].append(result["recognisability"]["examples"]["file"])
    return result

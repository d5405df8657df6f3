"""Objectives of a trial: the few-shot validation set and the :class:`Evaluator`.

``fewshot`` evaluates on a validation set no trial trains on (by default one half of
the Omniglot background classes, :func:`omniglot_half`); ``val_pixel`` is the mean
pixel-loss term on the config's eval split.
"""

from __future__ import annotations

import os

import numpy as np

from sketchembednet.configs import checks
from sketchembednet.evaluation import fewshot
from sketchembednet.tuning.options import OMNIGLOT_HALF
from sketchembednet.tuning.options import SearchOptions

# The halves of the Omniglot background classes are an evaluation rule, re-exported here.
VAL_SPLIT_SEED = fewshot.HALF_SEED
half_classes = fewshot.half_classes


def omniglot_half(npz_path, half: int = 0, image_size: int = 28, seed: int = VAL_SPLIT_SEED):
    """Half of the Omniglot background classes, by a seeded permutation of the classes.

    ``half=0`` is the first ``ceil(C / 2)`` classes of
    ``np.random.default_rng(seed).permutation(C)`` (482 of 964), ``half=1`` the rest;
    all 20 drawings of a class go to the same half. The search tunes on one half
    (``--val_half``, default 0); report a tuned model on the other one. The pages are
    framed by the input preprocessor (``fit_ink``), as the exported encoder frames them.

    Returns:
      ``datasets.LabelledImages`` with the original class labels (npz rows).

    Example:
      >>> data = omniglot_half("images_background.npz", half=1)  # doctest: +SKIP
      >>> data.num_classes  # doctest: +SKIP
      482
    """
    from sketchembednet.evaluation import datasets

    if half not in (0, 1):
        raise ValueError(f"half must be 0 or 1, got {half}")
    data = datasets.omniglot_background(npz_path, image_size)
    keep = np.isin(data.labels, half_classes(np.unique(data.labels), half, seed))
    return datasets.LabelledImages(data.images[keep], data.labels[keep],
                                   name=f"omniglot_background half {half} (seed {seed})")


def load_validation(options: SearchOptions, image_shape: tuple):
    """The few-shot validation set of the options, at the model's image shape.

    Raises:
      ValueError: if its images cannot match ``image_shape`` or it has too few
        classes for ``--ways``-way ``--shots``-shot episodes.
    """
    from sketchembednet.evaluation import datasets

    size, channels = int(image_shape[0]), int(image_shape[-1])
    if options.val_dataset == OMNIGLOT_HALF:
        if channels != 1:
            raise ValueError(f"the model takes {channels}-channel images; Omniglot is grayscale")
        data = omniglot_half(options.val_npz_path(), options.val_half, size)
    else:
        data = datasets.load(options.val_dataset, split=options.val_split,
                             data_dir=options.val_data_dir, manual_dir=options.val_manual_dir,
                             data_path=options.val_npz_path(), image_size=size, channels=channels)
    if options.val_max_per_class:
        data = datasets.select_per_class(data, options.shots + 1, options.val_max_per_class,
                                         seed=VAL_SPLIT_SEED)
    if data.image_shape != tuple(image_shape):
        raise ValueError(f"{data.name}: images {data.image_shape}, the model takes {image_shape}")
    next(fewshot.sample_episodes(data.labels, options.ways, options.shots, 1, options.num_query))
    return data


class Evaluator:
    """Computes a trial's objective from its trained workdir.

    Args:
      options: the search options (objective, few-shot settings).
      val_data: the few-shot validation set (``LabelledImages``), for ``fewshot``.
      pixel_split: the split of ``val_pixel`` (default: the config's eval split).
    """

    def __init__(self, options: SearchOptions, val_data=None, pixel_split: str = ""):
        self.options = options
        self.val_data = val_data
        self.pixel_split = pixel_split

    def __call__(self, workdir: str) -> dict:
        """``{"value": objective, ...details}``."""
        if self.options.objective == "fewshot":
            return self.fewshot(workdir)
        return self.val_pixel(workdir)

    def fewshot(self, workdir: str) -> dict:
        from sketchembednet.evaluation import fewshot
        from sketchembednet.evaluation import loading

        o = self.options
        embed_fn = loading.embed_fn_from_workdir(workdir)
        if embed_fn.image_shape and embed_fn.image_shape != self.val_data.image_shape:
            raise ValueError(f"{self.val_data.name} has images {self.val_data.image_shape}; "
                             f"the model takes {embed_fn.image_shape}")
        embeddings = fewshot.compute_embeddings(embed_fn, self.val_data.images, progress=False)
        result = fewshot.evaluate_embeddings(embeddings, self.val_data.labels, o.ways, o.shots,
                                             o.episodes, o.num_query, o.fewshot_seed,
                                             progress=o.progress)
        return {"value": result["accuracy"], "ci95": result["ci95"], "fewshot": result,
                "restored": embed_fn.source}

    def val_pixel(self, workdir: str) -> dict:
        import tensorflow as tf

        from sketchembednet.data import pipeline
        from sketchembednet.evaluation import loading

        model, config, source = loading.model_from_workdir(workdir)
        dataset = config["dataset"]
        split = self.pixel_split or dataset["eval_split"]
        ds, _ = pipeline.load(dataset["name"], split, int(dataset["max_len"]),
                              int(config["train"]["batch_size"]), **checks.dataset_source(dataset),
                              drop_remainder=False, cache=False)

        @tf.function(reduce_retracing=True)
        def pixel(images, stroke5):  # [b]
            return model.compute_losses(tf.cast(images, tf.float32), stroke5, alpha=1.0,
                                        training=False, per_example=True)["pixel"]

        total, count = 0.0, 0
        for batch in ds:
            values = pixel(batch["image"], batch["stroke5"]).numpy()
            total += float(values.sum())
            count += len(values)
        if count == 0:
            raise ValueError(f"{dataset['name']}[{split}]: no examples for val_pixel")
        return {"value": total / count, "examples": count, "split": split, "restored": source}


def describe_validation(options: SearchOptions, val_data, config) -> dict:
    """What the objective is computed on, for the summaries: ``text`` (one line) and
    the details (dataset, split or classes; the Omniglot half's class ids).

    Args:
      options: the search options.
      val_data: the few-shot validation set (``LabelledImages``); None for ``val_pixel``.
      config: the training config (its eval split, for ``val_pixel``).

    Example:
      >>> from sketchembednet.configs import demo
      >>> options = SearchOptions(directory="/tmp/t", objective="val_pixel")
      >>> describe_validation(options, None, demo.get_config("tiny"))["text"]
      'mean pixel-loss term (α = 1) on kanjivg[validation[:32]]'
    """
    if options.objective == "val_pixel":
        split = options.pixel_split or config.dataset.eval_split
        return {"objective": "val_pixel", "dataset": config.dataset.name, "split": split,
                "text": f"mean pixel-loss term (α = 1) on {config.dataset.name}[{split}]"}
    out = {"objective": "fewshot", "dataset": options.val_dataset, "name": val_data.name,
           "images": int(len(val_data.labels)), "classes": int(val_data.num_classes),
           "text": (f"{options.ways}-way {options.shots}-shot, {options.episodes} episodes "
                    f"(seed {options.fewshot_seed}) on {val_data.name}: "
                    f"{val_data.num_classes} classes, {len(val_data.labels)} images")}
    if options.val_dataset == OMNIGLOT_HALF:
        out.update(npz=os.path.abspath(options.val_npz_path()), half=options.val_half,
                   split_seed=VAL_SPLIT_SEED,
                   class_ids=[int(c) for c in np.unique(val_data.labels)])
    return out

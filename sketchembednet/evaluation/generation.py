"""Generation quality: sample grids, one-shot generation, recognisability of samples.

The experiments of SketchEmbedNet's generation section (Wang et al., ICML 2021,
Sec. 6 and Table 5), scaled down to a CPU:

* :func:`sample_grid`: input images beside the sketches the model draws from
  their embeddings (``samples_<set>.png``);
* :func:`one_shot_grid`: ONE example of each of a few classes and K samples
  drawn from its embedding at a higher temperature (``one_shot_<set>.png``);
* :func:`recognisability`: a classifier trained on REAL images of a class set
  (:func:`train_image_classifier`) scores the model's samples of held-out test
  images, rendered like the real ones. Reported beside the classifier's
  accuracy on the real test images (the ceiling) and on the samples a
  random-weight copy of the model draws from the same test images (the floor;
  see :func:`random_weight_copy`), and on a blank canvas.

:func:`run` does all three and returns a JSON-able dict. Samples are rendered
by ``sketchembednet.data.rasterize.render_images`` (uint8, white background,
fit to the canvas), the renderer of the model's inputs and of the Quickdraw
images of :func:`quickdraw_images`. Every random choice derives from ``seed``
(>= 0); sampling seeds are per batch, so samples depend on ``batch_size``.

Example:
  >>> labels = np.array([0, 0, 0, 1, 1, 2, 2])
  >>> sorted(labels[pick_examples(labels, 3, seed=0)].tolist())
  [0, 1, 2]
  >>> train, test = split_per_class(labels, test_fraction=0.3, seed=0)
  >>> sorted(labels[test].tolist()), len(train)
  ([0, 1, 2], 4)
"""

from __future__ import annotations

import os
import re
import zlib

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tqdm  # noqa: E402
from absl import logging  # noqa: E402

from sketchembednet import visualize  # noqa: E402
from sketchembednet.data import quickdraw  # noqa: E402
from sketchembednet.data import rasterize  # noqa: E402
from sketchembednet.data import strokes  # noqa: E402
from sketchembednet.data.errors import DataFileError  # noqa: E402
from sketchembednet.evaluation.datasets import LabelledImages  # noqa: E402

GRID_TEMPERATURE = 0.1  # Sample grids and recognisability (the trainer's sample_temperature).
ONE_SHOT_TEMPERATURE = 0.5  # One-shot generation: varied samples of one example.
QUICKDRAW_MAX_LEN = 64  # tfds_builders/quickdraw: drawings longer than this are dropped.
_BATCH = 256


def _seed(seed: int, *tags) -> int:
    """A 31-bit seed derived from ``seed`` and tags (strings hashed with crc32, not hash())."""
    words = [int(seed)] + [zlib.crc32(t.encode()) if isinstance(t, str) else int(t) for t in tags]
    return int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)


def _slug(name: str) -> str:
    """File-name part of a set name: ``"Omniglot (unseen)"`` -> ``omniglot_unseen``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "set"


def _class_name(data: LabelledImages, label: int) -> str:
    names = data.class_names
    return str(names[label]) if names is not None and 0 <= label < len(names) else f"class {label}"


def subset(data: LabelledImages, indices, name: str | None = None) -> LabelledImages:
    """The images of ``data`` at ``indices`` (same class names).

    Example:
      >>> data = LabelledImages(np.zeros([3, 2, 2, 1], np.uint8), [0, 1, 1], ["a", "b"])
      >>> subset(data, [2]).labels.tolist()
      [1]
    """
    indices = np.asarray(indices, np.int64)
    return LabelledImages(data.images[indices], data.labels[indices], data.class_names,
                          name if name is not None else data.name)


def pick_examples(labels, n: int, seed: int = 0) -> np.ndarray:
    """``n`` indices spread over the classes: one of each class (in a seeded order), then again.

    Example:
      >>> pick_examples(np.array([0, 0, 1, 1]), 2, seed=1).shape
      (2,)
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    order = np.argsort(labels, kind="stable")  # indices grouped by class
    classes, starts = np.unique(labels[order], return_index=True)
    pools = np.split(order, starts[1:])  # one array per class
    pools = [rng.permutation(pools[i]) for i in rng.permutation(len(classes))]
    picked = [pool[r] for r in range(max(map(len, pools), default=0)) for pool in pools
              if r < len(pool)]
    return np.asarray(picked[:n], np.int64)


def split_per_class(labels, test_fraction: float = 0.1, seed: int = 0,
                    max_test_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded per-class split into classifier-train and test indices (sorted, disjoint).

    Each class gives ``max(1, round(test_fraction * n_c))`` (at most
    ``max_test_per_class``) random images to the test set and the rest to training.

    Raises:
      ValueError: if a class has fewer than 2 images or the fraction is not in (0, 1).

    Example:
      >>> train, test = split_per_class(np.repeat([0, 1], 10), 0.2, seed=0)
      >>> len(train), len(test), set(train) & set(test)
      (16, 4, set())
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < 2:
            raise ValueError(f"class {c} has {len(idx)} image(s); a train/test split needs 2")
        n_test = min(max(1, int(round(test_fraction * len(idx)))), len(idx) - 1)
        if max_test_per_class is not None:
            n_test = min(n_test, int(max_test_per_class))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def quickdraw_images(files_by_class: dict, image_size: int = 28,
                     max_per_class: int | None = None, splits=None, *,
                     max_len: int = QUICKDRAW_MAX_LEN, check_word: bool = True,
                     min_per_class: int | None = None,
                     progress: bool = False) -> LabelledImages:
    """Quick, Draw! "simplified" ndjson drawings rendered like the TFDS ``image`` feature.

    As ``tfds_builders/quickdraw``: drawings of fewer than 2 points or more than
    ``max_len`` stroke-3 rows are dropped; the rest become stroke-5 of ``max_len``
    rows, rendered by ``rasterize.render_images`` (fit to the canvas, white
    background). Labels are positions in the sorted class names.

    Args:
      files_by_class: ``{class name: ndjson path}`` (e.g. ``{"bicycle": ".../bycicle.ndjson"}``).
      image_size: S.
      max_per_class: keep the first N usable drawings of each file (after filtering).
      splits: keep only drawings whose ``quickdraw.split_of_key(key_id)`` is one
        of these (``"train"``, ``"validation"``, ``"test"``); None keeps all.
      max_len: T of the builder.
      check_word: every drawing's ``word`` must be the class name.
      min_per_class: skip (and log) classes with fewer usable drawings than this,
        instead of raising for a class without any; labels then number the kept
        classes. Raises if no class is kept.
      progress: show a tqdm bar over the class files.

    Raises:
      DataFileError: naming the file (and line) if it is missing, unreadable,
        malformed, of another word, or has no usable drawing.

    Example:
      >>> data = quickdraw_images({"cat": "cat.ndjson"}, splits=["test"])  # doctest: +SKIP
    """
    if splits is not None:
        splits = {splits} if isinstance(splits, str) else set(splits)
        unknown = splits - {s for _, s in quickdraw.HASH_SPLITS}
        if unknown:
            raise ValueError(f"unknown splits {sorted(unknown)}; use train, validation, test")
    names, images, labels, skipped = [], [], [], []
    for name in tqdm.tqdm(sorted(files_by_class), desc="quickdraw", unit="class",
                          disable=not progress):
        path = files_by_class[name]
        kept = _read_quickdraw_class(path, name if check_word else None, splits, max_len,
                                     max_per_class, allow_empty=min_per_class is not None)
        if min_per_class is not None and len(kept) < min_per_class:
            skipped.append(name)
            continue
        label = len(names)
        names.append(name)
        for start in range(0, len(kept), _BATCH):
            stroke5 = np.stack([strokes.stroke3_to_stroke5(s3, max_len)
                                for s3 in kept[start : start + _BATCH]])  # [b, T + 1, 5]
            images.append(rasterize.render_images(stroke5, image_size).numpy())  # [b, S, S, 1]
        labels.append(np.full(len(kept), label))
    where = f"splits {sorted(splits)}" if splits else "all splits"
    if skipped:
        logging.info("quickdraw: skipped %d classes with fewer than %d usable drawings in %s",
                     len(skipped), min_per_class, where)
    if not names:
        raise DataFileError(f"no class of {len(files_by_class)} files has {min_per_class} "
                            f"usable drawings in {where}")
    return LabelledImages(np.concatenate(images), np.concatenate(labels), names,
                          name=f"quickdraw ndjson ({len(names)} classes, {where})")


def _read_quickdraw_class(path, word, splits, max_len, max_per_class, allow_empty=False) -> list:
    """The usable stroke-3 drawings of one ndjson file (see :func:`quickdraw_images`)."""
    kept, too_long, degenerate = [], 0, 0
    try:
        for drawing in quickdraw.read_simplified_ndjson(path, word=word):
            if splits is not None and quickdraw.split_of_key(drawing.key_id) not in splits:
                continue
            if drawing.stroke3 is None:
                degenerate += 1
            elif len(drawing.stroke3) > max_len:
                too_long += 1
            else:
                kept.append(drawing.stroke3)
                if max_per_class is not None and len(kept) >= max_per_class:
                    break
    except strokes.StrokeFormatError as e:  # Its message names file:line.
        raise DataFileError(str(e)) from e
    except (OSError, UnicodeDecodeError) as e:
        raise DataFileError(f"{path}: not a readable ndjson file ({type(e).__name__}: {e})") from e
    logging.info("%s: %d drawings kept, %d longer than %d rows and %d degenerate dropped",
                 path, len(kept), too_long, max_len, degenerate)
    if not kept and not allow_empty:
        where = f" in splits {sorted(splits)}" if splits is not None else ""
        raise DataFileError(f"{path}: no usable drawings{where} (dropped {too_long} longer "
                            f"than {max_len} rows, {degenerate} of fewer than 2 points)")
    return kept


def generate(model, images, *, temperature: float = GRID_TEMPERATURE, seed: int = 0,
             greedy: bool = False, max_len: int | None = None, batch_size: int = _BATCH,
             progress: bool = False, desc: str = "sample") -> tuple[np.ndarray, np.ndarray]:
    """Embeds images (``model.embed``) and draws one sketch each (``model.sample``), in batches.

    Args:
      model: a SketchEmbedNet (anything with ``embed(float images)`` and ``sample``).
      images: uint8 ``[n, S, S, C]``, white background.
      temperature, greedy, max_len: see ``sampling.sample`` (max_len None: the model's T).
      seed: batch ``b`` samples with the seed ``_seed(seed, b)``.

    Returns:
      ``(stroke5 float32 [n, T + 1, 5], lengths int32 [n])``.

    Example:
      >>> from sketchembednet.models import presets
      >>> s5, lengths = generate(presets.build_model("tiny"), np.zeros([3, 28, 28, 1], np.uint8),
      ...                        max_len=5)
      >>> s5.shape, lengths.shape
      ((3, 6, 5), (3,))
    """
    if not hasattr(model, "sample"):
        raise TypeError(f"{type(model).__name__} cannot draw: it has no sample() method")
    max_len = int(max_len or model.max_seq_len)
    out, lengths = [np.zeros([0, max_len + 1, 5], np.float32)], [np.zeros([0], np.int32)]
    starts = range(0, len(images), batch_size)
    for b, start in enumerate(tqdm.tqdm(starts, desc=desc, unit="batch", disable=not progress)):
        z = model.embed(tf.cast(images[start : start + batch_size], tf.float32))  # [b, Z]
        s5, n = model.sample(z, max_len=max_len, temperature=temperature, greedy=greedy,
                             seed=_seed(seed, b))  # [b, T + 1, 5], [b]
        out.append(s5.numpy().astype(np.float32))
        lengths.append(n.numpy().astype(np.int32))
    return np.concatenate(out), np.concatenate(lengths)


def render_samples(stroke5, image_size: int, channels: int = 1, batch_size: int = _BATCH,
                   progress: bool = False) -> np.ndarray:
    """Stroke-5 samples as uint8 ``[n, S, S, channels]`` images, white background.

    Rendered like the model's inputs (``rasterize.render_images``: fit to the
    canvas); a sketch that ends at once is a blank (all 255) canvas (the
    rasterizer would draw its start point as a dot).

    Example:
      >>> s5 = np.array([[[0, 0, 1, 0, 0], [4, 0, 0, 1, 0], [0, 0, 0, 0, 1]]], np.float32)
      >>> image = render_samples(s5, 28)
      >>> image.dtype.name, image.shape, int(image.min()) < 128, int(image[0, 0, 0, 0])
      ('uint8', (1, 28, 28, 1), True, 255)
    """
    stroke5 = np.asarray(stroke5, np.float32)
    out = [np.zeros([0, image_size, image_size, 1], np.uint8)]
    starts = range(0, len(stroke5), batch_size)
    for start in tqdm.tqdm(starts, desc="render", unit="batch", disable=not progress):
        out.append(rasterize.render_images(stroke5[start : start + batch_size],
                                           image_size).numpy())  # [b, S, S, 1]
    images = np.concatenate(out)  # [n, S, S, 1]
    if len(stroke5):  # rasterize draws the start point of a sketch that ends at once as a dot
        images[np.argmax(stroke5[:, 1, 2:], axis=-1) == 2] = 255
    return np.repeat(images, channels, axis=-1)  # [n, S, S, C]


def _image_panel(ax, image, title=None, color="black"):
    ax.imshow(np.asarray(image).squeeze(), cmap="gray" if image.shape[-1] == 1 else None,
              vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7, color=color)


def _save_figure(fig, path) -> dict:
    """Writes the PNG; returns its file name and the number of panels shown."""
    panels = sum(1 for ax in fig.axes if ax.axison)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.95))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return {"file": os.path.basename(path), "panels": panels}


def save_pairs(path, lefts, rights, left_titles, right_titles, title: str, columns: int = 6,
               right_colors=None) -> dict:
    """A PNG grid of cells ``[image | sketch]``; a right item is a stroke-5 or an image.

    Returns:
      ``{"file", "panels", "cells", "rows", "columns"}`` (panels = axes drawn).
    """
    n = len(lefts)
    columns = max(1, min(columns, n))
    rows = max(1, -(-n // columns))
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(2.2 * columns, 1.3 * rows + 0.5),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, columns)
        ax_left, ax_right = axes[r, 2 * c], axes[r, 2 * c + 1]
        ax_left.axis("on")
        _image_panel(ax_left, lefts[i], left_titles[i])
        ax_right.axis("on")
        right = np.asarray(rights[i])
        color = right_colors[i] if right_colors is not None else "black"
        if right.ndim == 2 and right.shape[-1] == 5:
            visualize.plot_stroke5(ax_right, right)
            ax_right.set_title(right_titles[i], fontsize=7, color=color)
        else:
            _image_panel(ax_right, right, right_titles[i], color)
    fig.suptitle(title, fontsize=9)
    return dict(_save_figure(fig, path), cells=n, rows=rows, columns=columns)


def sample_grid(model, data: LabelledImages, path, *, n: int = 24, columns: int = 6,
                temperature: float = GRID_TEMPERATURE, seed: int = 0, title: str = "",
                progress: bool = False) -> dict:
    """Saves ``n`` inputs (seeded, spread over classes) beside one sample each.

    Returns:
      The layout of :func:`save_pairs` plus ``indices`` (into ``data``) and
      ``mean_length`` (stroke-3 rows of the samples).

    Example:
      >>> layout = sample_grid(model, omniglot, "samples_omniglot.png")  # doctest: +SKIP
    """
    indices = pick_examples(data.labels, min(n, len(data.labels)), _seed(seed, "grid"))
    images = data.images[indices]
    s5, lengths = generate(model, images, temperature=temperature, seed=_seed(seed, "sample"),
                           progress=progress, desc="grid")
    names = [_class_name(data, int(label)) for label in data.labels[indices]]
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
    indices = pick_examples(data.labels, min(num_classes, data.num_classes), _seed(seed, "one"))
    repeated = np.repeat(data.images[indices], samples, axis=0)  # [rows * K, S, S, C]
    s5, _ = generate(model, repeated, temperature=temperature, seed=_seed(seed, "sample"),
                     progress=progress, desc="one-shot")
    rows = len(indices)
    fig, axes = plt.subplots(rows, samples + 1, figsize=(1.2 * (samples + 1) + 0.6,
                                                         1.25 * rows + 0.5), squeeze=False)
    for r, index in enumerate(indices):
        _image_panel(axes[r, 0], data.images[index], "example" if r == 0 else None)
        axes[r, 0].set_ylabel(_class_name(data, int(data.labels[index])), fontsize=7)
        for k in range(samples):
            visualize.plot_stroke5(axes[r, k + 1], s5[r * samples + k])
            if r == 0:
                axes[r, k + 1].set_title(f"sample {k + 1}", fontsize=7)
    fig.suptitle(f"One-shot generation, {title or data.name}: one example, {samples} samples "
                 f"at temperature {temperature:g} (seed {seed})", fontsize=9)
    return dict(_save_figure(fig, path), rows=rows, columns=samples + 1,
                indices=indices.tolist())


def train_image_classifier(train: LabelledImages, *, epochs: int = 4, batch_size: int = 128,
                           learning_rate: float = 2e-3, seed: int = 0,
                           progress: bool = False) -> keras.Model:
    """A small CNN (3 conv layers) trained on real images; deterministic given ``seed``.

    Output ``k`` of the classifier (logits) is the class ``np.unique(train.labels)[k]``.
    Its input is uint8-valued ``[n, S, S, C]`` (as float), white background.
    About 15 s for 10k 28x28 images on 2 CPU cores with the defaults.

    Example:
      >>> data = LabelledImages(np.full([4, 8, 8, 1], 255, np.uint8), [0, 1, 0, 1])
      >>> train_image_classifier(data, epochs=1).output_shape
      (None, 2)
    """
    classes = np.unique(train.labels)
    y = np.searchsorted(classes, train.labels)  # [n] in 0..C-1
    x = train.images.astype(np.float32)  # [n, S, S, C]
    init = [keras.initializers.GlorotUniform(seed=_seed(seed, "init", i)) for i in range(5)]
    conv = dict(padding="same", activation="relu")
    layers = [
        keras.Input(train.image_shape),
        keras.layers.Rescaling(-1.0 / 255.0, offset=1.0),  # ink 1, background 0
        keras.layers.Conv2D(32, 3, kernel_initializer=init[0], **conv),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, kernel_initializer=init[1], **conv),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, kernel_initializer=init[2], **conv),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu", kernel_initializer=init[3]),
        keras.layers.Dropout(0.3, seed=_seed(seed, "dropout")),
        keras.layers.Dense(len(classes), kernel_initializer=init[4]),
    ]
    classifier = keras.Sequential(layers, name="image_classifier")
    classifier.compile(keras.optimizers.Adam(learning_rate),
                       keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
    rng = np.random.default_rng(_seed(seed, "shuffle"))
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


def random_weight_copy(model, image_shape, seed: int = 0):
    """An untrained copy of ``model`` (same config, fresh seeded initialisation).

    Seeds Keras' global random state with ``seed`` (as ``loading.random_encoder_embed_fn``).

    Example:
      >>> from sketchembednet.models import presets
      >>> copy = random_weight_copy(presets.build_model("tiny"), (28, 28, 1))
      >>> copy.built
      True
    """
    keras.utils.set_random_seed(int(seed))
    copy = type(model).from_config(model.get_config())
    max_len = int(model.max_seq_len or QUICKDRAW_MAX_LEN)
    copy.build(((None, *image_shape), (None, max_len + 1, 5)))
    return copy


def _accuracies(predicted, truth, classes) -> dict:
    """Accuracy and class-balanced accuracy (mean of per-class recalls)."""
    correct = predicted == truth
    per_class = [float(np.mean(correct[truth == c])) for c in classes]
    return {"accuracy": float(np.mean(correct)), "balanced_accuracy": float(np.mean(per_class)),
            "per_class": per_class}


def recognisability(model, classifier, real_train: LabelledImages, real_test: LabelledImages,
                    *, reference_model=None, temperature: float = GRID_TEMPERATURE,
                    seed: int = 0, batch_size: int = _BATCH, examples_path=None,
                    progress: bool = False) -> dict:
    """How often a classifier of REAL images recognises the model's samples (Table 5 protocol).

    Samples are drawn only from ``real_test`` images (one each), rendered at
    their size, and scored against their labels. References: the real test
    images (the ceiling), the samples of ``reference_model`` from the same
    images (default: :func:`random_weight_copy` of ``model``: what an untrained
    drawer scores) and a blank canvas (the share of the class it is taken for).

    Args:
      model: the SketchEmbedNet.
      classifier: trained on ``real_train`` (output k = ``np.unique(real_train.labels)[k]``,
        as :func:`train_image_classifier`), or None to train one here.
      real_train, real_test: disjoint real images of the same classes.
      examples_path: optional PNG of up to 30 test images beside their rendered
        samples and the class the classifier gives them.

    Returns:
      ``{"classes", "train_images", "test_images", "real", "samples", "reference",
      "blank_canvas", ...}``: accuracies in [0, 1] (each with a balanced accuracy).

    Raises:
      ValueError: if a test class is not among the training classes.
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
    real_pred = classify(classifier, real_test.images, progress=progress)
    result["real"] = _accuracies(real_pred, truth, test_classes)
    s5, lengths = generate(model, real_test.images, temperature=temperature, seed=seed,
                           batch_size=batch_size, progress=progress)
    rendered = render_samples(s5, size, channels, progress=progress)  # [n, S, S, C]
    sample_pred = classify(classifier, rendered, progress=progress)
    result["samples"] = _accuracies(sample_pred, truth, test_classes)
    result["samples"].update(mean_length=float(np.mean(lengths)),
                             empty=int(np.sum(lengths == 0)))
    if reference_model is None:
        reference_model = random_weight_copy(model, real_test.image_shape, seed)
    ref_s5, _ = generate(reference_model, real_test.images, temperature=temperature, seed=seed,
                         batch_size=batch_size, progress=progress, desc="reference")
    ref_pred = classify(classifier, render_samples(ref_s5, size, channels), progress=progress)
    result["reference"] = _accuracies(ref_pred, truth, test_classes)
    result["reference"]["what"] = "samples of a random-weight copy of the model, same test images"
    blank = classify(classifier, np.full([1, size, size, channels], 255, np.uint8))[0]
    result["blank_canvas"] = _accuracies(np.full_like(truth, blank), truth, test_classes)
    result["blank_canvas"]["predicted"] = _class_name(real_train, int(classes[blank]))
    result["class_names"] = [_class_name(real_train, int(classes[c])) for c in test_classes]
    if examples_path is not None:
        pick = pick_examples(truth, min(30, len(truth)), _seed(seed, "examples"))
        name = [_class_name(real_train, int(classes[k])) for k in range(len(classes))]
        result["examples"] = save_pairs(
            examples_path, real_test.images[pick], rendered[pick],
            [f"true: {name[truth[i]]}" for i in pick], [name[sample_pred[i]] for i in pick],
            f"{real_test.name}: test image (left), its rendered sample (right) titled with the "
            f"classifier's guess (green: right); sample accuracy "
            f"{result['samples']['accuracy']:.3f}, real {result['real']['accuracy']:.3f}",
            right_colors=["green" if sample_pred[i] == truth[i] else "red" for i in pick])
    return result


_recognisability = recognisability  # run() has an argument of this name.


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
      reference_model: the floor of :func:`recognisability` (default: a
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
        slug = _slug(name)
        grid = sample_grid(model, data, os.path.join(out_dir, f"samples_{slug}.png"),
                           n=grid_size, temperature=temperature, seed=seed,
                           title=name, progress=progress)
        one = one_shot_grid(model, data, os.path.join(out_dir, f"one_shot_{slug}.png"),
                            num_classes=one_shot_classes, samples=one_shot_samples,
                            temperature=one_shot_temperature, seed=seed,
                            title=name, progress=progress)
        result["sets"][name] = {"images": int(len(data.labels)), "classes": data.num_classes,
                                "grid": grid, "one_shot": one}
        result["files"] += [grid["file"], one["file"]]
    result["recognisability"] = None
    if recognisability is not None:
        data = recognisability
        train_idx, test_idx = split_per_class(data.labels, test_fraction, _seed(seed, "split"))
        train = subset(data, train_idx, f"{data.name} (classifier train)")
        test = subset(data, test_idx, f"{data.name} (test)")
        classifier = train_image_classifier(train, epochs=classifier_epochs, seed=seed,
                                            progress=progress)
        rec = _recognisability(
            model, classifier, train, test, reference_model=reference_model,
            temperature=temperature, seed=seed,
            examples_path=os.path.join(out_dir, "recognisability_examples.png"),
            progress=progress)
        result["recognisability"] = dict(rec, data=data.name, test_fraction=test_fraction)
        result["files"].append(rec["examples"]["file"])
    return result

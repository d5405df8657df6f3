"""The sketches of the generation experiments: sampling, rendering, an untrained drawer.

* :func:`generate`: embeds images (``model.embed``) and draws one sketch each
  (``model.sample``), in batches with per-batch seeds;
* :func:`render_samples`: stroke-5 samples as uint8 images, rendered like the
  model's inputs (``rasterize.render_images``: fit to the canvas, white background);
* :func:`random_weight_copy`: an untrained copy of a model, seeded, whose samples
  are the floor of the recognisability experiment.

Sampling seeds are per batch, so samples depend on ``batch_size``. Nothing global
is seeded.

Example:
  >>> from sketchembednet.models import presets
  >>> s5, lengths = generate(presets.build_model("tiny"), np.zeros([2, 28, 28, 1], np.uint8),
  ...                        max_len=4)
  >>> render_samples(s5, 28).shape
  (2, 28, 28, 1)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tqdm

from sketchembednet.data import rasterize
from sketchembednet.evaluation.generation_sets import QUICKDRAW_MAX_LEN
from sketchembednet.evaluation.seeding import derive_seed, seeded_python_random

GRID_TEMPERATURE = 0.1  # Sample grids and recognisability (the trainer's sample_temperature).
ONE_SHOT_TEMPERATURE = 0.5  # One-shot generation: varied samples of one example.
BATCH_SIZE = 256


def generate(model, images, *, temperature: float = GRID_TEMPERATURE, seed: int = 0,
             greedy: bool = False, max_len: int | None = None, batch_size: int = BATCH_SIZE,
             progress: bool = False, desc: str = "sample") -> tuple[np.ndarray, np.ndarray]:
    """Embeds images (``model.embed``) and draws one sketch each (``model.sample``), in batches.

    Args:
      model: a SketchEmbedNet (anything with ``embed(float images)`` and ``sample``).
      images: uint8 ``[n, S, S, C]``, white background.
      temperature, greedy, max_len: see ``sampling.sample`` (max_len None: the model's T).
      seed: batch ``b`` samples with the seed ``seeding.derive_seed(seed, b)``.

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
                             seed=derive_seed(seed, b))  # [b, T + 1, 5], [b]
        out.append(s5.numpy().astype(np.float32))
        lengths.append(n.numpy().astype(np.int32))
    return np.concatenate(out), np.concatenate(lengths)


def render_samples(stroke5, image_size: int, channels: int = 1, batch_size: int = BATCH_SIZE,
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


def random_weight_copy(model, image_shape, seed: int = 0):
    """An untrained copy of ``model`` (same config, fresh initialisation seeded by ``seed``).

    The copy is created and built inside ``seeding.seeded_python_random(seed)``
    (Keras draws unseeded initializers' seeds from Python's ``random``), which then
    restores that state: no global random state (Python, NumPy, TensorFlow, Keras) changes.
    The weights are those the model would get after ``keras.utils.set_random_seed(seed)``.

    Example:
      >>> from sketchembednet.models import presets
      >>> copy = random_weight_copy(presets.build_model("tiny"), (28, 28, 1))
      >>> copy.built
      True
    """
    max_len = int(model.max_seq_len or QUICKDRAW_MAX_LEN)
    with seeded_python_random(seed):
        copy = type(model).from_config(model.get_config())
        copy.build(((None, *image_shape), (None, max_len + 1, 5)))
    return copy

"""A small SketchEmbedNet overfits six real KanjiVG drawings until it redraws them.

The drawings come from the ``kanjivg`` package installed with the project, so the test
runs offline everywhere. Training uses the paper's full loss (alpha = 0.5: the pixel
term is what makes the *greedy* samples reproduce the drawings quickly; with the
stroke and pen terms alone the argmax mixture component of a few long strokes stays
wrong for thousands of steps). It trains in chunks of 250 steps until the greedy
samples from the embedding ``mu`` match their targets (typically 750-1250 steps,
30-60 s on 2 CPU cores), then checks:

* the teacher-forced loss (evaluation mode, alpha = 0) dropped by more than 4 nats;
* the pixel distance -- the mean absolute difference of the rasterized sample and
  target, both placed with the target's bounding box on a 28 x 28 canvas -- is below
  0.04 on average and 0.08 for every drawing (two different kanji are 0.08-0.13 apart);
* every sample is closer to its own drawing than to any other.
"""

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from sketchembednet.data import kanjivg
from sketchembednet.data import rasterize
from sketchembednet.data import strokes
from sketchembednet.models import presets

CHARACTERS = "口山川人木大"  # 7-13 stroke-3 rows each (RDP epsilon 1.0).
T = 16
CANVAS = 28
CHUNK = 250
MAX_STEPS = 3000


def _drawings():
    root = kanjivg.kanjivg_dir()
    stroke3 = [kanjivg.load_drawing(root / f"{ord(c):05x}.svg").stroke3 for c in CHARACTERS]
    scale = strokes.normalizing_scale(stroke3)
    stroke5 = [strokes.stroke3_to_stroke5(strokes.normalize(s, scale), T) for s in stroke3]
    stroke5 = tf.constant(np.stack(stroke5))  # [6, T+1, 5]
    return rasterize.render_images(stroke5, CANVAS), stroke5  # [6, 28, 28, 1] uint8


def _pixel_distances(samples, targets):
    """``[i, j]``: mean |render(sample i) - render(target j)| in target j's frame."""
    pred_points, pred_segments, _ = rasterize.stroke5_to_points(samples)
    points, segments, valid = rasterize.stroke5_to_points(targets)
    columns = []
    for j in range(targets.shape[0]):
        scale, offset = rasterize.bbox_transform(points[j:j + 1], valid[j:j + 1], CANVAS)
        target = rasterize.rasterize(points[j:j + 1] * scale + offset, segments[j:j + 1], CANVAS)
        pred = rasterize.rasterize(pred_points * scale + offset, pred_segments, CANVAS)
        columns.append(tf.reduce_mean(tf.abs(pred - target), axis=[1, 2, 3]))  # [6]
    return tf.stack(columns, axis=1).numpy()  # [6, 6]


def test_overfits_real_drawings_until_greedy_samples_reproduce_them():
    keras.utils.set_random_seed(0)
    images, stroke5 = _drawings()
    model = presets.build_model(
        "tiny", encoder_filters=16, embedding_dim=32, rnn_units=256, hyper_units=64,
        hyper_embedding_size=8, num_mixtures=5, max_seq_len=T, seed=0,
    )
    model.build((images.shape, stroke5.shape))
    optimizer = keras.optimizers.Adam(3e-3, clipvalue=1.0)
    initial = float(model.compute_losses(images, stroke5, alpha=0.0)["loss"])

    @tf.function
    def train(steps):
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                loss = model.compute_losses(images, stroke5, alpha=0.5, training=True)["loss"]
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))

    for step in range(CHUNK, MAX_STEPS + 1, CHUNK):
        train(tf.constant(CHUNK))
        samples, lengths = model.sample(model.embed(images), max_len=T, greedy=True)
        dist = _pixel_distances(samples, stroke5)
        own = np.diag(dist)
        nearest_is_own = np.all(dist.argmin(axis=1) == np.arange(len(CHARACTERS)))
        if own.mean() < 0.04 and own.max() < 0.08 and nearest_is_own:
            break
    final = float(model.compute_losses(images, stroke5, alpha=0.0)["loss"])
    logging.info("steps %d, loss %.3f -> %.3f, pixel distances %s, lengths %s",
                 step, initial, final, np.round(own, 4), lengths.numpy())
    assert initial - final > 4.0, (initial, final)
    assert own.mean() < 0.04 and own.max() < 0.08, (step, own)
    assert nearest_is_own, dist

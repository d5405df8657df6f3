"""Tests for sketchembednet.data.augment (stroke-space augmentation)."""

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet.data import augment

# Two strokes: an L shape then a diagonal; (dx, dy, pen_lifted).
SKETCH = np.array([[10, 0, 0], [10, 0, 0], [0, 10, 0], [0, 10, 1],
                   [5, -5, 0], [8, 8, 0], [8, 8, 0], [8, 8, 1]], np.float32)


def run(aug, seed=(0, 1), sketch=SKETCH, scale=1.0):
    return augment.augment_stroke3(tf.constant(sketch), tf.constant(seed, tf.int64), aug,
                                   scale).numpy()


def test_rotation_is_rigid_and_keeps_pen_states():
    out = run(augment.Augmentation(rotation=45))
    np.testing.assert_allclose(np.linalg.norm(out[:, :2], axis=1),
                               np.linalg.norm(SKETCH[:, :2], axis=1), rtol=1e-5)
    np.testing.assert_array_equal(out[:, 2], SKETCH[:, 2])
    # Angles between consecutive offsets are kept; the drawing itself turned.
    cross = lambda a: a[:-1, 0] * a[1:, 1] - a[:-1, 1] * a[1:, 0]  # noqa: E731
    np.testing.assert_allclose(cross(out), cross(SKETCH), atol=1e-3)
    assert np.abs(out[:, :2] - SKETCH[:, :2]).max() > 0.1


def test_scale_and_shear_stay_within_their_bounds():
    for seed in range(20):
        out = run(augment.Augmentation(scale=0.2), seed=(seed, 0))
        # Axis-aligned offsets keep their axis; each axis scales by a factor in [0.8, 1.2].
        x = out[:2, 0] / SKETCH[:2, 0]
        y = out[2:4, 1] / SKETCH[2:4, 1]
        np.testing.assert_allclose(out[:2, 1], 0, atol=1e-5)
        assert np.allclose(x, x[0]) and np.allclose(y, y[0])
        assert 0.8 - 1e-6 <= x[0] <= 1.2 + 1e-6 and 0.8 - 1e-6 <= y[0] <= 1.2 + 1e-6
        sheared = run(augment.Augmentation(shear=0.3), seed=(seed, 0))
        np.testing.assert_allclose(sheared[:2], SKETCH[:2], atol=1e-5)  # y = 0: unchanged.
        assert abs(sheared[2, 0] / 10) <= 0.3 + 1e-6 and sheared[2, 1] == pytest.approx(10)


def test_jitter_moves_points_without_drift():
    long = np.tile(np.array([[1.0, 0.0, 0.0]], np.float32), (400, 1))
    long[-1, 2] = 1
    out = run(augment.Augmentation(jitter=0.5), sketch=long, scale=2.0)
    moved = np.cumsum(out[:, :2], axis=0) - np.cumsum(long[:, :2], axis=0)  # [L, 2]
    # Each point moves by N(0, (0.5 * 2)^2) independently: no random walk.
    assert 0.85 < moved.std() < 1.15
    assert np.abs(moved[-1]).max() < 4.5


def test_dropping_points_keeps_strokes_and_where_they_end():
    aug = augment.Augmentation(drop_points=0.6)
    shorter = 0
    for seed in range(30):
        out = run(aug, seed=(seed, 3))
        shorter += len(out) < len(SKETCH)
        np.testing.assert_array_equal(out[:, 2].sum(), SKETCH[:, 2].sum())  # Same strokes.
        assert out[-1, 2] == 1
        # Every stroke ends where it ended: offsets of dropped points are merged.
        ends = np.cumsum(out[:, :2], axis=0)[out[:, 2] == 1]
        np.testing.assert_allclose(ends, np.cumsum(SKETCH[:, :2], axis=0)[SKETCH[:, 2] == 1])
        np.testing.assert_array_equal(out[0], SKETCH[0])  # A stroke's first point stays.
    assert shorter > 15


def test_same_seed_same_result_and_off_is_identity():
    aug = augment.Augmentation(rotation=10, shear=0.1, scale=0.1, jitter=0.1, drop_points=0.2)
    np.testing.assert_array_equal(run(aug, (5, 9)), run(aug, (5, 9)))
    assert not np.array_equal(run(aug, (5, 9)), run(aug, (5, 10)))
    np.testing.assert_array_equal(run(augment.NONE), SKETCH)
    assert not augment.NONE.active and aug.active


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="rotation=-1"):
        augment.Augmentation(rotation=-1)
    with pytest.raises(ValueError, match="scale=1.0: must be < 1"):
        augment.Augmentation(scale=1.0)
    with pytest.raises(ValueError, match="drop_points=1.0"):
        augment.Augmentation(drop_points=1.0)
    with pytest.raises(ValueError, match=r"unknown augmentation field\(s\) \['rotate'\]"):
        augment.Augmentation.from_config({"rotate": 3})
    assert augment.Augmentation.from_config({"jitter": 0.1}).jitter == pytest.approx(0.1)

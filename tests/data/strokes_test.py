"""Tests for sketchembednet.data.strokes."""

import json

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet.data import strokes

# A drawing of two strokes: an "L" then a separate horizontal bar.
POLYLINES = [np.array([[3.0, 4.0], [3.0, 10.0], [8.0, 10.0]]), np.array([[1.0, 1.0], [6.0, 1.0]])]
STROKE3 = np.array([[0, 6, 0], [5, 0, 1], [-7, -9, 0], [5, 0, 1]], np.float32)


def random_stroke3(rng, length):
    s3 = np.zeros((length, 3), np.float32)
    s3[:, :2] = rng.normal(size=(length, 2))
    s3[:, 2] = rng.random(length) < 0.2
    s3[-1, 2] = 1
    return s3


def test_polylines_to_stroke3_matches_hand_computed():
    np.testing.assert_array_equal(strokes.polylines_to_stroke3(POLYLINES), STROKE3)


def test_stroke3_polylines_round_trip_up_to_translation():
    back = strokes.stroke3_to_polylines(STROKE3)
    assert len(back) == 2
    origin = POLYLINES[0][0]
    for got, want in zip(back, POLYLINES):
        np.testing.assert_allclose(got, want - origin)


def test_stroke5_layout_and_first_offset_survives():
    s5 = strokes.stroke3_to_stroke5(STROKE3, max_len=6)
    assert s5.shape == (7, 5)
    np.testing.assert_array_equal(s5[0], strokes.START_TOKEN)
    # The original code overwrote row 0 with the start token and lost this offset.
    np.testing.assert_array_equal(s5[1], [0, 6, 1, 0, 0])
    np.testing.assert_array_equal(s5[2], [5, 0, 0, 1, 0])
    np.testing.assert_array_equal(s5[5:], [strokes.END_TOKEN] * 2)
    # Every offset, the first included, is kept: the sum is the end point.
    np.testing.assert_allclose(s5[:, :2].sum(0), STROKE3[:, :2].sum(0))


@pytest.mark.parametrize("length", [1, 2, 17, 64])
def test_stroke3_stroke5_round_trip(length):
    s3 = random_stroke3(np.random.default_rng(length), length)
    s5 = strokes.stroke3_to_stroke5(s3, max_len=64)
    np.testing.assert_array_equal(strokes.stroke5_to_stroke3(s5), s3)


def test_stroke5_to_stroke3_soft_pen_uses_argmax():
    s5 = np.array([strokes.START_TOKEN, [1, 2, 0.6, 0.3, 0.1], [3, 4, 0.2, 0.7, 0.1],
                   [5, 6, 0.1, 0.2, 0.7], [9, 9, 0.9, 0.05, 0.05]], np.float32)
    np.testing.assert_allclose(strokes.stroke5_to_stroke3(s5), [[1, 2, 0], [3, 4, 1]])


def test_tf_conversion_matches_numpy_eager_and_in_dataset():
    rng = np.random.default_rng(0)
    sketches = [random_stroke3(rng, n) for n in (1, 5, 64)]
    for s3 in sketches:
        s5, length = strokes.stroke3_to_stroke5_tf(s3, 64)
        np.testing.assert_array_equal(s5.numpy(), strokes.stroke3_to_stroke5(s3, 64))
        assert int(length) == len(s3)
    ds = tf.data.Dataset.from_generator(
        lambda: iter(sketches), output_signature=tf.TensorSpec([None, 3], tf.float32)
    ).map(lambda s: strokes.stroke3_to_stroke5_tf(s, 64))
    for (s5, length), s3 in zip(ds, sketches):
        np.testing.assert_array_equal(s5.numpy(), strokes.stroke3_to_stroke5(s3, 64))
        assert int(length) == len(s3)


def test_tf_conversion_refuses_long_sketch():
    with pytest.raises(tf.errors.InvalidArgumentError, match="longer than max_len=4"):
        strokes.stroke3_to_stroke5_tf(np.zeros((5, 3), np.float32), 4)


def test_too_long_sketch_is_refused_not_truncated():
    with pytest.raises(strokes.SketchTooLongError, match="cat.ndjson:3: sketch has 4 rows"):
        strokes.stroke3_to_stroke5(STROKE3, max_len=3, name="cat.ndjson:3")


def test_filter_by_length_reports_dropped():
    sketches = [np.zeros((n, 3)) for n in (3, 70, 64, 65)]
    kept, dropped = strokes.filter_by_length(sketches, 64)
    assert [len(s) for s in kept] == [3, 64]
    assert dropped == [1, 3]


def test_quickdraw_simplified_line():
    line = json.dumps({"word": "cat", "key_id": "1",
                       "drawing": [[[3, 3, 8], [4, 10, 10]], [[1, 6], [1, 1]]]})
    s3 = strokes.quickdraw_to_stroke3(json.loads(line)["drawing"])
    np.testing.assert_array_equal(s3, STROKE3)


def test_quickdraw_real_files(shared_data):
    """Every drawing of a real ndjson file converts and round-trips to polylines."""
    path = shared_data / "quickdraw" / "simplified_345cls_25each" / "cat.ndjson"
    with open(path) as f:
        drawings = [json.loads(line)["drawing"] for line in f]
    assert len(drawings) == 25
    for drawing in drawings:
        s3 = strokes.quickdraw_to_stroke3(drawing)
        lines = strokes.stroke3_to_polylines(s3)
        assert len(lines) == len([s for s in drawing if len(s[0])])
        first = np.array([drawing[0][0][0], drawing[0][1][0]], np.float32)
        for got, (xs, ys) in zip(lines, drawing):
            np.testing.assert_allclose(got + first, np.stack([xs, ys], 1), atol=1e-3)


def test_rdp_uses_epsilon_and_keeps_endpoints():
    t = np.linspace(0, 1, 200)
    line = np.stack([t * 100, 0.3 * np.sin(t * 20)], 1)  # Wiggles of 0.3 units.
    coarse, = strokes.rdp([line], epsilon=1.0)
    fine, = strokes.rdp([line], epsilon=0.05)
    assert len(coarse) == 2
    assert len(fine) >= 20  # About one point per half wiggle.
    np.testing.assert_array_equal(coarse[[0, -1]], line[[0, -1]])


def test_normalizing_scale_and_normalize():
    rng = np.random.default_rng(1)
    sketches = [random_stroke3(rng, 50) * [3.0, 3.0, 1.0] for _ in range(40)]
    scale = strokes.normalizing_scale(sketches)
    assert scale == pytest.approx(np.std(np.concatenate([s[:, :2].ravel() for s in sketches])))
    normed = [strokes.normalize(s, scale) for s in sketches]
    assert strokes.normalizing_scale(normed) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_array_equal(normed[0][:, 2], sketches[0][:, 2])


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((0, 3)), "empty drawing"),
        (np.zeros((4, 2)), r"shape \[L, 3\]"),
        (np.array([[1, np.nan, 0]]), "non-finite value nan at row 0"),
        (np.array([[1, 1, 0], [np.inf, 1, 0]]), "non-finite value inf at row 1"),
        (np.array([[1, 1, 0.5]]), "pen column must be 0 or 1"),
    ],
)
def test_bad_stroke3_raises_named_error(bad, message):
    with pytest.raises(strokes.StrokeFormatError, match="sketch.npz: .*" + message):
        strokes.stroke3_to_stroke5(bad, 64, name="sketch.npz")


@pytest.mark.parametrize(
    "drawing, message",
    [
        ([], "empty drawing"),
        ([[[1, 2, 3], [1, 2]]], "stroke 0 has 3 x values but 2 y values"),
        ([[[1], [1]]], "empty drawing: fewer than two points"),
        ([[[0, 1], [0, float("nan")]]], "stroke 0 holds non-finite"),
        (["abc"], "stroke 0 must be"),
    ],
)
def test_bad_quickdraw_raises_named_error(drawing, message):
    with pytest.raises(strokes.StrokeFormatError, match="line 7: " + message):
        strokes.quickdraw_to_stroke3(drawing, name="line 7")

"""Tests for sketchembednet.data.preprocessing, .framing and .image_preprocessor.

Pages are drawn with PIL (``testing.draw_page``), not with this project's rasterizer,
so the framing is checked against an independent renderer. Bounds were chosen from
measurement on 25 real Quick, Draw! drawings (5 classes x 5, 2026-12-05): mean absolute
difference to the 28 px training render, in grey levels, 11.8 (worst drawing 18.6) for
105 px pages with 3 px lines at random positions and fills 0.3-0.9; 13.5 (worst 21.8) for
a 400 x 300 page with 4 px lines; 41.1 for the whole-page area resize used before the
preprocessor (a blank canvas scores 35.1).
"""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import testing
from sketchembednet.data import framing
from sketchembednet.data import image_preprocessor
from sketchembednet.data import preprocessing
from sketchembednet.data import rasterize
from sketchembednet.data import strokes


def _preprocess(images, **kwargs):
    return preprocessing.preprocess_images(images, **kwargs).numpy()


def _mae(a, b):
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


@pytest.fixture(scope="module")
def drawings(shared_data):
    """``[(polylines, 28 px render)]`` of 25 real Quick, Draw! drawings."""
    out = []
    for s3 in testing.shared_quickdraw_stroke3(shared_data):
        render = rasterize.render_image(tf.constant(s3), 28).numpy()  # [28, 28, 1]
        out.append((strokes.stroke3_to_polylines(s3), render))
    return out


def test_framing_constants_are_the_renderers():
    assert framing.padding(28) == rasterize.default_padding(28) == 6
    assert framing.box_size(84) == 68
    assert float(rasterize.intensity_from_distance(tf.constant(0.0))) == pytest.approx(
        framing.INK_MAX, abs=1e-6)
    half = float(rasterize.intensity_from_distance(tf.constant(framing.HALF_WIDTH**2)))
    assert half == pytest.approx(framing.INK_THRESHOLD * framing.INK_MAX, abs=1e-6)
    # The darkest grey of a render: a 22 x 21 "L" puts its horizontal line on row 3.
    line = tf.constant([[22.0, 0.0, 0.0], [0.0, 21.0, 1.0]])
    assert int(tf.reduce_min(rasterize.render_image(line, 28))) == framing.render_ink_grey()


def test_pages_match_the_training_render(drawings):
    rng = np.random.default_rng(0)
    fitted, whole, big = [], [], []
    for lines, render in drawings:
        fill, position = rng.uniform(0.3, 0.9), rng.uniform(0.0, 1.0, 2)
        page = testing.draw_page(lines, 105, 3, fill, position)
        fitted.append(_mae(_preprocess(page), render))
        whole.append(_mae(_preprocess(page, framing="none"), render))
        big.append(_mae(_preprocess(testing.draw_page(lines, 400, 4, 0.5, position,
                                                      height=300)), render))
    assert np.mean(fitted) < 14.0 and max(fitted) < 22.0, (np.mean(fitted), max(fitted))
    assert np.mean(big) < 16.0 and max(big) < 26.0, (np.mean(big), max(big))
    assert np.mean(whole) > 30.0  # What the evaluator and the export did before.


def test_polarity_alpha_channels_and_float_scales_give_the_same_image(drawings):
    lines, _ = drawings[0]
    page = testing.draw_page(lines, 105, 3, 0.5, (0.2, 0.7))  # [105, 105, 1] black on white
    expected = _preprocess(page)
    inverted = testing.draw_page(lines, 105, 3, 0.5, (0.2, 0.7), invert=True)
    rgb = np.repeat(page, 3, axis=-1)
    rgba = np.concatenate([np.zeros_like(rgb), 255 - page], -1)  # black ink, alpha = ink
    variants = dict(inverted=inverted, rgb=rgb, rgba=rgba,
                    float255=page.astype(np.float32), float01=page.astype(np.float32) / 255.0)
    for name, image in variants.items():
        np.testing.assert_allclose(_preprocess(image).astype(int), expected.astype(int), atol=1,
                                   err_msg=name)
    # Without the polarity check a white-on-black page has no ink darker than its border.
    assert (_preprocess(inverted, invert_light_on_dark=False) == 255).all()


def test_position_and_scale_on_the_page_do_not_matter(drawings):
    # Measured on the 25 drawings (grey levels): other position 3.1 mean (6.4 worst; PIL's
    # aliased lines fall on other pixels), fill 0.5 -> 0.8 6.2 (11.8), 4 -> 2 px lines 7.6
    # (11.5).
    moved, grown, thin = [], [], []
    for lines, _ in drawings:
        image = _preprocess(testing.draw_page(lines, 160, 4, 0.5, (0.2, 0.3)))
        moved.append(_mae(_preprocess(testing.draw_page(lines, 160, 4, 0.5, (0.8, 0.6))), image))
        grown.append(_mae(_preprocess(testing.draw_page(lines, 160, 4, 0.8, (0.5, 0.5))), image))
        thin.append(_mae(_preprocess(testing.draw_page(lines, 160, 2, 0.5, (0.5, 0.5))), image))
    assert np.mean(moved) < 5.0 and max(moved) < 10.0, (np.mean(moved), max(moved))
    assert np.mean(grown) < 9.0 and max(grown) < 16.0, (np.mean(grown), max(grown))
    assert np.mean(thin) < 10.0 and max(thin) < 16.0, (np.mean(thin), max(thin))


def test_a_training_render_passes_almost_unchanged(drawings):
    renders = np.stack([render for _, render in drawings])
    again = _preprocess(renders)
    assert _mae(again, renders) < 4.0  # measured 2.8 on 87 drawings
    np.testing.assert_array_equal(again.min(axis=(1, 2, 3)), framing.render_ink_grey())


def test_defined_outputs_for_odd_inputs():
    blank = _preprocess(np.full([2, 50, 70, 3], 255, np.uint8))
    assert blank.shape == (2, 28, 28, 1) and (blank == 255).all()
    assert (_preprocess(np.zeros([1, 1, 1, 1], np.uint8)) == 255).all()  # a 1x1 image
    assert (_preprocess(np.full([1, 9, 9, 1], 0.5, np.float32)) == 255).all()  # one colour
    faint = np.full([1, 40, 40, 1], 250, np.uint8)
    faint[0, 10:30, 20] = 240  # 4% contrast: noise, not ink
    assert (_preprocess(faint) == 255).all()
    big = np.full([2000, 2000, 1], 255, np.uint8)
    big[300:1700, 1000] = 0  # a 1 px line on a 2000 px page: thickened, not faded away
    out = _preprocess(big)
    assert out.shape == (28, 28, 1) and np.isfinite(out).all()
    assert int(out.min()) == framing.render_ink_grey() and (out < 128).sum() >= 20
    corner = np.full([1, 60, 60, 1], 255, np.uint8)
    corner[0, 0, 0] = 0  # a single ink pixel: a rendered dot in the centre, not a blob
    dot = _preprocess(corner)[0, :, :, 0]
    assert dot[13:15, 13:15].min() == framing.render_ink_grey()
    assert (dot < 200).sum() <= 6 and dot[0, 0] == 255
    rgb = _preprocess(np.full([1, 30, 30, 4], 255, np.uint8), channels=3)
    assert rgb.shape == (1, 28, 28, 3)


def test_framing_none_resizes_the_whole_image():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, [2, 84, 84, 3]).astype(np.uint8)
    np.testing.assert_array_equal(_preprocess(photo, image_size=84, channels=3,
                                              framing="none"), photo)
    small = _preprocess(photo, image_size=28, channels=3, framing="none")
    expected = tf.image.resize(tf.cast(photo, tf.float32), [28, 28], method="area")
    np.testing.assert_array_equal(small, np.round(expected.numpy()).astype(np.uint8))


def test_bad_input_names_the_expected_shape():
    expected = r"\[N, H, W, C\] or \[H, W, C\] with C in \(1, 3, 4\)"
    with pytest.raises(ValueError, match=expected + "; got shape \\(28, 28\\)"):
        preprocessing.preprocess_images(np.zeros([28, 28], np.uint8))
    with pytest.raises(ValueError, match=expected + "; got shape \\(1, 28, 28, 2\\)"):
        preprocessing.preprocess_images(np.zeros([1, 28, 28, 2], np.uint8))
    with pytest.raises(TypeError, match="must be uint8 or float .0..255., got int32"):
        preprocessing.preprocess_images(np.zeros([1, 28, 28, 1], np.int32))
    with pytest.raises(ValueError, match="framing must be one of"):
        preprocessing.preprocess_images(np.zeros([1, 28, 28, 1], np.uint8), framing="crop")
    fn = tf.function(preprocessing.preprocess_images,
                     input_signature=[tf.TensorSpec([None] * 4, tf.float32)])
    with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
        fn(tf.zeros([1, 28, 28, 2]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        fn(tf.fill([1, 28, 28, 1], np.nan))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be in 0..255"):
        fn(tf.fill([1, 28, 28, 1], 300.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must not be empty"):
        fn(tf.zeros([1, 0, 28, 1]))


def test_preprocess_array_batches_and_progress():
    rng = np.random.default_rng(0)
    pages = np.full([5, 64, 48, 1], 255, np.uint8)
    for page in pages:
        r, c = rng.integers(5, 30, 2)
        page[r:r + 20, c:c + 3] = 0
    whole = _preprocess(pages)
    np.testing.assert_array_equal(preprocessing.preprocess_array(pages, batch_size=2,
                                                                 progress="test"), whole)
    assert preprocessing.preprocess_array(pages[0]).shape == (28, 28, 1)


def test_image_preprocessor_layer():
    layer = image_preprocessor.ImagePreprocessor(image_size=28, framing="fit_ink")
    testing.assert_config_round_trip(layer)
    page = np.full([2, 90, 60, 1], 255, np.uint8)
    page[:, 10:50, 20:24] = 0
    out = layer(page)
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), _preprocess(page).astype(np.float32))
    inputs = keras.Input([None, None, 1], dtype="uint8")
    model = keras.Model(inputs, layer(inputs))
    np.testing.assert_array_equal(model.predict(page, verbose=0), out.numpy())
    with pytest.raises(ValueError, match="framing must be one of"):
        image_preprocessor.ImagePreprocessor(framing="crop")


def test_doctests():
    for module in (framing, preprocessing, image_preprocessor):
        assert doctest.testmod(module, extraglobs=dict(np=np, tf=tf)).failed == 0, module

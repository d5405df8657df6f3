"""The shipped encoder, loaded as users load it, on wrong or unusual inputs (issue 19).

Float pages in 0..1 (what many image libraries give) embed as the same page in uint8,
and NaN, Inf or values above 255 are errors with a message, never a silent embedding.
"""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import testing

ENCODER = (pathlib.Path(__file__).resolve().parents[2] / "exported" / "sketchembednet"
           / "encoder")
STAR = [np.array([[0, 30], [30, 0], [60, 30], [40, 70], [20, 70], [0, 30]], np.float32),
        np.array([[10, 40], [50, 40]], np.float32)]


@pytest.fixture(scope="module")
def module():
    return tf.saved_model.load(str(ENCODER))


def _embed(module, signature, images):
    return module.signatures[signature](images=tf.constant(images))["embedding"].numpy()


def _cosine(a, b):
    return float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))


def test_float_pages_in_0_1_and_0_255_embed_as_the_uint8_page(module):
    page = testing.draw_page(STAR, size=160)[None]  # uint8 [1, 160, 160, 1]
    reference = _embed(module, "serving_default", page)
    as_255 = _embed(module, "serving_float", page.astype(np.float32))
    as_unit = _embed(module, "serving_float", page.astype(np.float32) / 255.0)
    np.testing.assert_allclose(as_255, reference, atol=1e-5)
    assert _cosine(as_unit, reference) > 0.999  # Contrast is normalised: the scale is moot.


@pytest.mark.parametrize("value, message", [
    (np.nan, "images hold NaN or Inf"),
    (np.inf, "images hold NaN or Inf"),
    (300.0, "float images must be in 0..255 (uint8 values as floats); got min"),
    (-1.0, "float images must be in 0..255 (uint8 values as floats); got min"),
])
def test_invalid_float_pages_are_errors(module, value, message):
    page = testing.draw_page(STAR, size=64)[None].astype(np.float32)
    page[0, 5, 5, 0] = value
    with pytest.raises(tf.errors.InvalidArgumentError, match=message.replace("(", r"\(")
                       .replace(")", r"\)").replace(".", r"\.")):
        _embed(module, "serving_float", page)


def test_empty_and_wrong_channel_pages_are_errors(module):
    with pytest.raises(tf.errors.InvalidArgumentError, match="images must not be empty"):
        _embed(module, "serving_default", np.zeros((1, 0, 5, 1), np.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"images must be \[N, H, W, C\] or \[H, W, C\] with C in \(1, 3, 4\)"):
        _embed(module, "serving_default", np.zeros((1, 8, 8, 2), np.uint8))

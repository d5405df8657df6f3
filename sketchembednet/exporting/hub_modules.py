"""The TF Hub modules an export saves: ``encoder/`` and ``decoder/`` (``tf.Module`` s).

**Encoder input contract (export format 2).** The module takes users' images as they
are: uint8 (``serving_default``, ``__call__``) or float on the 0..255 scale
(``serving_float``, ``embed_float``), ``[n, H, W, C]``, any size, C in {1, 3, 4}, and
runs :func:`sketchembednet.data.preprocessing.preprocess_images` inside the SavedModel
with the model's framing: ``fit_ink`` for stroke-trained (1-channel) models crops each
image to its ink and fits it as the training renders are (light-on-dark inverted, alpha
composited on white); ``none`` for photo encoders resizes the whole image.
``serving_unframed`` / ``embed_unframed`` (uint8) skip the framing (channels and an area
resize only) for images already framed like the training renders. Bad input (a channel
count other than 1, 3, 4; NaN/Inf; floats outside 0..255) is an
``InvalidArgumentError`` whose message names the expected input. The embedding is the
encoder mean mu in inference mode (BatchNorm moving statistics).

Format 1 (before 2026-12) only converted channels and area-resized the whole image.

**Decoder.** ``sample(z [n, D] float32, temperature float32 [], max_len int32 [],
greedy bool [], seed int32 [])`` returns ``stroke5`` float32 ``[n, max_len + 1, 5]`` (row
0 is the start token ``(0, 0, 1, 0, 0)``; rows after a sketch's end are end tokens
``(0, 0, 0, 0, 1)``) and ``lengths`` int32 ``[n]`` (rows before the end token), as
``SketchEmbedNet.sample``; ``1 <= max_len <=`` the trained T. ``render(stroke5 [n, L,
5], canvas_size int32 [])`` returns ``images`` uint8 ``[n, S', S', 1]`` (as
``rasterize.render_images``) and ``intensity`` float32 (ink in 0..1).
``__call__(z)`` is a greedy full-length sample.

Both are reusable in the TF Hub sense: the saved object has ``variables``,
``trainable_variables``, ``regularization_losses`` (empty) and ``__call__``.
"""

from __future__ import annotations

import tensorflow as tf

from sketchembednet import sampling
from sketchembednet.data import preprocessing
from sketchembednet.data import rasterize
from sketchembednet.models import exported


def default_framing(image_shape) -> str:
    """``fit_ink`` for models of 1-channel stroke renders, ``none`` for photo (3-channel)
    encoders, whose inputs must not be cropped.

    Example:
      >>> default_framing((28, 28, 1)), default_framing((84, 84, 3))
      ('fit_ink', 'none')
    """
    return "fit_ink" if int(image_shape[-1]) == 1 else "none"


def _render(stroke5, canvas_size):
    """``rasterize.render_images`` with ``canvas_size`` a tensor (images and intensity)."""

    stroke5 = tf.cast(stroke5, tf.float32)  # [n, L, 5]
    size = tf.cast(canvas_size, tf.float32)
    padding = 2.0 * tf.round(size / 10.0)  # rasterize.default_padding (round half to even)
    points, segment_mask, point_mask = rasterize.stroke5_to_points(stroke5)
    scale, offset = rasterize.bbox_transform(points, point_mask, size, padding)
    intensity = rasterize.rasterize(points * scale + offset, segment_mask, canvas_size)
    images = tf.cast(tf.round(255.0 * (1.0 - intensity)), tf.uint8)  # [n, S', S', 1]
    return {"images": images, "intensity": intensity}


# ------ The saved objects
class ReusableModule(tf.Module):
    """A TF Hub "reusable SavedModel": ``variables``, ``trainable_variables``,
    ``regularization_losses`` and a ``__call__`` tf.function, all saved attributes."""

    # Plain class attributes, so instances can set these names (tf.Module defines them as
    # read-only properties); the instance values are saved as tracked lists.
    variables = None
    trainable_variables = None
    regularization_losses = None

    def __init__(self, name, keras_variables, unused=()):
        super().__init__(name=name)
        saved = exported.exported_variables(keras_variables)
        self.variables = [v.value for v in saved]  # the tf.Variables the functions read
        # Weights the functions never read (``unused`` path parts) are saved but not
        # trainable here: fine-tuning through the module could not change them.
        self.trainable_variables = [v.value for v in saved if v.trainable
                                    and not any(part in v.path for part in unused)]
        self.regularization_losses = []


class EncoderModule(ReusableModule):
    """Saved as ``encoder/``: users' images (any size, 1, 3 or 4 channels) -> mu ``[n, D]``.

    Args:
      model: a built model with ``encoder`` and ``embed`` (float 0..255 images).
      image_shape: the model's input ``(S, S, C)``.
      framing: the preprocessor's framing inside the default signatures
        (:func:`default_framing` if None).
    """

    def __init__(self, model, image_shape, framing: str | None = None):
        # mu only: the log-variance head is unused (kept for load_for_finetuning).
        super().__init__("sketchembednet_encoder", model.encoder.variables,
                         unused=("/embedding/logvar/",))
        size, channels = int(image_shape[0]), int(image_shape[-1])
        framing = preprocessing.check_framing(framing or default_framing(image_shape))

        def embedder(framing_):
            def embed(images):
                framed = preprocessing.preprocess_images(images, size, channels, framing_)
                return model.embed(tf.cast(framed, tf.float32))  # [n, D]
            return embed

        embed, unframed = embedder(framing), embedder("none")
        uint8 = tf.TensorSpec([None, None, None, None], tf.uint8, name="images")
        float32 = tf.TensorSpec([None, None, None, None], tf.float32, name="images")
        self.__call__ = tf.function(embed, input_signature=[uint8])
        self.embed_float = tf.function(embed, input_signature=[float32])
        self.embed_unframed = tf.function(unframed, input_signature=[uint8])
        # Not an attribute: a tracked dict would save these functions a second time.
        self._signature_fns = lambda: {
            "serving_default": tf.function(lambda images: {"embedding": embed(images)},
                                           input_signature=[uint8]),
            "serving_float": tf.function(lambda images: {"embedding": embed(images)},
                                         input_signature=[float32]),
            "serving_unframed": tf.function(lambda images: {"embedding": unframed(images)},
                                            input_signature=[uint8]),
        }

    def signature_functions(self) -> dict:
        """The ``signatures`` argument of ``tf.saved_model.save``."""
        return self._signature_fns()


class DecoderModule(ReusableModule):
    """Saved as ``decoder/``: ``sample`` embeddings into stroke-5, ``render`` stroke-5."""

    def __init__(self, model):
        super().__init__("sketchembednet_decoder", model.decoder.variables)
        decoder = model.decoder
        max_steps = int(model.max_seq_len)
        z_spec = tf.TensorSpec([None, model.encoder.embedding_dim], tf.float32, name="z")

        def sample(z, temperature, max_len, greedy, seed):
            checks = [
                tf.debugging.assert_less_equal(
                    max_len, max_steps, message=f"max_len must be <= the trained T={max_steps}"),
                tf.debugging.assert_positive(max_len, message="max_len must be >= 1"),
            ]
            with tf.control_dependencies(checks):
                max_len = tf.identity(max_len)
            stroke5, lengths = tf.cond(
                greedy,
                lambda: sampling.sample(decoder, z, max_len, temperature, True, seed),
                lambda: sampling.sample(decoder, z, max_len, temperature, False, seed),
            )
            return {"stroke5": stroke5, "lengths": lengths}  # [n, max_len + 1, 5], [n]

        sample_specs = [
            z_spec,
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.int32, name="max_len"),
            tf.TensorSpec([], tf.bool, name="greedy"),
            tf.TensorSpec([], tf.int32, name="seed"),
        ]
        render_specs = [
            tf.TensorSpec([None, None, 5], tf.float32, name="stroke5"),
            tf.TensorSpec([], tf.int32, name="canvas_size"),
        ]

        def render(stroke5, canvas_size):
            check = tf.debugging.assert_positive(canvas_size, message="canvas_size must be >= 1")
            with tf.control_dependencies([check]):
                return _render(stroke5, tf.identity(canvas_size))

        def greedy_sketch(z):
            return sampling.sample(decoder, z, max_steps, 1.0, True, 0)[0]  # [n, T + 1, 5]

        self.sample = tf.function(sample, input_signature=sample_specs)
        self.render = tf.function(render, input_signature=render_specs)
        self.__call__ = tf.function(greedy_sketch, input_signature=[z_spec])
        self._signature_fns = lambda: {"serving_default": self.sample, "sample": self.sample,
                                       "render": self.render}

    def signature_functions(self) -> dict:
        """The ``signatures`` argument of ``tf.saved_model.save``."""
        return self._signature_fns()



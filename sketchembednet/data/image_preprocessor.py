"""``ImagePreprocessor``: the input contract as a Keras layer (TensorFlow backend)."""

from __future__ import annotations

import keras
import tensorflow as tf

from sketchembednet.data import preprocessing


@keras.saving.register_keras_serializable(package="sketchembednet")
class ImagePreprocessor(keras.layers.Layer):
    """Maps users' images to what the encoder saw in training (:mod:`preprocessing`).

    A stateless layer around :func:`preprocessing.preprocess_images`, in the spirit of
    keras-hub's image converters: put it in front of an encoder so a model takes raw
    pages (uint8 or float 0..255, any size, 1, 3 or 4 channels).

    Args:
      image_size: the model's canvas ``S``.
      channels: the model's channels (1 or 3).
      framing: ``"fit_ink"`` (crop to the ink and fit it as the training renders) or
        ``"none"`` (resize the whole image: photo encoders).
      invert_light_on_dark: invert light-ink-on-dark images (``fit_ink`` only).
      **kwargs: Keras layer arguments.

    Call returns float32 ``[N, S, S, channels]`` on the 0..255 scale (whole grey levels),
    the encoders' input.

    Example:
      >>> layer = ImagePreprocessor(image_size=28)
      >>> layer(np.full([2, 105, 80, 3], 255, np.uint8)).shape
      TensorShape([2, 28, 28, 1])
    """

    def __init__(self, image_size: int = 28, channels: int = 1, framing: str = "fit_ink",
                 invert_light_on_dark: bool = True, **kwargs):
        kwargs.setdefault("dtype", "float32")
        kwargs["trainable"] = False  # stateless
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.framing = preprocessing.check_framing(framing)
        self.invert_light_on_dark = bool(invert_light_on_dark)

    def call(self, images):
        out = preprocessing.preprocess_images(images, self.image_size, self.channels,
                                              self.framing, self.invert_light_on_dark)
        return tf.cast(out, tf.float32)  # [N, S, S, channels], 0..255

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.image_size, self.image_size, self.channels)

    def get_config(self):
        return dict(super().get_config(), image_size=self.image_size, channels=self.channels,
                    framing=self.framing, invert_light_on_dark=self.invert_light_on_dark)

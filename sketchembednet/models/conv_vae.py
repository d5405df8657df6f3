"""ConvVAE: the pixel-VAE baseline of SketchEmbedNet (the same encoders, a conv decoder)."""

import math

import keras
import tensorflow as tf

from sketchembednet import losses
from sketchembednet.models.fit_support import LossTermsFitMixin


@keras.saving.register_keras_serializable(package="sketchembednet")
class ConvVAE(LossTermsFitMixin, keras.Model):
    """Variational autoencoder on pixels: SketchEmbedNet's encoder, a deconvolutional decoder.

    The baseline "Conv-VAE" of Wang et al. 2021 (Sec. 5, baselines): the embedding is
    learned by reconstructing the image itself instead of drawing it. The encoder (Conv4
    or ResNet-12, unchanged) gives ``(z, mu, logvar)``; the decoder maps z to logits of
    the ink, ``1 - image / 255`` in [0, 1]::

        z [B, Z] -> Dense(s * s * F), ReLU -> [B, s, s, F]           (s = ceil(S / 4))
          -> Conv2DTranspose(F, 3x3, stride 2), ReLU -> [B, 2s, 2s, F]
          -> Conv2DTranspose(F, 3x3, stride 2), ReLU -> [B, 4s, 4s, F]
          -> centre crop to S x S -> Conv2D(C, 3x3) -> logits [B, S, S, C]

    (28 -> 7, 84 -> 21: no crop; 30 -> 8 -> 32, cropped to 30.) The loss per example::

        L = recon + kl_weight * KL,
        recon = sum over pixels and channels of BCE(ink, sigmoid(logits)) / (S * S),
        KL    = KL(N(mu, exp(logvar)) || N(0, I)) / (S * S),

    i.e. the negative ELBO (``kl_weight = 1``) divided by the number of pixels, so that
    ``recon`` is on the per-pixel scale of SketchEmbedNet's ``L_pixel``. The model has
    the training interface of ``SketchEmbedNet``: ``compute_losses`` (which accepts and
    ignores the stroke-5 and alpha the trainer passes), ``embed`` (the mean ``mu``),
    ``build`` from the trainer's ``((images), (stroke5))`` shapes, and ``train_step`` /
    ``test_step`` for ``fit``, which report ``total_loss``, ``recon_loss`` and ``kl``.

    Under a mixed dtype policy the decoder runs in the policy's compute dtype and its
    logits are cast to float32 before the loss; ``z``, ``mu``, ``logvar`` and every loss
    are float32. The Dense layer has ``Z * s * s * F`` weights: 0.80M for the paper's
    Z = 256, F = 64 at 28 x 28, 7.2M at 84 x 84.

    Args:
      encoder: ``Conv4Encoder`` or ``ResNet12Encoder`` (returns ``(z, mu, logvar)``).
      image_shape: ``(S, S, C)`` of the images (the decoder's output shape).
      decoder_filters: F, channels of the decoder's feature maps.
      kl_weight: weight of the KL term (1: the ELBO).
      seed: stored for interface parity with ``SketchEmbedNet``; the only noise (z) is
        the encoder's, seeded by the encoder's own ``seed``.
      **kwargs: forwarded to ``keras.Model``.

    Call arguments:
      inputs: ``images [B, S, S, C]`` or ``(images, stroke5)`` (stroke5 is ignored).
      training: encoder sampling / BatchNorm mode.

    Returns:
      Decoder logits of the ink ``[B, S, S, C]`` (float32).

    Example:
      >>> from sketchembednet.models import presets
      >>> model = ConvVAE(presets.build_encoder("conv4", 8, 16), decoder_filters=8)
      >>> images = tf.fill([2, 28, 28, 1], 255.0)
      >>> sorted(model.compute_losses(images))
      ['kl', 'loss', 'recon']
      >>> model.reconstruct(images).dtype, model.embed(images).shape
      (tf.uint8, TensorShape([2, 16]))

    Reference:
      Wang, Lucas, Zemel et al., "SketchEmbedNet: Learning Novel Concepts by Imitating
      Drawings", ICML 2021, arXiv:2009.04806, Sec. 5; Kingma & Welling 2014,
      arXiv:1312.6114.
    """

    loss_terms = ("loss", "recon", "kl")
    metric_names = ("total_loss", "recon_loss", "kl")  # what fit reports

    def __init__(
        self,
        encoder,
        image_shape=(28, 28, 1),
        decoder_filters=64,
        kl_weight=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.image_shape = tuple(int(d) for d in image_shape)
        self.decoder_filters = decoder_filters
        self.kl_weight = kl_weight
        self.seed = seed
        size, _, channels = self.image_shape
        self.base_size = math.ceil(size / 4)  # s
        # ------ Layers
        self.project = keras.layers.Dense(
            self.base_size * self.base_size * decoder_filters, activation="relu",
            name="project", dtype=self.dtype_policy,
        )
        self.upsample = [
            keras.layers.Conv2DTranspose(
                decoder_filters, 3, strides=2, padding="same", activation="relu",
                name=f"upsample{i}", dtype=self.dtype_policy,
            )
            for i in range(2)
        ]
        self.logits_conv = keras.layers.Conv2D(
            channels, 3, padding="same", name="logits", dtype=self.dtype_policy
        )
        # ------ State
        self.init_trackers()

    def build(self, input_shape):
        # The trainer passes ((images), (stroke5)) shapes; a bare images shape works too.
        nested = isinstance(input_shape[0], (list, tuple))
        images_shape = tuple(input_shape[0] if nested else input_shape)  # (B, S, S, C)
        given = images_shape[1:]
        if len(given) != 3 or any(d not in (None, e) for d, e in zip(given, self.image_shape)):
            raise ValueError(
                f"ConvVAE was made for images {self.image_shape}, built with {given}"
            )
        # A deserialised encoder arrives built (from its own build config).
        if not self.encoder.built:
            self.encoder.build(images_shape)
        batch, size, filters = images_shape[0], self.base_size, self.decoder_filters
        self.project.build((batch, self.encoder.embedding_dim))
        for layer in self.upsample:
            layer.build((batch, size, size, filters))
            size *= 2
        self.logits_conv.build((batch,) + self.image_shape[:2] + (filters,))

    def decode(self, z):
        """Ink logits ``[B, S, S, C]`` (float32) from embeddings ``z [B, Z]``."""
        size, filters, image_size = self.base_size, self.decoder_filters, self.image_shape[0]
        x = self.project(z)  # [B, s * s * F]
        x = tf.reshape(x, [-1, size, size, filters])  # [B, s, s, F]
        for layer in self.upsample:
            x = layer(x)  # [B, 2s, 2s, F], then [B, 4s, 4s, F]
        start = (4 * size - image_size) // 2
        x = x[:, start:start + image_size, start:start + image_size]  # [B, S, S, F]
        return tf.cast(self.logits_conv(x), tf.float32)  # [B, S, S, C]

    def call(self, inputs, training=False):
        images = inputs[0] if isinstance(inputs, (list, tuple)) else inputs  # [B, S, S, C]
        z, _, _ = self.encoder(images, training=training)  # [B, Z]
        return self.decode(z)  # [B, S, S, C]

    def embed(self, images):
        """The embedding used downstream: the encoder mean ``mu`` ``[B, Z]`` (inference)."""
        return tf.cast(self.encoder(images, training=False)[1], tf.float32)

    def reconstruct(self, images):
        """Images ``[B, S, S, C]`` uint8 (white background) decoded from ``mu`` (inference)."""
        mu = self.encoder(images, training=False)[1]  # [B, Z]
        ink = tf.sigmoid(self.decode(mu))  # [B, S, S, C], 0..1
        return tf.cast(tf.round(255.0 * (1.0 - ink)), tf.uint8)

    def compute_losses(self, images, stroke5=None, alpha=None, training=False, per_example=False):
        """All loss terms for a batch.

        Args:
          images: ``[B, S, S, C]`` raw images, 0..255, white background (float or uint8).
          stroke5: ignored (the trainer passes it).
          alpha: ignored (the trainer passes it).
          training: model mode (z sampled, BatchNorm batch statistics).
          per_example: return ``[B]`` vectors instead of batch means.

        Returns:
          dict with ``loss`` (the total), ``recon`` and ``kl``, all float32.
        """
        del stroke5, alpha  # A pixel VAE has no strokes and no pixel-loss curriculum.
        z, mu, logvar = self.encoder(images, training=training)  # [B, Z] each
        logits = self.decode(z)  # [B, S, S, C]
        ink = 1.0 - tf.cast(images, tf.float32) / 255.0  # [B, S, S, C], 1 = ink
        num_pixels = float(self.image_shape[0] * self.image_shape[1])
        bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=ink, logits=logits)  # [B,S,S,C]
        recon = tf.reduce_sum(bce, axis=[1, 2, 3]) / num_pixels  # [B]
        kl = losses.kl_divergence(
            tf.cast(mu, tf.float32), tf.cast(logvar, tf.float32)
        ) / num_pixels  # [B]
        total = recon + self.kl_weight * kl  # [B]
        terms = dict(loss=total, recon=recon, kl=kl)
        if per_example:
            return terms
        return {name: tf.reduce_mean(value) for name, value in terms.items()}

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            image_shape=list(self.image_shape),
            decoder_filters=self.decoder_filters,
            kl_weight=self.kl_weight,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)

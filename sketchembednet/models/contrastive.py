"""ContrastiveEmbedNet: the contrastive baseline (InfoNCE between image and sketch)."""

import keras
import tensorflow as tf

from sketchembednet import losses
from sketchembednet.models.fit_support import LossTermsFitMixin



def _offset(seed, index):
    return None if seed is None else seed + index


def _glorot(seed, index):
    """Glorot-uniform (Keras' default) with seed ``seed + index``; unseeded for None."""
    return keras.initializers.GlorotUniform(seed=_offset(seed, index))


@keras.saving.register_keras_serializable(package="sketchembednet")
class ContrastiveEmbedNet(LossTermsFitMixin, keras.Model):
    """The contrastive baseline of SketchEmbedNet: InfoNCE between the CNN image
    embedding and an RNN embedding of the sketch (Wang et al., ICML 2021, Sec. 5).

    The image embedding is the encoder mean ``mu`` (also in training: ``training`` only
    switches BatchNorm, and the ``logvar`` head is unused). The sketch embedding is the
    final state of a unidirectional ``keras.layers.LSTM(rnn_units)`` over the stroke-5
    rows 1..T, masked to each sketch's real rows (their number is the count of rows
    whose ``p3 < 0.5``; end rows are not all-zero, so ``keras.layers.Masking`` would not
    do). An example's sketch embedding therefore does not depend on its batch's
    padding (length bucketing is safe). Two SimCLR projection heads
    (``Dense(width) -> ReLU -> Dense(projection_dim)``, width = the input's width) map
    both into a shared space; after L2 normalisation ``logits = cos / temperature``
    (``[B, B]``, rows: images, columns: sketches). The loss is CLIP's symmetric InfoNCE,
    per example ``0.5 * (CE_image->sketch + CE_sketch->image)`` with the matching pair
    as the label; ``accuracy`` is 1 where the matching sketch is the row's argmax. The
    math is ``losses.cosine_logits`` and ``losses.symmetric_info_nce``, shared with
    SketchEmbedNet's optional auxiliary contrastive term.

    The negatives are the other pairs of the batch: under a distribution strategy each
    replica contrasts within its own (per-replica) batch. Logits and losses are float32
    under a ``mixed_bfloat16`` policy. ``train_step`` / ``test_step`` make ``fit`` work;
    they report ``total_loss`` and ``accuracy``.

    Args:
      encoder: ``Conv4Encoder`` or ``ResNet12Encoder`` (returns ``(z, mu, logvar)``).
      rnn_units: LSTM units of the sketch encoder.
      projection_dim: size of the shared space.
      temperature: softmax temperature (fixed).
      seed: optional int seed for the initialisers of the LSTM and the heads (the
        encoder has its own).
      **kwargs: forwarded to ``keras.Model``.

    Call arguments:
      inputs: ``(images [B, S, S, C], stroke5 [B, T + 1, 5])``.
      training: BatchNorm mode of the encoder.

    Returns:
      float32 logits ``[B, B]``.

    Example:
      >>> from sketchembednet.models import presets
      >>> model = ContrastiveEmbedNet(presets.build_encoder("conv4", 8, 16), rnn_units=16)
      >>> images, stroke5 = tf.zeros([2, 28, 28, 1]), tf.zeros([2, 9, 5])
      >>> model((images, stroke5)).shape
      TensorShape([2, 2])
      >>> sorted(model.compute_losses(images, stroke5))
      ['accuracy', 'loss']

    Reference:
      Wang, Lucas, Zemel et al., "SketchEmbedNet", ICML 2021, arXiv:2009.04806 (baselines);
      van den Oord et al. 2018 (InfoNCE), arXiv:1807.03748; Chen et al. 2020 (SimCLR
      heads), arXiv:2002.05709; Radford et al. 2021 (CLIP, symmetric loss),
      arXiv:2103.00020.
    """

    loss_terms = ("loss", "accuracy")
    metric_names = ("total_loss", "accuracy")  # what fit reports

    def __init__(
        self, encoder, rnn_units=256, projection_dim=128, temperature=0.1, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.rnn_units = rnn_units
        self.projection_dim = projection_dim
        self.temperature = temperature
        self.seed = seed
        # ------ Layers
        self.sketch_rnn = keras.layers.LSTM(
            rnn_units, kernel_initializer=_glorot(seed, 0),
            recurrent_initializer=keras.initializers.Orthogonal(seed=_offset(seed, 1)),
            name="sketch_rnn", dtype=self.dtype_policy,
        )
        width = encoder.embedding_dim
        self.image_hidden = keras.layers.Dense(
            width, activation="relu", kernel_initializer=_glorot(seed, 2), name="image_hidden",
            dtype=self.dtype_policy,
        )
        self.image_projection = keras.layers.Dense(
            projection_dim, kernel_initializer=_glorot(seed, 3), name="image_projection",
            dtype=self.dtype_policy,
        )
        self.sketch_hidden = keras.layers.Dense(
            rnn_units, activation="relu", kernel_initializer=_glorot(seed, 4), name="sketch_hidden",
            dtype=self.dtype_policy,
        )
        self.sketch_projection = keras.layers.Dense(
            projection_dim, kernel_initializer=_glorot(seed, 5), name="sketch_projection",
            dtype=self.dtype_policy,
        )
        # ------ State
        self.init_trackers()

    def build(self, input_shape):
        images_shape, stroke5_shape = input_shape
        # A deserialised encoder arrives built (from its own build config).
        if not self.encoder.built:
            self.encoder.build(tuple(images_shape))
        steps = None if stroke5_shape[1] is None else stroke5_shape[1] - 1
        self.sketch_rnn.build((stroke5_shape[0], steps, stroke5_shape[2]))
        width = self.encoder.embedding_dim
        self.image_hidden.build((None, width))
        self.image_projection.build((None, width))
        self.sketch_hidden.build((None, self.rnn_units))
        self.sketch_projection.build((None, self.rnn_units))

    def embed(self, images):
        """The embedding used downstream: the encoder mean ``mu`` ``[B, Z]`` (inference)."""
        return self.encoder(images, training=False)[1]

    def embed_sketch(self, stroke5, training=False):
        """The LSTM's final state over each sketch's real rows.

        Args:
          stroke5: ``[B, T + 1, 5]`` (row 0, the start token, is skipped).
          training: layer mode (the LSTM has no dropout; kept for symmetry).

        Returns:
          float32 ``[B, rnn_units]``, independent of the padding after the real rows.
        """
        rows = tf.cast(stroke5[:, 1:], tf.float32)  # [B, T, 5]
        lengths = tf.reduce_sum(tf.cast(rows[..., 4] < 0.5, tf.int32), axis=1)  # [B]
        mask = tf.sequence_mask(lengths, tf.shape(rows)[1])  # [B, T]
        state = self.sketch_rnn(rows, mask=mask, training=training)  # [B, H]
        return tf.cast(state, tf.float32)

    def call(self, inputs, training=False):
        images, stroke5 = inputs
        _, mu, _ = self.encoder(images, training=training)  # [B, Z]
        sketch = self.embed_sketch(stroke5, training=training)  # [B, H]
        image_proj = self.image_projection(self.image_hidden(mu))  # [B, P]
        sketch_proj = self.sketch_projection(self.sketch_hidden(sketch))  # [B, P]
        return losses.cosine_logits(image_proj, sketch_proj, self.temperature)  # [B, B]

    def compute_losses(self, images, stroke5, alpha=None, training=False, per_example=False):
        """Symmetric InfoNCE and retrieval accuracy for a batch of matching pairs.

        The other pairs of the batch are the negatives; under a distribution strategy
        each replica contrasts within its own batch.

        Args:
          images: ``[B, S, S, C]`` float images in 0..255.
          stroke5: ``[B, T + 1, 5]`` sketches; pair i is ``(images[i], stroke5[i])``.
          alpha: ignored (the drawing models' pixel weight; accepted for the trainer).
          training: model mode (BatchNorm batch statistics).
          per_example: return ``[B]`` vectors instead of batch means.

        Returns:
          dict of float32 ``loss`` (``0.5 * (CE_i2s + CE_s2i)``) and ``accuracy`` (1 where
          the image's matching sketch has the largest logit).
        """
        del alpha
        logits = self((images, stroke5), training=training)  # [B, B]
        loss, accuracy = losses.symmetric_info_nce(logits)  # [B] each
        terms = dict(loss=loss, accuracy=accuracy)
        if per_example:
            return terms
        return {name: tf.reduce_mean(value) for name, value in terms.items()}

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            rnn_units=self.rnn_units,
            projection_dim=self.projection_dim,
            temperature=self.temperature,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)

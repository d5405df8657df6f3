"""ResNet12Encoder: the ResNet-12 image encoder of SketchEmbedNet."""

import keras
import tensorflow as tf

from sketchembednet.layers.gaussian_embedding import GaussianEmbedding
from sketchembednet.layers.resnet12_block import ResNet12Block


@keras.saving.register_keras_serializable(package="sketchembednet")
class ResNet12Encoder(keras.Model):
    """ResNet-12 backbone (4 residual stages, global average pool) + embedding heads.

    Stages of ``ResNet12Block`` with ``filters`` channels (64-128-256-512), each halving
    the resolution, then global average pooling (512-d) and ``GaussianEmbedding``.
    Images go in raw (uint8 or float 0..255, any channels), as for ``Conv4Encoder``.

    Args:
      filters: channels per stage.
      embedding_dim: D (256).
      seed: optional int seed for the reparameterisation noise.
      **kwargs: forwarded to ``keras.Model``.

    Call arguments:
      images: ``[B, S, S, C]``.
      training: sample z and use batch statistics.

    Returns:
      ``(z, mu, logvar)``, each ``[B, D]``.

    Example:
      >>> encoder = ResNet12Encoder(filters=(4, 8), embedding_dim=16)
      >>> encoder(tf.zeros([2, 28, 28, 1]))[0].shape
      TensorShape([2, 16])

    Reference:
      Oreshkin et al. 2018 (TADAM), Lee et al. 2019 (MetaOptNet); Wang et al. 2021, Sec. 4.
    """

    def __init__(self, filters=(64, 128, 256, 512), embedding_dim=256, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = tuple(filters)
        self.embedding_dim = embedding_dim
        self.seed = seed
        # ------ Layers
        self.blocks = [
            ResNet12Block(f, name=f"block{i}", dtype=self.dtype_policy)
            for i, f in enumerate(self.filters)
        ]
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool", dtype=self.dtype_policy)
        self.embedding = GaussianEmbedding(embedding_dim, seed=seed, name="embedding")

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.embedding.build((shape[0], self.filters[-1]))

    def call(self, images, training=False):
        x = tf.cast(images, self.compute_dtype)  # [B, S, S, C], 0..255
        for block in self.blocks:
            x = block(x, training=training)  # [B, S / 2^k, S / 2^k, F_k]
        features = self.pool(x)  # [B, F]
        return self.embedding(features, training=training)  # 3 x [B, D]

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=list(self.filters), embedding_dim=self.embedding_dim, seed=self.seed
        )
        return config

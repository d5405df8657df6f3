"""Conv4Encoder: the 4-block convolutional image encoder of SketchEmbedNet."""

import keras
import tensorflow as tf

from sketchembednet.layers.conv_block import ConvBlock
from sketchembednet.layers.gaussian_embedding import GaussianEmbedding


@keras.saving.register_keras_serializable(package="sketchembednet")
class Conv4Encoder(keras.Model):
    """Conv4 backbone (4 x [3x3 conv 64, BN, ReLU, max-pool], global average pool) + heads.

    Images go in raw: uint8 or float in 0..255, white background, black ink, any number
    of channels; they are only cast to float (BatchNorm absorbs the scale, as in the
    paper and the authors' code). With 64 features, the 256-d embedding is a linear map
    of a 64-d vector (rank <= 64), as in the paper.

    Args:
      filters: channels of every block (64).
      num_blocks: number of ConvBlocks (4).
      embedding_dim: D (256).
      seed: optional int seed for the reparameterisation noise.
      **kwargs: forwarded to ``keras.Model``.

    Call arguments:
      images: ``[B, S, S, C]``.
      training: sample z and use batch statistics.

    Returns:
      ``(z, mu, logvar)``, each ``[B, D]``.

    Example:
      >>> encoder = Conv4Encoder(filters=8, embedding_dim=16)
      >>> z, mu, logvar = encoder(tf.zeros([2, 28, 28, 1], tf.uint8))
      >>> z.shape
      TensorShape([2, 16])

    Reference:
      Vinyals et al. 2016 (Matching Networks), Snell et al. 2017; Wang et al. 2021, Sec. 4.
    """

    def __init__(self, filters=64, num_blocks=4, embedding_dim=256, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.num_blocks = num_blocks
        self.embedding_dim = embedding_dim
        self.seed = seed
        # ------ Layers
        self.blocks = [
            ConvBlock(filters, name=f"block{i}", dtype=self.dtype_policy)
            for i in range(num_blocks)
        ]
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool", dtype=self.dtype_policy)
        self.embedding = GaussianEmbedding(embedding_dim, seed=seed, name="embedding")

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.embedding.build((shape[0], self.filters))

    def call(self, images, training=False):
        x = tf.cast(images, self.compute_dtype)  # [B, S, S, C], 0..255
        for block in self.blocks:
            x = block(x, training=training)  # [B, S / 2^k, S / 2^k, F]
        features = self.pool(x)  # [B, F]
        return self.embedding(features, training=training)  # 3 x [B, D]

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            num_blocks=self.num_blocks,
            embedding_dim=self.embedding_dim,
            seed=self.seed,
        )
        return config

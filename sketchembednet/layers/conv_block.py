"""ConvBlock: one Conv4 stage, [3x3 conv, BatchNorm, ReLU, 2x2 max-pool]."""

import keras


@keras.saving.register_keras_serializable(package="sketchembednet")
class ConvBlock(keras.layers.Layer):
    """3x3 convolution (SAME) -> BatchNorm -> ReLU -> 2x2 max-pool (VALID).

    The Conv4 block of Vinyals et al. 2016 / Snell et al. 2017, as in the SketchEmbedNet
    authors' ``EncoderBlock4``: 28 -> 14 -> 7 -> 3 -> 1 over four blocks. The convolution
    has a bias and Glorot-normal init (the authors'); BatchNorm uses Keras defaults.

    Args:
      filters: output channels (64 in Conv4).
      **kwargs: forwarded to ``keras.layers.Layer``.

    Call arguments:
      inputs: ``[B, H, W, C]``.
      training: BatchNorm mode.

    Returns:
      ``[B, H // 2, W // 2, filters]``.

    Example:
      >>> ConvBlock(filters=8)(keras.ops.zeros((2, 28, 28, 1))).shape
      TensorShape([2, 14, 14, 8])

    Reference:
      Vinyals et al., "Matching Networks for One Shot Learning", NeurIPS 2016;
      reference_notes.md Sec. 1 (``EncoderBlock4``).
    """

    def __init__(self, filters=64, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        # ------ Layers
        self.conv = keras.layers.Conv2D(
            filters, 3, padding="same", kernel_initializer="glorot_normal", name="conv",
            dtype=self.dtype_policy,
        )
        self.norm = keras.layers.BatchNormalization(name="norm", dtype=self.dtype_policy)
        self.pool = keras.layers.MaxPooling2D(
            2, padding="valid", name="pool", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.norm.build(tuple(input_shape[:-1]) + (self.filters,))

    def call(self, inputs, training=False):
        x = self.conv(inputs)  # [B, H, W, F]
        x = keras.activations.relu(self.norm(x, training=training))  # [B, H, W, F]
        return self.pool(x)  # [B, H // 2, W // 2, F]

    def compute_output_shape(self, input_shape):
        batch, height, width = input_shape[:3]
        half = [None if d is None else d // 2 for d in (height, width)]
        return (batch, half[0], half[1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters)
        return config

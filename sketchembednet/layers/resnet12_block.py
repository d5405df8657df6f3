"""ResNet12Block: one stage of the ResNet-12 encoder."""

import keras


@keras.saving.register_keras_serializable(package="sketchembednet")
class ResNet12Block(keras.layers.Layer):
    """Residual block of ResNet-12 as in the SketchEmbedNet authors' code.

    Three [3x3 conv (SAME, no bias), BatchNorm, ReLU] units (the ReLU also follows the
    third unit, before the add), a [1x1 conv, BatchNorm] shortcut, the add, a 2x2
    max-pool (SAME) and a final ReLU; no DropBlock. The paper gives no block details, so
    this follows ``reference_notes.md`` Sec. 1. (The common TADAM / MetaOptNet block has
    no ReLU before the add and uses LeakyReLU; the difference is noted, not adopted.)

    Args:
      filters: output channels (64, 128, 256, 512 over the four stages).
      **kwargs: forwarded to ``keras.layers.Layer``.

    Call arguments:
      inputs: ``[B, H, W, C]``.
      training: BatchNorm mode.

    Returns:
      ``[B, ceil(H / 2), ceil(W / 2), filters]``.

    Example:
      >>> ResNet12Block(filters=8)(keras.ops.zeros((2, 28, 28, 1))).shape
      TensorShape([2, 14, 14, 8])

    Reference:
      Oreshkin et al., "TADAM", NeurIPS 2018; reference_notes.md Sec. 1 (ResNet-12).
    """

    def __init__(self, filters=64, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        # ------ Layers
        policy = self.dtype_policy
        self.convs = [
            keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}",
                                dtype=policy)
            for i in range(3)
        ]
        self.norms = [keras.layers.BatchNormalization(name=f"norm{i}", dtype=policy)
                      for i in range(3)]
        self.shortcut_conv = keras.layers.Conv2D(filters, 1, use_bias=False, name="shortcut_conv",
                                                 dtype=policy)
        self.shortcut_norm = keras.layers.BatchNormalization(name="shortcut_norm", dtype=policy)
        self.pool = keras.layers.MaxPooling2D(2, padding="same", name="pool", dtype=policy)

    def build(self, input_shape):
        out_shape = tuple(input_shape[:-1]) + (self.filters,)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            conv.build(input_shape if i == 0 else out_shape)
            norm.build(out_shape)
        self.shortcut_conv.build(input_shape)
        self.shortcut_norm.build(out_shape)

    def call(self, inputs, training=False):
        x = inputs  # [B, H, W, C]
        for conv, norm in zip(self.convs, self.norms):
            x = keras.activations.relu(norm(conv(x), training=training))  # [B, H, W, F]
        shortcut = self.shortcut_norm(self.shortcut_conv(inputs), training=training)  # [B,H,W,F]
        x = self.pool(x + shortcut)  # [B, ceil(H/2), ceil(W/2), F]
        return keras.activations.relu(x)

    def compute_output_shape(self, input_shape):
        batch, height, width = input_shape[:3]
        half = [None if d is None else (d + 1) // 2 for d in (height, width)]
        return (batch, half[0], half[1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters)
        return config

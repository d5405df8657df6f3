"""GaussianEmbedding: encoder features -> (z, mu, log sigma^2) of the embedding."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="sketchembednet")
class GaussianEmbedding(keras.layers.Layer):
    """Heads for the mean and log-variance of the embedding, with reparameterisation.

    ``mu = Dense(D)(x)``, ``logvar = Dense(D)(x)``; ``z = mu + exp(logvar / 2) * eps`` in
    training and ``z = mu`` at evaluation (Wang et al. 2021, Sec. 3; Kingma & Welling
    2014, eq. 10). The paper trains without a KL term; ``losses.kl_divergence`` of
    ``(mu, logvar)`` is available for ablations.

    Differences from the authors' code: they sampled z at test time as well (few-shot
    evaluation used mu), and initialised both heads with ``RandomNormal(0.001)``, which
    sets the *mean* to 0.001 (std 0.05); here Keras defaults (Glorot-uniform, zero bias).

    Args:
      embedding_dim: D (paper: 256).
      seed: optional int seed for eps.
      **kwargs: forwarded to ``keras.layers.Layer``.

    Call arguments:
      inputs: ``[B, F]`` features.
      training: sample z (True) or return mu (False).

    Returns:
      ``(z, mu, logvar)``, each ``[B, D]``.

    Example:
      >>> layer = GaussianEmbedding(embedding_dim=8)
      >>> z, mu, logvar = layer(tf.ones([2, 4]))
      >>> bool(tf.reduce_all(z == mu)), z.shape
      (True, TensorShape([2, 8]))

    Reference:
      Wang et al. 2021, arXiv:2009.04806, Sec. 3; Kingma & Welling 2014, arXiv:1312.6114.
    """

    def __init__(self, embedding_dim=256, seed=None, **kwargs):
        # float32 even under a mixed policy: z, mu and logvar feed losses and users.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.embedding_dim = embedding_dim
        self.seed = seed
        # ------ Layers
        self.mu_dense = keras.layers.Dense(embedding_dim, name="mu", dtype=self.dtype_policy)
        self.logvar_dense = keras.layers.Dense(
            embedding_dim, name="logvar", dtype=self.dtype_policy
        )
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.mu_dense.build(input_shape)
        self.logvar_dense.build(input_shape)

    def call(self, inputs, training=False):
        mu = self.mu_dense(inputs)  # [B, D]
        logvar = self.logvar_dense(inputs)  # [B, D]
        if not training:
            return mu, mu, logvar
        eps = keras.random.normal(tf.shape(mu), dtype=mu.dtype, seed=self.seed_generator)
        z = mu + tf.exp(0.5 * logvar) * eps  # [B, D]
        return z, mu, logvar

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[:-1]) + (self.embedding_dim,)
        return shape, shape, shape

    def get_config(self):
        config = super().get_config()
        config.update(embedding_dim=self.embedding_dim, seed=self.seed)
        return config

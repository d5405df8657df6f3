"""MixtureDensityHead: decoder output -> M bivariate Gaussians + 3 pen logits.

Layout and activations are sketch-rnn's (Ha & Eck 2018, Sec. 3; Magenta
``get_mixture_coef``, the same as the SketchEmbedNet authors' ``get_mixture_coef``): one
Dense to ``3 + 6M`` values, read as 3 pen logits, then M each of pi logits, mu1, mu2,
log sigma1, log sigma2 and the correlation pre-activation. pi and the pen state are
softmax-normalised (here as log-softmax), sigma = exp(.), rho = tanh(.).

Bounds (ours; neither Magenta nor the authors bound them, they add 1e-6 inside logs):
  * ``log sigma`` is clipped to ``[LOG_SIGMA_MIN, LOG_SIGMA_MAX] = [-7, 7]``, i.e.
    sigma in [9.1e-4, 1097] in normalised offset units (offsets have unit std). Real
    data has many exactly-zero offsets, whose likelihood would otherwise grow without
    bound as sigma -> 0; the log-density of one component is capped at about 12.2.
  * ``rho = RHO_MAX * tanh(.)`` with ``RHO_MAX = 1 - 1e-5``, so ``1 - rho^2 >= 2e-5``.
Together they keep every log-likelihood and its gradients finite in float32.

Initialisation: Keras defaults (Glorot-uniform kernel, zero bias). The authors used
GlorotNormal for the kernel *and* the bias; Magenta TF1's default was Glorot-uniform
for both.

The distribution's math (log-density, sampling) is in :mod:`sketchembednet.layers.mixture`;
:meth:`MixtureDensityHead.log_likelihood` and :meth:`MixtureDensityHead.sample` apply it
to :meth:`MixtureDensityHead.split`.
"""

import keras
import tensorflow as tf

from sketchembednet.layers import mixture

LOG_SIGMA_MIN = -7.0
LOG_SIGMA_MAX = 7.0
RHO_MAX = 1.0 - 1e-5
PARAM_NAMES = ("log_pi", "mu1", "mu2", "log_sigma1", "log_sigma2", "rho")


@keras.saving.register_keras_serializable(package="sketchembednet")
class MixtureDensityHead(keras.layers.Layer):
    """Mixture density output layer for stroke-5 (Bishop 1994; Graves 2013; sketch-rnn).

    ``call`` returns the raw ``3 + 6M`` outputs (one tensor, so the layer composes with
    any Keras model); :meth:`split` turns them into bounded, normalised parameters,
    :meth:`log_likelihood` scores offsets and :meth:`sample` draws stroke-5 rows.

    Args:
      num_mixtures: M, the number of bivariate Gaussians (paper: 30, Magenta: 20).
      **kwargs: forwarded to ``keras.layers.Layer``.

    Call arguments:
      inputs: ``[..., H]`` decoder outputs.

    Returns:
      ``[..., 3 + 6M]`` raw parameters.

    Example:
      >>> head = MixtureDensityHead(num_mixtures=5)
      >>> raw = head(tf.zeros([2, 7, 16]))
      >>> raw.shape, head.split(raw)["rho"].shape
      (TensorShape([2, 7, 33]), TensorShape([2, 7, 5]))

    Reference:
      Graves 2013, arXiv:1308.0850, eq. 18-26; Ha & Eck 2018, Sec. 3.
    """

    def __init__(self, num_mixtures=30, **kwargs):
        # float32 even under a mixed policy: the mixture parameters feed the likelihood.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if num_mixtures < 1:
            raise ValueError(f"num_mixtures must be >= 1, got {num_mixtures}")
        self.num_mixtures = num_mixtures
        # ------ Layers
        self.dense = keras.layers.Dense(3 + 6 * num_mixtures, name="dense", dtype=self.dtype_policy)

    @property
    def output_dim(self):
        return 3 + 6 * self.num_mixtures

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, inputs):
        return self.dense(inputs)  # [..., 3 + 6M]

    def split(self, raw):
        """Bounded, normalised mixture parameters from raw outputs.

        Args:
          raw: ``[..., 3 + 6M]``.

        Returns:
          dict with ``pen_logits [..., 3]`` and ``log_pi, mu1, mu2, log_sigma1,
          log_sigma2, rho``, each ``[..., M]`` (``log_pi`` log-softmax normalised).
        """
        pen_logits = raw[..., :3]  # [..., 3]
        parts = tf.split(raw[..., 3:], 6, axis=-1)  # 6 x [..., M]
        params = dict(zip(PARAM_NAMES, parts))
        params["pen_logits"] = pen_logits
        params["log_pi"] = tf.nn.log_softmax(params["log_pi"], axis=-1)  # [..., M]
        for name in ("log_sigma1", "log_sigma2"):
            params[name] = tf.clip_by_value(params[name], LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        params["rho"] = RHO_MAX * tf.tanh(params["rho"])  # [..., M]
        return params

    def log_likelihood(self, raw, xy):
        """Mixture log-likelihood of offsets (Graves 2013, eq. 23-26, log-sum-exp).

        Args:
          raw: ``[..., 3 + 6M]``.
          xy: ``[..., 2]`` offsets.

        Returns:
          ``[...]``.
        """
        return mixture.mixture_log_prob(self.split(raw), xy)

    def sample(self, raw, temperature=1.0, greedy=False, seed=None):
        """Draws one stroke-5 row per position (sketch-rnn temperature sampling).

        Args:
          raw: ``[B, 3 + 6M]``.
          temperature: tau > 0; pi and pen logits are divided by tau, sigma^2 scaled by it.
          greedy: argmax pi, the component mean, argmax pen.
          seed: int32 ``[2]`` stateless seed (required unless greedy).

        Returns:
          ``[B, 5]`` rows with a one-hot pen state.
        """
        return mixture.sample_mixture(self.split(raw), temperature, greedy, seed)

    def get_config(self):
        config = super().get_config()
        config.update(num_mixtures=self.num_mixtures)
        return config

"""Bivariate-normal mixture math of the stroke offsets, as pure TensorFlow functions.

The distribution that :class:`~sketchembednet.layers.mixture_density_head.MixtureDensityHead`
parameterises, shared by the head, ``sketchembednet.losses`` and
``sketchembednet.sampling``:

* :func:`bivariate_normal_log_prob` and :func:`mixture_log_prob`: log-densities
  ([G13] eq. 23-26, in log space with log-sum-exp);
* :func:`correlated_normal_sample`: ``mu + L eps`` with ``L`` the Cholesky factor of a
  component's covariance (the reparameterisation of the pixel loss, [W21] Sec. 3);
* :func:`sample_mixture`: one stroke-5 row with sketch-rnn's temperature rule ([HE18]
  Sec. 3 / Magenta ``sample``): pi and pen logits are divided by tau, the component
  variances multiplied by tau; ``greedy`` takes the most probable component, its mean
  and the most probable pen state.

Mixture parameters are a dict (see ``MixtureDensityHead.split``) with ``pen_logits
[..., 3]`` and ``log_pi, mu1, mu2, log_sigma1, log_sigma2, rho`` each ``[..., M]``;
``log_pi`` is log-softmax normalised and sigma/rho are already bounded.

References:
  [G13] Graves, "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850:
        eq. 23 (mixture likelihood), 24-25 (bivariate normal), 26 (sequence loss).
  [HE18] Ha & Eck, "A Neural Representation of Sketch Drawings", ICLR 2018,
        arXiv:1704.03477, Sec. 3.
  [W21] Wang, Lucas, Zemel et al., "SketchEmbedNet", ICML 2021, arXiv:2009.04806, Sec. 3.

Example:
  >>> params = dict(log_pi=tf.constant([[0.]]), mu1=tf.constant([[0.]]),
  ...               mu2=tf.constant([[0.]]), log_sigma1=tf.constant([[0.]]),
  ...               log_sigma2=tf.constant([[0.]]), rho=tf.constant([[0.]]))
  >>> round(float(mixture_log_prob(params, tf.constant([[0., 0.]]))[0]), 4)  # -log(2 pi)
  -1.8379
"""

import math

import tensorflow as tf

LOG_2PI = math.log(2.0 * math.pi)


def bivariate_normal_log_prob(x1, x2, mu1, mu2, log_sigma1, log_sigma2, rho):
    """``log N(x1, x2 | mu, sigma, rho)`` of a correlated bivariate normal ([G13] eq. 24-25).

    Computed in log space: with ``n_k = (x_k - mu_k) / sigma_k``, [G13]'s
    ``Z / (1 - rho^2)`` is rewritten as ``(n1 - rho n2)^2 / (1 - rho^2) + n2^2`` (no
    cancellation) and ``1 - rho^2`` as ``(1 - rho)(1 + rho)``.

    Args:
      x1, x2: values, broadcastable to the parameters.
      mu1, mu2, log_sigma1, log_sigma2, rho: parameters, ``|rho| < 1``.

    Returns:
      Log densities with the broadcast shape.
    """
    n1 = (x1 - mu1) * tf.exp(-log_sigma1)  # [..., M]
    n2 = (x2 - mu2) * tf.exp(-log_sigma2)  # [..., M]
    one_minus_rho2 = (1.0 - rho) * (1.0 + rho)  # [..., M]
    z_scaled = tf.square(n1 - rho * n2) / one_minus_rho2 + tf.square(n2)  # [..., M]
    return (
        -LOG_2PI - log_sigma1 - log_sigma2 - 0.5 * tf.math.log(one_minus_rho2) - 0.5 * z_scaled
    )  # [..., M]


def mixture_log_prob(params, xy):
    """``log sum_j pi_j N(xy | mu_j, sigma_j, rho_j)`` by log-sum-exp ([G13] eq. 23, 26).

    Args:
      params: mixture parameter dict, each component tensor ``[..., M]``.
      xy: offsets ``[..., 2]``.

    Returns:
      ``[...]`` log-likelihoods.
    """
    x1, x2 = xy[..., 0:1], xy[..., 1:2]  # [..., 1] each
    log_n = bivariate_normal_log_prob(
        x1, x2, params["mu1"], params["mu2"], params["log_sigma1"], params["log_sigma2"],
        params["rho"],
    )  # [..., M]
    return tf.reduce_logsumexp(params["log_pi"] + log_n, axis=-1)  # [...]


def correlated_normal_sample(mu1, mu2, sigma1, sigma2, rho, noise):
    """``mu + L eps`` for a bivariate normal, ``L`` the Cholesky factor of its covariance.

    ``L = [[s1, 0], [rho s2, sqrt(1 - rho^2) s2]]`` (the reparameterisation used by
    [W21]'s pixel loss and, with temperature, by sketch-rnn's ``sample_gaussian_2d``).

    Args:
      mu1, mu2, sigma1, sigma2, rho: ``[...]``, ``|rho| < 1``.
      noise: standard normal ``[..., 2]``.

    Returns:
      ``[..., 2]`` samples.
    """
    e1, e2 = noise[..., 0], noise[..., 1]  # [...] each
    x1 = mu1 + sigma1 * e1  # [...]
    x2 = mu2 + sigma2 * (rho * e1 + tf.sqrt((1.0 - rho) * (1.0 + rho)) * e2)  # [...]
    return tf.stack([x1, x2], axis=-1)  # [..., 2]


def sample_mixture(params, temperature=1.0, greedy=False, seed=None):
    """One stroke-5 row per batch element from mixture parameters.

    Args:
      params: mixture parameter dict (``MixtureDensityHead.split``) of ``[B, M]`` tensors
        and ``pen_logits [B, 3]``.
      temperature: tau > 0 (values below 1e-3 are raised to 1e-3).
      greedy: argmax pi, the component mean and argmax pen (``seed`` unused).
      seed: int32 ``[2]`` stateless seed; required unless greedy.

    Returns:
      ``[B, 5]`` rows ``(dx, dy, p1, p2, p3)`` with a one-hot pen state.

    Raises:
      ValueError: if ``seed`` is None and ``greedy`` is False.

    Example:
      >>> params = dict(pen_logits=tf.constant([[5., 0., 0.]]), log_pi=tf.constant([[0.]]),
      ...               mu1=tf.constant([[1.]]), mu2=tf.constant([[2.]]),
      ...               log_sigma1=tf.constant([[0.]]), log_sigma2=tf.constant([[0.]]),
      ...               rho=tf.constant([[0.]]))
      >>> sample_mixture(params, greedy=True).numpy().tolist()
      [[1.0, 2.0, 1.0, 0.0, 0.0]]
    """
    log_pi, pen_logits = params["log_pi"], params["pen_logits"]  # [B, M], [B, 3]
    num_mixtures = log_pi.shape[-1]
    if greedy:
        component = tf.argmax(log_pi, axis=-1)  # [B]
        pen = tf.argmax(pen_logits, axis=-1)  # [B]
    else:
        if seed is None:
            raise ValueError("sample_mixture: a stateless seed is required unless greedy=True")
        seeds = tf.random.experimental.stateless_split(seed, 3)  # [3, 2]
        tau = tf.maximum(tf.cast(temperature, log_pi.dtype), 1e-3)
        component = tf.random.stateless_categorical(log_pi / tau, 1, seeds[0])[:, 0]  # [B]
        pen = tf.random.stateless_categorical(pen_logits / tau, 1, seeds[1])[:, 0]  # [B]
    one_hot = tf.one_hot(component, num_mixtures, dtype=log_pi.dtype)  # [B, M]

    def pick(name):
        return tf.reduce_sum(one_hot * params[name], axis=-1)  # [B]

    if greedy:
        xy = tf.stack([pick("mu1"), pick("mu2")], axis=-1)  # [B, 2]
    else:
        scale = tf.sqrt(tau)  # sigma^2 * tau
        shape = tf.concat([tf.shape(log_pi)[:-1], [2]], axis=0)
        noise = tf.random.stateless_normal(shape, seeds[2], dtype=log_pi.dtype)  # [B, 2]
        xy = correlated_normal_sample(
            pick("mu1"), pick("mu2"), tf.exp(pick("log_sigma1")) * scale,
            tf.exp(pick("log_sigma2")) * scale, pick("rho"), noise,
        )  # [B, 2]
    return tf.concat([xy, tf.one_hot(pen, 3, dtype=xy.dtype)], axis=-1)  # [B, 5]

"""SketchEmbedNet losses as pure functions, each citing the equation it implements.

References:
  [G13] Graves, "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850:
        eq. 23 (mixture likelihood), 24-25 (bivariate normal), 26 (sequence loss).
  [HE18] Ha & Eck, "A Neural Representation of Sketch Drawings", ICLR 2018,
        arXiv:1704.03477, Sec. 3: the mixture p(dx, dy), the pen softmax, and the
        reconstruction terms L_s and L_p, both normalised by N_max.
  [W21] Wang, Lucas, Zemel et al., "SketchEmbedNet", ICML 2021, arXiv:2009.04806, Sec. 3:
        L = L_pen + (1 - alpha) L_stroke + alpha L_pixel; the pixel loss compares blurred
        renderings of the teacher-forced prediction and the ground truth.
  [KW14] Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, App. B (KL).
  [O18] van den Oord, Li & Vinyals, "Representation Learning with Contrastive Predictive
        Coding", arXiv:1807.03748, eq. 4 (InfoNCE).
  [C20] Chen et al., "A Simple Framework for Contrastive Learning of Visual
        Representations" (SimCLR), arXiv:2002.05709: cosine similarity / temperature.
  [R21] Radford et al., "Learning Transferable Visual Models From Natural Language
        Supervision" (CLIP), arXiv:2103.00020: the symmetric loss.

Mixture parameters are a dict (see ``MixtureDensityHead.split``) with ``pen_logits
[..., 3]`` and ``log_pi, mu1, mu2, log_sigma1, log_sigma2, rho`` each ``[..., M]``;
``log_pi`` is log-softmax normalised and sigma/rho are already bounded. The mixture's
densities and its reparameterised sample ([G13] eq. 23-26) are in
``sketchembednet.layers.mixture``, shared with the head and with sampling.

Per-example losses are returned as ``[B]`` vectors, so a distributed training loop can
scale them by the global batch size; :func:`total_loss` combines them. The contrastive
loss (:func:`info_nce`) serves the contrastive baseline and SketchEmbedNet's optional
auxiliary term; its negatives are the other examples of the batch it is given.

Differences from the authors' code (``models/drawer.py``), by design:
  * Likelihoods are computed in log space with log-sum-exp over components instead of
    ``-log(sum(pi N) + 1e-6)``; sigma and rho are bounded by the head instead.
  * Non-finite stroke losses are *not* dropped (the original ``boolean_mask(is_finite)``
    hides bugs); bounded parameters keep the loss finite.
  * The pixel term follows the paper's formula for every alpha; the original only added
    it when ``alpha > 0.1`` (effectively from 0.15 because of the float32 comparison).

Example:
  >>> B, T, M = 2, 4, 3
  >>> params = dict(pen_logits=tf.zeros([B, T, 3]), log_pi=tf.nn.log_softmax(tf.zeros([B, T, M])),
  ...               mu1=tf.zeros([B, T, M]), mu2=tf.zeros([B, T, M]),
  ...               log_sigma1=tf.zeros([B, T, M]), log_sigma2=tf.zeros([B, T, M]),
  ...               rho=tf.zeros([B, T, M]))
  >>> target = tf.tile(tf.constant([[[0., 0., 1., 0., 0.]]]), [B, T, 1])
  >>> round(float(stroke_nll(params, target, max_len=T)[0]), 4)  # log(2 pi)
  1.8379
"""

import tensorflow as tf

from sketchembednet.data import rasterize
from sketchembednet.data import strokes
from sketchembednet.layers import mixture

PIXEL_EPSILON = 1e-7  # Keras binary_crossentropy clips predictions to [eps, 1 - eps].


def stroke_nll(params, target, max_len):
    """Offset reconstruction loss L_s ([HE18] Sec. 3, [W21] L_stroke), per example.

    ``L_s = -(1 / N_max) sum_{i <= N_s} log sum_j pi_j N(dx_i, dy_i | ...)``: summed over
    the real steps only (target rows that are not the end token p3), divided by the
    configured maximum length T, not by the true length nor the batch's longest, so an
    example's loss does not depend on how much padding its batch has.

    Args:
      params: mixture parameter dict, ``[B, T', M]`` tensors (T' <= max_len).
      target: ground-truth stroke-5 rows 1..T', ``[B, T', 5]``.
      max_len: the configured T (N_max), a Python number or scalar.

    Returns:
      ``[B]`` losses.
    """
    real = target[..., 4] < 0.5  # [B, T']
    log_p = mixture.mixture_log_prob(params, target[..., :2])  # [B, T']
    log_p = tf.where(real, log_p, tf.zeros_like(log_p))  # [B, T']
    return -tf.reduce_sum(log_p, axis=1) / tf.cast(max_len, log_p.dtype)  # [B]


def mask_through_first_end(target_pen):
    """1.0 for steps up to and including the first end token p3, 0.0 after it.

    Args:
      target_pen: ``[B, T, 3]`` one-hot pen states (p1, p2, p3).

    Returns:
      ``[B, T]`` float mask.
    """
    ended_before = tf.cumsum(target_pen[..., 2], axis=1, exclusive=True) > 0.5  # [B, T]
    return 1.0 - tf.cast(ended_before, target_pen.dtype)  # [B, T]


def pen_cross_entropy(pen_logits, target_pen, max_len, mask_after_end=False):
    """Pen-state loss L_p ([HE18] Sec. 3, [W21] L_pen), per example.

    ``L_p = -(1 / N_max) sum_{i <= N_max} sum_k p_{k,i} log q_{k,i}`` over all positions,
    padding included, as the paper (and Magenta in training). With ``mask_after_end``
    the positions after the first end token are left out (the first end token is still
    predicted), which keeps per-example losses identical when a batch is decoded only to
    its longest sequence; the normaliser stays ``max_len``.

    Args:
      pen_logits: ``[B, T', 3]``.
      target_pen: one-hot ``[B, T', 3]``.
      max_len: the configured T (N_max).
      mask_after_end: leave out positions after the first end token.

    Returns:
      ``[B]`` losses.
    """
    ce = tf.nn.softmax_cross_entropy_with_logits(labels=target_pen, logits=pen_logits)  # [B, T']
    if mask_after_end:
        ce = ce * mask_through_first_end(target_pen)  # [B, T']
    return tf.reduce_sum(ce, axis=1) / tf.cast(max_len, ce.dtype)  # [B]


def reparameterized_offsets(params, noise):
    """Offsets sampled from each step's most probable component ([W21] Sec. 3, pixel loss).

    ``k = argmax_j pi_j``; ``(dx, dy) = mu_k + L_k eps`` with ``L_k`` the Cholesky factor
    of the component covariance: ``dx = mu1 + s1 e1``, ``dy = mu2 + s2 (rho e1 +
    sqrt(1 - rho^2) e2)``. Gradients reach mu, sigma and rho of the chosen component,
    not pi (the argmax is a hard choice).

    Args:
      params: mixture parameter dict, ``[B, T, M]`` tensors.
      noise: standard normal ``[B, T, 2]``.

    Returns:
      ``[B, T, 2]`` offsets.
    """
    num_mixtures = params["log_pi"].shape[-1]
    best = tf.argmax(params["log_pi"], axis=-1)  # [B, T]
    one_hot = tf.one_hot(best, num_mixtures, dtype=noise.dtype)  # [B, T, M]

    def pick(name):
        return tf.reduce_sum(one_hot * params[name], axis=-1)  # [B, T]

    return mixture.correlated_normal_sample(
        pick("mu1"), pick("mu2"), tf.exp(pick("log_sigma1")), tf.exp(pick("log_sigma2")),
        pick("rho"), noise,
    )  # [B, T, 2]


def predicted_stroke5(params, noise):
    """The teacher-forced prediction as stroke-5 for the pixel loss ([W21] Sec. 3).

    Rows: the start token, then ``(reparameterized_offsets, softmax(pen_logits))``.

    Args:
      params: mixture parameter dict, ``[B, T, M]`` tensors and ``pen_logits [B, T, 3]``.
      noise: standard normal ``[B, T, 2]``.

    Returns:
      ``[B, T + 1, 5]``.
    """
    offsets = reparameterized_offsets(params, noise)  # [B, T, 2]
    pen = tf.nn.softmax(params["pen_logits"], axis=-1)  # [B, T, 3]
    body = tf.concat([offsets, pen], axis=-1)  # [B, T, 5]
    start = tf.ones_like(body[:, :1]) * tf.constant(strokes.START_TOKEN, body.dtype)  # [B, 1, 5]
    return tf.concat([start, body], axis=1)  # [B, T + 1, 5]


def pixel_loss(pred_stroke5, target_stroke5, canvas_size, blur_sigma=2.0, blur_size=5,
               mask_after_end=False):
    """Pixel loss L_pixel ([W21] Sec. 3), per example.

    Both sketches are fitted to the canvas with the *ground truth's* bounding-box
    transform, rasterized, blurred (5x5 Gaussian, sigma 2) and compared with binary
    cross-entropy, target = blurred ground truth, prediction clipped to
    ``[1e-7, 1 - 1e-7]``; the mean is over pixels.

    Args:
      pred_stroke5: ``[B, N, 5]`` (start token first; pen probabilities allowed).
      target_stroke5: ``[B, N, 5]`` ground truth.
      canvas_size: S, the input image size (28, or 84 for Sketchy), a Python int.
      blur_sigma: blur standard deviation in pixels.
      blur_size: odd blur kernel size.
      mask_after_end: draw no predicted segment past the ground truth's last point
        (the loss then ignores prediction rows after the ground-truth end token).

    Returns:
      ``[B]`` losses.
    """
    gt_points, gt_segments, gt_valid = rasterize.stroke5_to_points(target_stroke5)  # [B, N, 2]
    pred_points, pred_segments, _ = rasterize.stroke5_to_points(pred_stroke5)  # [B, N, 2]
    if mask_after_end:
        pred_segments = tf.logical_and(pred_segments, gt_valid[:, 1:])  # [B, N - 1]
    scale, offset = rasterize.bbox_transform(gt_points, gt_valid, canvas_size)  # [B,1,1],[B,1,2]
    target = rasterize.rasterize(gt_points * scale + offset, gt_segments, canvas_size)
    pred = rasterize.rasterize(pred_points * scale + offset, pred_segments, canvas_size)
    target = rasterize.gaussian_blur(target, blur_sigma, blur_size)  # [B, S, S, 1]
    pred = rasterize.gaussian_blur(pred, blur_sigma, blur_size)  # [B, S, S, 1]
    pred = tf.clip_by_value(pred, PIXEL_EPSILON, 1.0 - PIXEL_EPSILON)  # [B, S, S, 1]
    bce = -(target * tf.math.log(pred) + (1.0 - target) * tf.math.log(1.0 - pred))  # [B,S,S,1]
    return tf.reduce_mean(bce, axis=[1, 2, 3])  # [B]


def kl_divergence(mu, logvar):
    """``KL(N(mu, exp(logvar)) || N(0, I))`` per example ([KW14] App. B).

    Args:
      mu: ``[B, D]``.
      logvar: ``[B, D]``.

    Returns:
      ``[B]``.
    """
    return 0.5 * tf.reduce_sum(tf.exp(logvar) + tf.square(mu) - 1.0 - logvar, axis=-1)  # [B]


def total_loss(pen, stroke, pixel, alpha, kl=None, kl_weight=0.0):
    """``L = L_pen + (1 - alpha) L_stroke + alpha L_pixel (+ kl_weight KL)`` ([W21] Sec. 3).

    The paper trains without a KL term (``kl_weight = 0``); it is kept for ablations.

    Args:
      pen, stroke, pixel: per-example losses ``[B]`` (``pixel`` may be 0 when alpha is 0).
      alpha: pixel-loss weight in [0, 1] (not trainable).
      kl: optional per-example KL ``[B]``.
      kl_weight: weight of the KL term.

    Returns:
      ``[B]`` total losses.
    """
    alpha = tf.cast(alpha, stroke.dtype)
    total = pen + (1.0 - alpha) * stroke + alpha * pixel  # [B]
    # A Python 0 weight leaves KL out entirely: 0 * inf would be NaN (an untrained
    # encoder in inference mode can give a huge logvar).
    if kl is not None and not (isinstance(kl_weight, (int, float)) and kl_weight == 0):
        total = total + tf.cast(kl_weight, stroke.dtype) * kl  # [B]
    return total


def cosine_logits(a, b, temperature):
    """``cos(a_i, b_j) / temperature`` for every pair, float32 ``[B, B]`` ([O18], [C20]).

    Both inputs are cast to float32 and L2-normalised (SimCLR's projections are compared
    by cosine similarity); rows index ``a``, columns ``b``.

    Args:
      a: ``[B, P]`` (any float dtype).
      b: ``[B, P]``.
      temperature: the softmax temperature (> 0).

    Returns:
      float32 logits ``[B, B]``.

    Example:
      >>> logits = cosine_logits(tf.constant([[1., 0.], [0., 2.]]), tf.constant([[3., 0.],
      ...                        [1., 1.]]), temperature=0.5)
      >>> [[round(float(v), 3) for v in row] for row in logits]
      [[2.0, 1.414], [0.0, 1.414]]
    """
    a = tf.math.l2_normalize(tf.cast(a, tf.float32), axis=-1)  # [B, P]
    b = tf.math.l2_normalize(tf.cast(b, tf.float32), axis=-1)  # [B, P]
    logits = tf.matmul(a, b, transpose_b=True)  # [B, B]
    return logits / tf.cast(temperature, tf.float32)


def symmetric_info_nce(logits):
    """CLIP's symmetric InfoNCE of a ``[B, B]`` logit matrix whose diagonal holds the
    matching pairs, per example ([O18] eq. 4, symmetric as [R21]).

    ``L_i = 0.5 * (CE(row i, label i) + CE(column i, label i))``: the other ``B - 1``
    entries of the row and of the column are the negatives. ``accuracy_i`` is 1 where
    the row's largest logit is the matching one.

    Args:
      logits: float ``[B, B]``.

    Returns:
      ``(loss [B], accuracy [B])``, float32.

    Example:
      >>> loss, accuracy = symmetric_info_nce(tf.zeros([4, 4]))
      >>> round(float(loss[0]), 4), float(accuracy[0])  # log(4); argmax ties pick column 0
      (1.3863, 1.0)
    """
    labels = tf.range(tf.shape(logits)[0])  # [B]
    ce_rows = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)  # [B]
    ce_cols = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels, tf.transpose(logits)
    )  # [B]
    loss = 0.5 * (ce_rows + ce_cols)  # [B]
    hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)  # [B]
    return loss, tf.cast(hits, tf.float32)


def info_nce(a, b, temperature):
    """Symmetric InfoNCE between two batches of paired embeddings ([O18], [C20], [R21]).

    ``symmetric_info_nce(cosine_logits(a, b, temperature))``: pair i is ``(a_i, b_i)``
    and every other element of the batch is a negative. Under a distribution strategy,
    call it per replica: each replica then contrasts within its own batch.

    Args:
      a: ``[B, P]`` projections of the first view (or modality).
      b: ``[B, P]`` projections of the second.
      temperature: the softmax temperature (> 0).

    Returns:
      ``(loss [B], accuracy [B])``, float32.

    Example:
      >>> a = tf.constant([[1., 0.], [0., 1.]])
      >>> loss, accuracy = info_nce(a, a, temperature=0.1)  # matching pairs far apart
      >>> round(float(loss[0]), 5), accuracy.numpy().tolist()
      (5e-05, [1.0, 1.0])
    """
    return symmetric_info_nce(cosine_logits(a, b, temperature))

"""Element-wise kernels of :class:`~sketchembednet.layers.hyper_lstm_cell.HyperLSTMCell`.

Pure TensorFlow functions, no Keras state: grouped layer normalisation (Ba et al. 2016,
eq. 4, per gate as Magenta's ``layer_norm_all``), its written-out gradient, and the two
``tf.custom_gradient`` kernels of the cell's fast :meth:`HyperLSTMCell.step`:

* :func:`ln_lstm_update`: the LN-LSTM update (Ba et al. 2016, eq. 20-22) whose backward
  pass recomputes the element-wise intermediates from its inputs.
* :func:`modulate`: the hyper-norm modulation of the main cell's pre-activation (Ha et
  al. 2017, the vectors d(z)) whose backward pass recomputes the two scale vectors.

Both keep only their inputs between the forward and the backward pass, instead of the
``[B, 4H]`` intermediates that automatic differentiation would keep per time step
(``sketchembednet/models/README.md`` gives the measured memory savings).

Example (the written-out layer-norm gradient equals automatic differentiation):
  >>> x = tf.constant([[1., 2., 4., 8., 16., 32.]])
  >>> with tf.GradientTape() as tape:
  ...     tape.watch(x)
  ...     x_hat, rstd = normalize(x, num_groups=2)
  ...     loss = tf.reduce_sum(tf.sin(x_hat))
  >>> manual = normalize_grad(tf.cos(x_hat), x_hat, rstd, num_groups=2)
  >>> bool(tf.reduce_max(tf.abs(tape.gradient(loss, x) - manual)) < 1e-5)
  True
"""

import tensorflow as tf

LAYER_NORM_EPSILON = 1e-3  # Magenta's layer_norm / layer_norm_all.


def layer_norm(x, gamma, beta, num_groups):
    """Layer-normalises ``num_groups`` equal slices of the last axis separately.

    Ba et al. 2016, eq. 4, applied per gate as Magenta's ``layer_norm_all``:
    ``(x - mean) / sqrt(var + LAYER_NORM_EPSILON) * gamma + beta`` per group.

    Args:
      x: ``[B, G * H]``.
      gamma: ``[G * H]`` gain.
      beta: ``[G * H]`` shift.
      num_groups: G.

    Returns:
      ``[B, G * H]``.

    Example:
      >>> y = layer_norm(tf.constant([[0., 2., 5., 5.]]), tf.ones([4]), tf.zeros([4]), 2)
      >>> [round(float(v), 3) for v in y[0]]  # (0, 2): +-1 / sqrt(1 + 1e-3); (5, 5): 0
      [-1.0, 1.0, 0.0, 0.0]
    """
    x_hat, _ = normalize(x, num_groups)
    return x_hat * gamma + beta  # [B, G * H]


def normalize(x, num_groups):
    """``(x_hat [B, G * H], rstd [B, G, 1])``: per-group zero mean, unit variance."""
    width = x.shape[-1]
    grouped = tf.reshape(x, [-1, num_groups, width // num_groups])  # [B, G, H]
    mean, var = tf.nn.moments(grouped, axes=[2], keepdims=True)  # [B, G, 1] each
    rstd = tf.math.rsqrt(var + LAYER_NORM_EPSILON)  # [B, G, 1]
    return tf.reshape((grouped - mean) * rstd, [-1, width]), rstd


def normalize_grad(d_x_hat, x_hat, rstd, num_groups):
    """Gradient of :func:`normalize` w.r.t. x: ``rstd (g - mean(g) - x_hat mean(g x_hat))``."""
    width = x_hat.shape[-1]
    g = tf.reshape(d_x_hat, [-1, num_groups, width // num_groups])  # [B, G, H]
    x_hat = tf.reshape(x_hat, [-1, num_groups, width // num_groups])  # [B, G, H]
    dx = rstd * (
        g - tf.reduce_mean(g, axis=2, keepdims=True)
        - x_hat * tf.reduce_mean(g * x_hat, axis=2, keepdims=True)
    )  # [B, G, H]
    return tf.reshape(dx, [-1, width])


def ln_lstm_update(pre, c, gamma, beta, c_gamma, c_beta, forget_bias):
    """The cell's LN-LSTM update (no dropout) with a gradient that keeps only ``pre``, ``c``.

    The same values as the plain update of ``HyperLSTMCell.reference_step`` (Ba et al. 2016,
    eq. 20-22): ``c' = c sigmoid(f + forget_bias) + sigmoid(i) tanh(j)``,
    ``h' = tanh(LN(c')) sigmoid(o)`` with the gates ``i, j, f, o`` of ``LN(pre)``.

    Automatic differentiation keeps about eight ``[B, H]``-to-``[B, 4H]`` intermediates
    (normalised values, gate activations, products) per call, that is per time step,
    for the whole sequence. Here the backward pass recomputes them from ``pre`` and
    ``c`` (element-wise work only, no matmul) and applies the chain rule by hand. For
    the paper's model at B = 256, first writing out the layer norms' gradient and then
    fusing this whole update cut the training step's peak RSS by 1.1 and 0.4 GiB
    (``tools/bench.py``).

    Args:
      pre: ``[B, 4H]`` gate pre-activations (gate order i, j, f, o).
      c: ``[B, H]`` previous cell state.
      gamma, beta: ``[4H]`` per-gate layer-norm gain and shift.
      c_gamma, c_beta: ``[H]`` layer-norm gain and shift of the cell state.
      forget_bias: added to the forget gate.

    Returns:
      ``(h [B, H], c [B, H])``.

    Example:
      >>> h, c = ln_lstm_update(tf.zeros([1, 8]), tf.zeros([1, 2]), tf.ones([8]),
      ...                       tf.zeros([8]), tf.ones([2]), tf.zeros([2]), forget_bias=1.0)
      >>> c.numpy().tolist(), h.numpy().tolist()  # c' = sigmoid(0) tanh(0) = 0
      ([[0.0, 0.0]], [[0.0, 0.0]])
    """
    gamma, beta, c_gamma, c_beta = (tf.convert_to_tensor(v) for v in (gamma, beta, c_gamma,
                                                                       c_beta))

    def forward(pre, c):
        return _ln_lstm_forward(pre, c, gamma, beta, c_gamma, c_beta, forget_bias)

    @tf.custom_gradient
    def update(pre, c, gamma, beta, c_gamma, c_beta):
        new_h, new_c, _ = forward(pre, c)

        def grad(d_h, d_c):
            saved = forward(pre, c)[2]  # recomputed
            d_h = tf.zeros_like(new_h) if d_h is None else d_h
            d_c = tf.zeros_like(new_c) if d_c is None else d_c
            return _ln_lstm_backward(d_h, d_c, c, gamma, c_gamma, saved)

        return (new_h, new_c), grad

    return update(pre, c, gamma, beta, c_gamma, c_beta)


def _ln_lstm_forward(pre, c, gamma, beta, c_gamma, c_beta, forget_bias):
    """:func:`ln_lstm_update`'s values: ``(h, c, saved)``, ``saved`` its intermediates."""
    x_hat, rstd = normalize(pre, 4)  # [B, 4H], [B, 4, 1]
    i, j, f, o = tf.split(x_hat * gamma + beta, 4, axis=-1)  # 4 x [B, H]
    si, g, sf, so = tf.sigmoid(i), tf.tanh(j), tf.sigmoid(f + forget_bias), tf.sigmoid(o)
    new_c = c * sf + si * g  # [B, H]
    c_hat, c_rstd = normalize(new_c, 1)  # [B, H], [B, 1, 1]
    tb = tf.tanh(c_hat * c_gamma + c_beta)  # [B, H]
    return tb * so, new_c, (x_hat, rstd, si, g, sf, so, c_hat, c_rstd, tb)


def _ln_lstm_backward(d_h, d_c, c, gamma, c_gamma, saved):
    """:func:`ln_lstm_update`'s chain rule: gradients w.r.t. ``pre, c, gamma, beta, c_gamma,
    c_beta`` from those w.r.t. ``h, c'`` and the recomputed :func:`_ln_lstm_forward` ``saved``."""
    x_hat, rstd, si, g, sf, so, c_hat, c_rstd, tb = saved
    d_b = d_h * so * (1.0 - tb * tb)  # through h = tanh(b) * so
    d_new_c = d_c + normalize_grad(d_b * c_gamma, c_hat, c_rstd, 1)  # [B, H]
    d_gates = tf.concat([
        d_new_c * g * si * (1.0 - si),  # i
        d_new_c * si * (1.0 - g * g),  # j
        d_new_c * c * sf * (1.0 - sf),  # f
        d_h * tb * so * (1.0 - so),  # o
    ], axis=-1)  # [B, 4H]
    return (
        normalize_grad(d_gates * gamma, x_hat, rstd, 4),  # d pre
        d_new_c * sf,  # d c
        tf.reduce_sum(d_gates * x_hat, axis=0), tf.reduce_sum(d_gates, axis=0),
        tf.reduce_sum(d_b * c_hat, axis=0), tf.reduce_sum(d_b, axis=0),
    )


def modulate(x_main, recurrent, e_x, e_h, e_b, alpha_x, alpha_h, beta_h, bias):
    """The main cell's pre-activation ``d_x * x_main + d_h * recurrent + beta_h + bias``.

    ``d_x = e_x A_x``, ``d_h = e_h A_h`` and ``beta_h = e_b B_h`` are the hyper-norm
    vectors of all 4 gates (``[B, 4, E] x [4, E, H]`` batched products), i.e. the outputs
    of the cell's ``hyper_norm_x`` and ``hyper_norm_h`` layers. The gradient is written
    out so that the backward pass recomputes ``d_x`` and ``d_h`` (two small batched
    matmuls) instead of keeping two ``[B, 4H]`` tensors per time step for the whole
    sequence.

    Args:
      x_main: ``[B, 4H]`` float32 input contribution ``W_x x``.
      recurrent: ``[B, 4H]`` float32 recurrent contribution ``W_h h``.
      e_x, e_h, e_b: ``[B, 4, E]`` hyper embeddings (matmul dtype).
      alpha_x, alpha_h, beta_h: ``[4, E, H]`` output kernels (matmul dtype).
      bias: ``[4H]`` float32 gate bias.

    Returns:
      ``[B, 4H]`` float32.

    Example:
      >>> e, kernel = tf.ones([1, 4, 2]), tf.fill([4, 2, 1], 0.25)  # d = 0.5 per gate
      >>> modulate(tf.fill([1, 4], 2.), tf.fill([1, 4], 4.), e, e, e, kernel, kernel, kernel,
      ...          tf.zeros([4])).numpy().tolist()
      [[3.5, 3.5, 3.5, 3.5]]
    """
    width = x_main.shape[-1]

    def vector(e, kernel):  # [B, 4, E] x [4, E, H] -> float32 [B, 4H]
        return tf.reshape(tf.cast(tf.einsum("bge,geh->bgh", e, kernel), tf.float32), [-1, width])

    @tf.custom_gradient
    def fused(x_main, recurrent, e_x, e_h, e_b, alpha_x, alpha_h, beta_h, bias):
        pre = (vector(e_x, alpha_x) * x_main + vector(e_h, alpha_h) * recurrent
               + vector(e_b, beta_h) + bias)

        def grad(d_pre):
            dtype = e_x.dtype

            def backward(g, e, kernel):  # gradients through vector(e, kernel) given g
                g = tf.cast(tf.reshape(g, [-1, 4, width // 4]), dtype)  # [B, 4, H]
                return (tf.einsum("bgh,geh->bge", g, kernel),  # d e      [B, 4, E]
                        tf.einsum("bge,bgh->geh", e, g))  # d kernel [4, E, H]

            d_e_x, d_alpha_x = backward(d_pre * x_main, e_x, alpha_x)
            d_e_h, d_alpha_h = backward(d_pre * recurrent, e_h, alpha_h)
            d_e_b, d_beta_h = backward(d_pre, e_b, beta_h)
            return (d_pre * vector(e_x, alpha_x), d_pre * vector(e_h, alpha_h),  # recomputed
                    d_e_x, d_e_h, d_e_b, d_alpha_x, d_alpha_h, d_beta_h,
                    tf.reduce_sum(d_pre, axis=0))

        return pre, grad

    return fused(x_main, recurrent, e_x, e_h, e_b, tf.convert_to_tensor(alpha_x),
                 tf.convert_to_tensor(alpha_h), tf.convert_to_tensor(beta_h),
                 tf.convert_to_tensor(bias))

"""HyperLSTMCell: the SketchEmbedNet decoder cell (Ha, Dai & Le 2017, "HyperNetworks").

The cell follows Ha et al. 2017 (the layer-normalised HyperLSTM) as implemented in
Magenta's sketch-rnn ``HyperLSTMCell``, *not* the quirks of the SketchEmbedNet authors'
code (the differences are listed in ``sketchembednet/models/README.md``):

* Per-gate layer normalisation (Magenta's ``layer_norm_all``): the 4H gate
  pre-activations are normalised as 4 separate groups of H, gamma 1 / beta 0, eps 1e-3.
  The authors used one normalisation over the whole 4H vector.
* The hyper cell is a layer-normalised LSTM with ``h = tanh(LN(c)) * sigmoid(o)``
  (the authors: ``+``) whose *output h* drives the hyper norms (the authors: its cell
  state c). It has no gate bias (its layer-norm beta plays that role), as in Magenta.
* Bias placement as Magenta: the bias-free HyperNorm scales the ``W_xh x`` contribution,
  the biased one the ``W_hh h`` contribution (the authors swapped them), and the beta
  projection starts at 0 (the authors: 1).
* Initialisers as Magenta: ``W_xh`` Glorot-uniform, ``W_hh`` orthogonal per gate block.
* Recurrent dropout (Semeniuta et al. 2016) on the candidate ``g = tanh(j)`` is a *rate*
  (default 0.0, off, as in the paper's runs); the authors' ``tf.nn.dropout(x, 0.9)``
  would have dropped 90%.

Gate order is Magenta's ``(i, j, f, o)``: input gate, candidate, forget gate, output
gate. The state is the list ``[h, c, h_hyper, c_hyper]`` with sizes
``[units, units, hyper_units, hyper_units]`` (Magenta packs ``[h, h_hyper, c, c_hyper]``
into one vector; the content is the same).

Because every contribution of the input ``x_t`` is a matmul that does not depend on the
recurrent state, :meth:`HyperLSTMCell.project_inputs` computes them for a whole
teacher-forced sequence at once, and :meth:`HyperLSTMCell.step` consumes one projected
step with :meth:`HyperLSTMCell.packed_weights` (bf16 matmuls under a ``mixed_bfloat16``
policy, float32 states and gates). :meth:`HyperLSTMCell.call` (used
by ``keras.layers.RNN``) is the plain :meth:`HyperLSTMCell.reference_step` of
``project(x)``; the tests check that the two agree. The layer normalisation and the
custom-gradient kernels of :meth:`HyperLSTMCell.step` (``ln_lstm_update``,
``modulate``) are in :mod:`sketchembednet.layers.hyper_lstm_kernels`.
"""

import keras
import numpy as np
import tensorflow as tf

from sketchembednet.layers import hyper_lstm_kernels

HYPER_NORM_GAMMA = 0.1  # Cooijmans et al. 2016 init of the alpha scale (Magenta).


def _gate_orthogonal(num_gates):
    """Initializer: an independent orthogonal ``[n, H]`` block per gate (Magenta)."""

    def init(shape, dtype=None):
        rows, cols = shape
        block = cols // num_gates
        ortho = keras.initializers.Orthogonal()
        parts = [ortho((rows, block), dtype=dtype) for _ in range(num_gates)]
        return keras.ops.concatenate(parts, axis=1)

    return init


def _glorot_uniform_for(fan_in, fan_out):
    """Glorot-uniform with explicit fans, for a slice of a larger Magenta matrix."""
    limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
    return keras.initializers.RandomUniform(-limit, limit)


@keras.saving.register_keras_serializable(package="sketchembednet")
class _HyperNorm(keras.layers.Layer):
    """Hyper-network scaling of G gate contributions (Ha et al. 2017: the vectors d(z)).

    For each gate g: ``alpha_g = W_alpha_g (W_zw_g h_hyper + b_zw_g)`` and, with a bias,
    ``beta_g = W_beta_g (W_zb_g h_hyper)``; the output is ``alpha_g * y_g + beta_g``.
    This is Magenta's ``hyper_norm`` for G gates at once: one matmul makes all G
    embeddings and a batched matmul the G scales, with separate parameters per gate, so
    it equals G separate Magenta HyperNorms. Init as Magenta: ``W_zw`` 0, ``b_zw`` 1,
    ``W_alpha`` 0.1 / E, ``W_zb`` N(0, 0.01), ``W_beta`` 0 (alpha starts at 0.1, beta at 0).
    """

    def __init__(self, units, embedding_size, num_gates=4, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.embedding_size = embedding_size
        self.num_gates = num_gates
        self.use_bias = use_bias

    def build(self, hyper_shape):
        hyper_units = hyper_shape[-1]
        gates, emb = self.num_gates, self.embedding_size
        self.zw_kernel = self.add_weight(
            name="zw_kernel", shape=(hyper_units, gates * emb), initializer="zeros"
        )
        self.zw_bias = self.add_weight(name="zw_bias", shape=(gates * emb,), initializer="ones")
        self.alpha_kernel = self.add_weight(
            name="alpha_kernel",
            shape=(gates, emb, self.units),
            initializer=keras.initializers.Constant(HYPER_NORM_GAMMA / emb),
        )
        if self.use_bias:
            self.zb_kernel = self.add_weight(
                name="zb_kernel",
                shape=(hyper_units, gates * emb),
                initializer=keras.initializers.RandomNormal(stddev=0.01),
            )
            self.beta_kernel = self.add_weight(
                name="beta_kernel", shape=(gates, emb, self.units), initializer="zeros"
            )

    def call(self, hyper_h, contribution):
        gates, emb = self.num_gates, self.embedding_size
        zw = tf.matmul(hyper_h, self.zw_kernel) + self.zw_bias  # [B, G * E]
        zw = tf.reshape(zw, [-1, gates, emb])  # [B, G, E]
        alpha = tf.einsum("bge,geh->bgh", zw, self.alpha_kernel)  # [B, G, H]
        out = tf.reshape(alpha, [-1, gates * self.units]) * contribution  # [B, G * H]
        if self.use_bias:
            zb = tf.reshape(tf.matmul(hyper_h, self.zb_kernel), [-1, gates, emb])  # [B, G, E]
            beta = tf.einsum("bge,geh->bgh", zb, self.beta_kernel)  # [B, G, H]
            out = out + tf.reshape(beta, [-1, gates * self.units])  # [B, G * H]
        return out

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            embedding_size=self.embedding_size,
            num_gates=self.num_gates,
            use_bias=self.use_bias,
        )
        return config


@keras.saving.register_keras_serializable(package="sketchembednet")
class HyperLSTMCell(keras.layers.Layer):
    """Layer-normalised HyperLSTM cell (Ha, Dai & Le 2017; Magenta sketch-rnn).

    A small layer-normalised LSTM (the hyper cell, ``hyper_units``) reads ``[x_t;
    h_{t-1}]``; its output produces per-gate, per-timestep scales of the main LSTM's
    (``units``) input and recurrent weight contributions through 64-d (by default)
    embeddings. The module docstring lists where this follows Magenta rather than the
    SketchEmbedNet authors' code.

    Args:
      units: main LSTM size H (paper: 1024).
      hyper_units: hyper LSTM size (paper: 512).
      hyper_embedding_size: hyper-network embedding size E (paper: 64).
      forget_bias: added to both cells' forget-gate pre-activation (1.0).
      recurrent_dropout: dropout *rate* on the main cell's candidate ``g`` in training.
      hyper_recurrent_dropout: dropout *rate* on the hyper cell's candidate.
      seed: optional int seed for the dropout masks.
      **kwargs: forwarded to ``keras.layers.Layer``.

    Call arguments:
      inputs: ``[B, D]``.
      states: list ``[h [B, H], c [B, H], h_hyper [B, Hh], c_hyper [B, Hh]]``.
      training: whether to apply recurrent dropout.

    Returns:
      ``(h [B, H], new_states)``.

    Example:
      >>> cell = HyperLSTMCell(units=16, hyper_units=8, hyper_embedding_size=4)
      >>> rnn = keras.layers.RNN(cell, return_sequences=True)
      >>> rnn(np.zeros((2, 7, 5), "float32")).shape
      TensorShape([2, 7, 16])

    Reference:
      Ha, Dai & Le, "HyperNetworks", ICLR 2017, arXiv:1609.09106;
      magenta/models/sketch_rnn/rnn.py (``HyperLSTMCell``, ``LayerNormLSTMCell``).
    """

    def __init__(
        self,
        units=1024,
        hyper_units=512,
        hyper_embedding_size=64,
        forget_bias=1.0,
        recurrent_dropout=0.0,
        hyper_recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, rate in [("recurrent_dropout", recurrent_dropout),
                           ("hyper_recurrent_dropout", hyper_recurrent_dropout)]:
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} is a drop *rate* in [0, 1), got {rate}")
        self.units = units
        self.hyper_units = hyper_units
        self.hyper_embedding_size = hyper_embedding_size
        self.forget_bias = forget_bias
        self.recurrent_dropout = recurrent_dropout
        self.hyper_recurrent_dropout = hyper_recurrent_dropout
        self.seed = seed
        self.state_size = [units, units, hyper_units, hyper_units]
        self.output_size = units
        # ------ Layers
        emb = hyper_embedding_size
        self.hyper_norm_x = _HyperNorm(units, emb, use_bias=False, name="hyper_norm_x",
                                       dtype=self.dtype_policy)
        self.hyper_norm_h = _HyperNorm(units, emb, use_bias=True, name="hyper_norm_h",
                                       dtype=self.dtype_policy)
        if recurrent_dropout > 0 or hyper_recurrent_dropout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def _add(self, name, shape, initializer):
        return self.add_weight(name=name, shape=shape, initializer=initializer)

    def build(self, input_shape):
        dim = input_shape[-1]
        units, hyper = self.units, self.hyper_units
        # Main LSTM (Magenta: W_xh Glorot-uniform, W_hh orthogonal per gate, bias 0).
        self.kernel = self._add("kernel", (dim, 4 * units), "glorot_uniform")
        self.recurrent_kernel = self._add(
            "recurrent_kernel", (units, 4 * units), _gate_orthogonal(4)
        )
        self.bias = self._add("bias", (4 * units,), "zeros")
        self.ln_gamma = self._add("ln_gamma", (4 * units,), "ones")
        self.ln_beta = self._add("ln_beta", (4 * units,), "zeros")
        self.ln_c_gamma = self._add("ln_c_gamma", (units,), "ones")
        self.ln_c_beta = self._add("ln_c_beta", (units,), "zeros")
        # Hyper LSTM: Magenta's W_xh is one Glorot matrix over [x; h]; it is stored as
        # two slices (x rows, h rows) with the fans of the whole matrix.
        init = _glorot_uniform_for(dim + units, 4 * hyper)
        self.hyper_kernel = self._add("hyper_kernel", (dim, 4 * hyper), init)
        self.hyper_main_kernel = self._add("hyper_main_kernel", (units, 4 * hyper), init)
        self.hyper_recurrent_kernel = self._add(
            "hyper_recurrent_kernel", (hyper, 4 * hyper), _gate_orthogonal(4)
        )
        self.hyper_ln_gamma = self._add("hyper_ln_gamma", (4 * hyper,), "ones")
        self.hyper_ln_beta = self._add("hyper_ln_beta", (4 * hyper,), "zeros")
        self.hyper_ln_c_gamma = self._add("hyper_ln_c_gamma", (hyper,), "ones")
        self.hyper_ln_c_beta = self._add("hyper_ln_c_beta", (hyper,), "zeros")
        self.hyper_norm_x.build((None, hyper))
        self.hyper_norm_h.build((None, hyper))

    def project_inputs(self, inputs, start=0):
        """Input-side contributions ``x W_xh`` of the main and the hyper cell.

        Under teacher forcing they are known for every step in advance, so a decoder can
        compute them for a whole sequence in one matmul. The projection is linear, so an
        input made of parts (``[z; y]``) can be projected part by part: ``start`` selects
        the kernel rows ``start : start + d`` that a ``d``-wide part multiplies.

        Args:
          inputs: ``[..., d]``, all of x (``start=0``, ``d=D``) or a part of it.
          start: first input feature that ``inputs`` holds.

        Returns:
          ``(x_main [..., 4H], x_hyper [..., 4Hh])`` in the compute dtype.
        """
        dtype = self.compute_dtype
        kernel = tf.cast(self.kernel, dtype)  # [D, 4H]
        hyper_kernel = tf.cast(self.hyper_kernel, dtype)  # [D, 4Hh]
        width = inputs.shape[-1]
        if start != 0 or width != kernel.shape[0]:
            kernel = kernel[start : start + width]  # [d, 4H]
            hyper_kernel = hyper_kernel[start : start + width]  # [d, 4Hh]
        inputs = tf.cast(inputs, dtype)
        x_main = tf.tensordot(inputs, kernel, axes=1)  # [..., 4H]
        x_hyper = tf.tensordot(inputs, hyper_kernel, axes=1)  # [..., 4Hh]
        return x_main, x_hyper

    def _dropout(self, g, rate, training):
        if training and rate > 0:
            return keras.random.dropout(g, rate, seed=self.seed_generator)
        return g

    def _lstm_update(self, pre, c, gamma, beta, c_gamma, c_beta, rate, training, fused=False):
        """LN-LSTM update from gate pre-activations (Ba et al. 2016, eq. 20-22).

        ``fused`` uses :func:`hyper_lstm_kernels.ln_lstm_update` (same values, leaner
        gradient) unless dropout is active.
        """
        if fused and not (training and rate > 0):
            return hyper_lstm_kernels.ln_lstm_update(pre, c, gamma, beta, c_gamma, c_beta,
                                                     self.forget_bias)
        pre = hyper_lstm_kernels.layer_norm(pre, gamma, beta, 4)  # [B, 4H]
        i, j, f, o = tf.split(pre, 4, axis=-1)  # 4 x [B, H]
        g = self._dropout(tf.tanh(j), rate, training)  # [B, H]
        new_c = c * tf.sigmoid(f + self.forget_bias) + tf.sigmoid(i) * g  # [B, H]
        new_c_ln = hyper_lstm_kernels.layer_norm(new_c, c_gamma, c_beta, 1)  # [B, H]
        new_h = tf.tanh(new_c_ln) * tf.sigmoid(o)  # [B, H]
        return new_h, new_c

    def packed_weights(self, dtype=None):
        """The weights of :meth:`step`, cast to the matmul dtype once per sequence.

        Call it outside the recurrent loop, so that the casts are not repeated every
        step. (Fusing matmuls that share an operand, e.g. ``h [W_hh | W_hyper_h]``, was
        measured slower on CPU: the split copies cost more than the bigger matmul gains.)

        Args:
          dtype: matmul dtype (default: the layer's compute dtype, ``bfloat16`` under a
            ``mixed_bfloat16`` policy). Vectors (biases, layer-norm gains) stay float32.

        Returns:
          dict of tensors for :meth:`step`.
        """
        dtype = tf.as_dtype(dtype or self.compute_dtype)

        def matrix(v):
            return tf.cast(v, dtype)

        def vector(v):
            return tf.cast(v, tf.float32)

        def norm(layer):
            parts = dict(zw_kernel=matrix(layer.zw_kernel), zw_bias=vector(layer.zw_bias),
                         alpha_kernel=matrix(layer.alpha_kernel))
            if layer.use_bias:
                parts.update(zb_kernel=matrix(layer.zb_kernel),
                             beta_kernel=matrix(layer.beta_kernel))
            return parts

        return dict(
            recurrent_kernel=matrix(self.recurrent_kernel),  # [H, 4H]
            hyper_main_kernel=matrix(self.hyper_main_kernel),  # [H, 4Hh]
            hyper_recurrent_kernel=matrix(self.hyper_recurrent_kernel),  # [Hh, 4Hh]
            norm_x=norm(self.hyper_norm_x),
            norm_h=norm(self.hyper_norm_h),
            bias=vector(self.bias),
            ln=[vector(v) for v in (self.ln_gamma, self.ln_beta, self.ln_c_gamma, self.ln_c_beta)],
            hyper_ln=[
                vector(v)
                for v in (self.hyper_ln_gamma, self.hyper_ln_beta,
                          self.hyper_ln_c_gamma, self.hyper_ln_c_beta)
            ],
        )

    def step(self, x_main, x_hyper, states, weights, training=False):
        """One recurrent step from projected inputs and :meth:`packed_weights`.

        The same mathematics as :meth:`reference_step`, with the matmuls in the dtype of
        ``weights`` (bfloat16 under mixed precision) and the states, layer norms and
        gates in float32.

        Args:
          x_main: ``[B, 4H]`` from :meth:`project_inputs`.
          x_hyper: ``[B, 4Hh]``.
          states: ``[h, c, h_hyper, c_hyper]``, float32.
          weights: :meth:`packed_weights`.
          training: apply recurrent dropout.

        Returns:
          ``(h [B, H], [h, c, h_hyper, c_hyper])``, float32.
        """
        emb = self.hyper_embedding_size
        dtype = weights["recurrent_kernel"].dtype

        def mm(a, b):  # [B, n] x [n, m] in the matmul dtype -> float32 [B, m]
            return tf.cast(tf.matmul(tf.cast(a, dtype), b), tf.float32)

        def embedding(norm, kernel, bias):  # a _HyperNorm's z for 4 gates
            e = mm(hyper_h, norm[kernel]) + (norm[bias] if bias else 0.0)  # [B, 4E]
            return tf.reshape(tf.cast(e, dtype), [-1, 4, emb])  # [B, 4, E]

        h, c, hyper_h, hyper_c = states
        # Hyper cell on [x; h] (Ha et al. 2017: the HyperRNN reads x_t and h_{t-1}).
        hyper_pre = (
            tf.cast(x_hyper, tf.float32)
            + mm(h, weights["hyper_main_kernel"])
            + mm(hyper_h, weights["hyper_recurrent_kernel"])
        )  # [B, 4Hh]
        hyper_h, hyper_c = self._lstm_update(
            hyper_pre, hyper_c, *weights["hyper_ln"], self.hyper_recurrent_dropout, training,
            fused=True,
        )  # [B, Hh] each
        # Main cell: d_x(z) * W_x x + d_h(z) * W_h h + beta_h(z) + b.
        nx, nh = weights["norm_x"], weights["norm_h"]
        pre = hyper_lstm_kernels.modulate(
            tf.cast(x_main, tf.float32), mm(h, weights["recurrent_kernel"]),
            embedding(nx, "zw_kernel", "zw_bias"), embedding(nh, "zw_kernel", "zw_bias"),
            embedding(nh, "zb_kernel", None), nx["alpha_kernel"], nh["alpha_kernel"],
            nh["beta_kernel"], weights["bias"],
        )  # [B, 4H]
        h, c = self._lstm_update(pre, c, *weights["ln"], self.recurrent_dropout, training,
                                 fused=True)
        return h, [h, c, hyper_h, hyper_c]

    def reference_step(self, x_main, x_hyper, states, training=False):
        """One recurrent step, written plainly (one matmul and one HyperNorm per term).

        The straightforward implementation that :meth:`step` is tested against.

        Args:
          x_main: ``[B, 4H]``.
          x_hyper: ``[B, 4Hh]``.
          states: ``[h, c, h_hyper, c_hyper]``.
          training: apply recurrent dropout.

        Returns:
          ``(h [B, H], [h, c, h_hyper, c_hyper])``.
        """
        h, c, hyper_h, hyper_c = states
        # Hyper cell on [x; h] (Ha et al. 2017: the HyperRNN reads x_t and h_{t-1}).
        hyper_pre = (
            x_hyper
            + tf.matmul(h, self.hyper_main_kernel)
            + tf.matmul(hyper_h, self.hyper_recurrent_kernel)
        )  # [B, 4Hh]
        hyper_h, hyper_c = self._lstm_update(
            hyper_pre, hyper_c, self.hyper_ln_gamma, self.hyper_ln_beta,
            self.hyper_ln_c_gamma, self.hyper_ln_c_beta, self.hyper_recurrent_dropout, training,
        )  # [B, Hh] each
        # Main cell with hyper-scaled contributions d_x(z) * W_x x + d_h(z) * W_h h + b.
        pre = (
            self.hyper_norm_x(hyper_h, x_main)
            + self.hyper_norm_h(hyper_h, tf.matmul(h, self.recurrent_kernel))
            + self.bias
        )  # [B, 4H]
        h, c = self._lstm_update(
            pre, c, self.ln_gamma, self.ln_beta, self.ln_c_gamma, self.ln_c_beta,
            self.recurrent_dropout, training,
        )  # [B, H] each
        return h, [h, c, hyper_h, hyper_c]

    def call(self, inputs, states, training=False):
        x_main, x_hyper = self.project_inputs(inputs)  # [B, 4H], [B, 4Hh]
        return self.reference_step(x_main, x_hyper, list(states), training=training)

    def get_initial_state(self, batch_size=None):
        return [tf.zeros([batch_size, size], self.compute_dtype) for size in self.state_size]

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            hyper_units=self.hyper_units,
            hyper_embedding_size=self.hyper_embedding_size,
            forget_bias=self.forget_bias,
            recurrent_dropout=self.recurrent_dropout,
            hyper_recurrent_dropout=self.hyper_recurrent_dropout,
            seed=self.seed,
        )
        return config

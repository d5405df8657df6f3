"""SketchDecoder: embedding z -> stroke-5 mixture parameters, teacher-forced or stepwise."""

import keras
import tensorflow as tf

from sketchembednet.layers.hyper_lstm_cell import HyperLSTMCell
from sketchembednet.layers.mixture_density_head import MixtureDensityHead


@keras.saving.register_keras_serializable(package="sketchembednet")
class SketchDecoder(keras.Model):
    """HyperLSTM decoder with a mixture-density head (Wang et al. 2021, Sec. 3; sketch-rnn).

    The initial state ``[h, c, h_hyper, c_hyper] = split(tanh(Dense(z)))``, with
    ``2 (units + hyper_units)`` outputs (3072 for the paper). Step t reads
    ``x_t = [z; y_{t-1}]`` and predicts the mixture for ``y_t``; training is
    teacher-forced (inputs: ground-truth rows 0..T-1, targets: rows 1..T).

    Two equivalent teacher-forced paths:
      * ``call`` (fast): the input projection is linear, ``[z; y] W = z W_z + y W_y``,
        so ``z W_z`` (256 of the 261 input features) is computed once per sequence and
        only the 5-wide ``y W_y`` per step; a ``tf.while_loop`` runs the recurrence
        (``HyperLSTMCell.step``: weights cast once, written-out gradients that keep
        little per step) and the head is applied to all outputs at once.
      * ``reference_call``: the plain cell in ``keras.layers.RNN`` on ``[z; y]``.
    ``tests/models/sketch_decoder_test.py`` checks they agree on outputs and gradients.

    Initial-state Dense init: N(0, 0.001), zero bias (Magenta's ``initial_state``); the
    authors used N(0.001, 0.05).

    Args:
      rnn_units: main HyperLSTM size (paper 1024).
      hyper_units: hyper LSTM size (paper 512).
      hyper_embedding_size: hyper embedding size (paper 64).
      num_mixtures: M (paper 30).
      recurrent_dropout: dropout *rate* on the main cell's candidate (paper: 0).
      forget_bias: forget-gate bias of both cells.
      seed: optional int seed for recurrent dropout.
      **kwargs: forwarded to ``keras.Model``.

    Call arguments:
      inputs: ``(z [B, Z], stroke5 [B, T + 1, 5])``; rows 0..T-1 are the inputs.
      training: recurrent dropout on/off.

    Returns:
      ``[B, T, 3 + 6M]`` float32 raw mixture parameters for rows 1..T (``head.split``
      them). Under a ``mixed_bfloat16`` dtype policy the matmuls run in bfloat16 and
      the states, gates and outputs stay float32.

    Example:
      >>> decoder = SketchDecoder(rnn_units=16, hyper_units=8, hyper_embedding_size=4,
      ...                         num_mixtures=3)
      >>> decoder((tf.zeros([2, 8]), tf.zeros([2, 6, 5]))).shape
      TensorShape([2, 5, 21])

    Reference:
      Wang et al. 2021, arXiv:2009.04806, Sec. 3; Ha & Eck 2018, arXiv:1704.03477, Sec. 3.
    """

    def __init__(
        self,
        rnn_units=1024,
        hyper_units=512,
        hyper_embedding_size=64,
        num_mixtures=30,
        recurrent_dropout=0.0,
        forget_bias=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rnn_units = rnn_units
        self.hyper_units = hyper_units
        self.hyper_embedding_size = hyper_embedding_size
        self.num_mixtures = num_mixtures
        self.recurrent_dropout = recurrent_dropout
        self.forget_bias = forget_bias
        self.seed = seed
        # ------ Layers
        self.initial_state_dense = keras.layers.Dense(
            2 * (rnn_units + hyper_units),
            activation="tanh",
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
            name="initial_state",
            dtype=self.dtype_policy,
        )
        self.cell = HyperLSTMCell(
            rnn_units,
            hyper_units,
            hyper_embedding_size,
            forget_bias=forget_bias,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="cell",
            dtype=self.dtype_policy,
        )
        self.head = MixtureDensityHead(num_mixtures, name="head")  # float32 (its default)
        # The reference path's RNN wrapper owns no weights; keep it out of tracking so
        # the cell is saved once.
        reference_rnn = keras.layers.RNN(self.cell, return_sequences=True)
        object.__setattr__(self, "_reference_rnn", reference_rnn)

    def build(self, input_shape):
        z_shape = tuple(input_shape[0])
        self.initial_state_dense.build(z_shape)
        self.cell.build((z_shape[0], z_shape[-1] + 5))
        self.head.build((z_shape[0], self.rnn_units))

    def initial_state(self, z):
        """``[h, c, h_hyper, c_hyper] = split(tanh(Dense(z)))``, float32; ``z`` is ``[B, Z]``."""
        state = tf.cast(self.initial_state_dense(z), tf.float32)  # [B, 2 (H + Hh)]
        sizes = [self.rnn_units, self.rnn_units, self.hyper_units, self.hyper_units]
        return tf.split(state, sizes, axis=-1)  # [B, H], [B, H], [B, Hh], [B, Hh]

    def step_cache(self, z):
        """What :meth:`step` reuses at every step of one batch: the packed cell weights
        and the projections of ``z``. Compute it once, before a decoding loop."""
        z_main, z_hyper = self.cell.project_inputs(z)  # [B, 4H], [B, 4Hh]
        return dict(weights=self.cell.packed_weights(), z_main=z_main, z_hyper=z_hyper)

    def step(self, z, prev, states, training=False, cache=None):
        """One autoregressive step: ``(raw [B, 3 + 6M] float32, states)`` from ``prev [B, 5]``.

        ``cache`` is :meth:`step_cache` of ``z`` (computed here when None; pass it in
        loops so the weights are packed once).
        """
        cache = self.step_cache(z) if cache is None else cache
        y_main, y_hyper = self.cell.project_inputs(prev, start=z.shape[-1])  # [B, 4H], [B, 4Hh]
        h, states = self.cell.step(
            y_main + cache["z_main"], y_hyper + cache["z_hyper"], states, cache["weights"],
            training,
        )  # [B, H]
        return tf.cast(self.head(h), tf.float32), states

    def _unroll(self, z, prev, states, training):
        """Runs ``cell.step`` over the inputs ``[z; y_{t-1}]`` (``prev [B, T, 5]``).

        ``z``'s projections are computed once; ``y_{t-1}``'s inside the loop, a
        ``[B, 5] x [5, 4H]`` product as cheap as an addition. Projecting all T steps
        before the loop instead would hold several ``[B, T, 4H]`` tensors (268 MB each
        at B = 256 for the paper's model: the product, its sum with ``z W_z``, the
        time-major copy) for no fewer FLOPs.
        """
        steps = prev.shape[1] or tf.shape(prev)[1]  # static when known (XLA needs it)
        z_dim = z.shape[-1]
        weights = self.cell.packed_weights()  # cast once, outside the loop
        z_main, z_hyper = self.cell.project_inputs(z)  # [B, 4H], [B, 4Hh]
        prev_ta = tf.TensorArray(prev.dtype, size=steps).unstack(
            tf.transpose(prev, [1, 0, 2])
        )  # T x [B, 5]
        out_ta = tf.TensorArray(tf.float32, size=steps, element_shape=[None, self.rnn_units])

        def body(t, out_ta, states):
            y_main, y_hyper = self.cell.project_inputs(prev_ta.read(t), start=z_dim)
            h, states = self.cell.step(y_main + z_main, y_hyper + z_hyper, states, weights,
                                       training)  # [B, H]
            return t + 1, out_ta.write(t, h), states

        _, out_ta, _ = tf.while_loop(
            lambda t, *_: t < steps, body, (tf.constant(0), out_ta, list(states)),
            maximum_iterations=steps,
        )
        return tf.transpose(out_ta.stack(), [1, 0, 2])  # [B, T, H]

    def call(self, inputs, training=False):
        z, stroke5 = inputs
        outputs = self._unroll(z, stroke5[:, :-1], self.initial_state(z), training)  # [B, T, H]
        return tf.cast(self.head(outputs), tf.float32)  # [B, T, 3 + 6M]

    def reference_call(self, inputs, training=False):
        """The straightforward teacher-forced path (``keras.layers.RNN``), same result."""
        z, stroke5 = inputs
        prev = tf.cast(stroke5[:, :-1], z.dtype)  # [B, T, 5]
        z_seq = tf.tile(z[:, None], [1, tf.shape(prev)[1], 1])  # [B, T, Z]
        x = tf.concat([z_seq, prev], axis=-1)  # [B, T, Z + 5]
        outputs = self._reference_rnn(x, initial_state=self.initial_state(z), training=training)
        return tf.cast(self.head(outputs), tf.float32)  # [B, T, 3 + 6M]

    def get_config(self):
        config = super().get_config()
        config.update(
            rnn_units=self.rnn_units,
            hyper_units=self.hyper_units,
            hyper_embedding_size=self.hyper_embedding_size,
            num_mixtures=self.num_mixtures,
            recurrent_dropout=self.recurrent_dropout,
            forget_bias=self.forget_bias,
            seed=self.seed,
        )
        return config

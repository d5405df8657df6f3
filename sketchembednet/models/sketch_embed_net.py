"""SketchEmbedNet: image encoder + HyperLSTM sketch decoder; owns the drawing loss."""

import keras
import tensorflow as tf

from sketchembednet import losses
from sketchembednet import sampling
from sketchembednet.models.fit_support import LossTermsFitMixin

# The auxiliary head's initialiser seeds are seed + AUX_SEED_OFFSET + (0, 1).
AUX_SEED_OFFSET = 1000


@keras.saving.register_keras_serializable(package="sketchembednet")
class SketchEmbedNet(LossTermsFitMixin, keras.Model):
    """Learns image embeddings by learning to draw (Wang, Lucas, Zemel et al., ICML 2021).

    The encoder maps an image to ``z``; the decoder draws it as stroke-5 under teacher
    forcing. The loss, per example (``losses.py`` cites each term)::

        L = L_pen + (1 - alpha) L_stroke + alpha L_pixel (+ kl_weight KL)

    ``L_pen`` averages over all T positions (padding included, as the paper);
    ``L_stroke`` sums over real steps and divides by ``max_seq_len``; ``L_pixel``
    renders the teacher-forced prediction and the ground truth with the ground truth's
    bounding box on an S x S canvas (S = image size).

    With ``mask_after_end`` nothing after an example's ground-truth end token counts:
    those pen positions leave ``L_pen`` and the prediction's segments there are not
    drawn in ``L_pixel`` (sampling stops at the end token, so they are never used).
    Then an example's loss does not depend on its batch's padding, and a batch may be
    cut to its longest sketch (length bucketing) with identical per-example losses;
    the pixel-loss noise is drawn for ``max_seq_len`` steps and cut likewise.
    The pixel term is not computed when alpha is 0 (a Python 0 skips it at trace time,
    a tensor through ``tf.cond``). Unlike the authors' code, which added it only when
    alpha > 0.1 (effectively from 0.15), the paper's formula holds for every alpha.

    Beyond the paper, ``aux_contrastive_weight > 0`` adds a SimCLR-style term: a second,
    independently augmented rendering of the same strokes (``aux_images``, the input
    pipeline's ``image_aux``) goes through the same encoder, in a call of its own (so
    the drawing path sees exactly the batch it sees without the term, and BatchNorm
    normalises each view with its own statistics); the means ``mu`` of both views
    pass a projection head (``Dense(width) -> ReLU -> Dense(aux_projection_dim)``,
    width = the embedding size) and the symmetric InfoNCE of ``losses.info_nce``
    (cosine / ``aux_temperature``, the other examples of the batch as negatives) is
    added to each example's loss with that weight and reported as ``contrastive``.
    Under a distribution strategy each replica contrasts within its own batch. With
    the default weight 0 no head is created and the model is the paper's, variable
    for variable and bit for bit. The project's trainer feeds the second view; ``fit``
    does not (its ``train_step`` refuses the term rather than silently skip it).

    ``compute_losses`` is a plain method so custom (distributed) loops can use it;
    ``train_step`` / ``test_step`` make ``fit`` work, with alpha read from the
    non-trainable variable ``alpha`` (assign it from a callback to schedule it). They
    report ``total_loss`` etc., not ``loss``, which Keras 3 would overwrite with its
    compiled-loss tracker.

    Args:
      encoder: ``Conv4Encoder`` or ``ResNet12Encoder`` (returns ``(z, mu, logvar)``).
      decoder: ``SketchDecoder``.
      max_seq_len: T, the configured maximum stroke-3 length (the loss normaliser);
        None uses each batch's own T.
      alpha: initial pixel-loss weight for ``fit``.
      kl_weight: KL weight (the paper: 0).
      mask_after_end: leave everything after the ground truth's end token out of the
        loss (pen positions, predicted segments); needed for length bucketing.
      seed: optional int seed for the pixel-loss noise (and the auxiliary head's
        initialisers).
      aux_contrastive_weight: weight of the auxiliary two-view InfoNCE term; 0 = off
        (no projection head is created).
      aux_projection_dim: output size of the auxiliary projection head.
      aux_temperature: softmax temperature of the auxiliary InfoNCE.
      **kwargs: forwarded to ``keras.Model``.

    Call arguments:
      inputs: ``(images [B, S, S, C], stroke5 [B, T + 1, 5])``.
      training: encoder sampling / BatchNorm / dropout mode.

    Returns:
      Raw teacher-forced mixture parameters ``[B, T, 3 + 6M]``.

    Example:
      >>> from sketchembednet.models import presets
      >>> model = presets.build_model("tiny")
      >>> images, stroke5 = tf.zeros([2, 28, 28, 1]), tf.zeros([2, 9, 5])
      >>> sorted(model.compute_losses(images, stroke5, alpha=0.5))
      ['kl', 'loss', 'pen', 'pixel', 'stroke']
      >>> aux = presets.build_model("tiny", aux_contrastive_weight=0.1)
      >>> aux_images = tf.fill([2, 28, 28, 1], 255.0)
      >>> aux.loss_terms[-1], sorted(aux.compute_losses(images, stroke5, aux_images=aux_images))
      ('contrastive', ['contrastive', 'kl', 'loss', 'pen', 'pixel', 'stroke'])

    Reference:
      Wang, Lucas, Zemel et al., "SketchEmbedNet: Learning Novel Concepts by Imitating
      Drawings", ICML 2021, arXiv:2009.04806. Auxiliary term: Chen et al., "A Simple
      Framework for Contrastive Learning of Visual Representations" (SimCLR), ICML 2020,
      arXiv:2002.05709.
    """

    loss_terms = ("loss", "pen", "stroke", "pixel", "kl")  # the trainer logs these
    metric_names = ("total_loss", "pen_loss", "stroke_loss", "pixel_loss", "kl")  # fit's

    def __init__(
        self,
        encoder,
        decoder,
        max_seq_len=64,
        alpha=0.0,
        kl_weight=0.0,
        mask_after_end=False,
        seed=None,
        aux_contrastive_weight=0.0,
        aux_projection_dim=128,
        aux_temperature=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.max_seq_len = max_seq_len
        self.alpha = alpha
        self.kl_weight = kl_weight
        self.mask_after_end = mask_after_end
        self.seed = seed
        self.aux_contrastive_weight = aux_contrastive_weight
        self.aux_projection_dim = aux_projection_dim
        self.aux_temperature = aux_temperature
        # ------ State
        self.alpha_variable = self.add_weight(
            name="alpha", shape=(), initializer=keras.initializers.Constant(alpha),
            trainable=False,
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        # ------ Layers (the auxiliary head exists only when its term is on)
        self.aux_hidden = self.aux_projection = None
        if aux_contrastive_weight > 0:
            self._make_aux_head()
        self.init_trackers()

    def _make_aux_head(self):
        """The SimCLR projection head and the extra loss term (``aux_contrastive_weight > 0``)."""
        width = self.encoder.embedding_dim

        def glorot(index):  # Seeds apart from the encoder's and the decoder's.
            seed = None if self.seed is None else self.seed + AUX_SEED_OFFSET + index
            return keras.initializers.GlorotUniform(seed=seed)

        self.aux_hidden = keras.layers.Dense(
            width, activation="relu", kernel_initializer=glorot(0), name="aux_hidden",
            dtype=self.dtype_policy,
        )
        self.aux_projection = keras.layers.Dense(
            self.aux_projection_dim, kernel_initializer=glorot(1), name="aux_projection",
            dtype=self.dtype_policy,
        )
        # Per instance: the trainer logs loss_terms, fit reports metric_names.
        self.loss_terms = (*type(self).loss_terms, "contrastive")
        self.metric_names = (*type(self).metric_names, "contrastive")

    def build(self, input_shape):
        images_shape, stroke5_shape = input_shape
        # Deserialised sub-models arrive built (from their own build configs).
        if not self.encoder.built:
            self.encoder.build(tuple(images_shape))
        if not self.decoder.built:
            z_shape = (images_shape[0], self.encoder.embedding_dim)
            self.decoder.build((z_shape, tuple(stroke5_shape)))
        if self.aux_hidden is not None:
            self.aux_hidden.build((None, self.encoder.embedding_dim))
            self.aux_projection.build((None, self.encoder.embedding_dim))

    def call(self, inputs, training=False):
        images, stroke5 = inputs
        z, _, _ = self.encoder(images, training=training)  # [B, Z]
        return self.decoder((z, stroke5), training=training)  # [B, T, 3 + 6M]

    def embed(self, images):
        """The embedding used downstream: the encoder mean ``mu`` ``[B, Z]`` (inference)."""
        return self.encoder(images, training=False)[1]

    def sample(self, z, max_len=None, temperature=1.0, greedy=False, seed=None):
        """Draws sketches from embeddings; see ``sampling.sample``."""
        max_len = self.max_seq_len if max_len is None else max_len
        return sampling.sample(self.decoder, z, max_len, temperature, greedy, seed)

    def _pixel_term(self, params, stroke5, canvas_size):
        batch, steps = tf.shape(params["mu1"])[0], tf.shape(params["mu1"])[1]
        # Noise for the configured T, cut to this batch's T': an example's noise does not
        # depend on how far its batch is padded.
        full = steps if self.max_seq_len is None else tf.maximum(steps, self.max_seq_len)
        noise = keras.random.normal(
            tf.stack([batch, full, 2]), dtype=params["mu1"].dtype, seed=self.seed_generator
        )[:, :steps]  # [B, T', 2]
        pred = losses.predicted_stroke5(params, noise)  # [B, T' + 1, 5]
        return losses.pixel_loss(
            pred, tf.cast(stroke5, pred.dtype), canvas_size, mask_after_end=self.mask_after_end
        )  # [B]

    def _aux_term(self, mu, aux_images, training):
        """Per-example symmetric InfoNCE between the two views' projected ``mu`` ``[B]``."""
        _, aux_mu, _ = self.encoder(aux_images, training=training)  # [B, Z]
        first = self.aux_projection(self.aux_hidden(mu))  # [B, P]
        second = self.aux_projection(self.aux_hidden(aux_mu))  # [B, P]
        loss, _ = losses.info_nce(first, second, self.aux_temperature)  # [B] float32
        return loss

    def compute_losses(self, images, stroke5, alpha=None, training=False, per_example=False,
                       aux_images=None):
        """All loss terms for a batch.

        Args:
          images: ``[B, S, S, C]`` raw images.
          stroke5: ``[B, T' + 1, 5]`` ground truth (``T' <= max_seq_len``).
          alpha: pixel weight; a Python number (0 skips the pixel term) or a tensor;
            None reads the ``alpha`` variable.
          training: model mode (z sampled, BatchNorm batch statistics, dropout).
          per_example: return ``[B]`` vectors instead of batch means.
          aux_images: ``[B, S, S, C]`` a second augmented view of the same sketches, for
            the auxiliary contrastive term (``aux_contrastive_weight > 0``); unused when
            the term is off. Without them the term is reported as 0 (evaluation), and
            ``training=True`` is an error (the term would silently be skipped).

        Returns:
          dict with ``loss`` (the total), ``pen``, ``stroke``, ``pixel`` and ``kl``, and
          ``contrastive`` when the auxiliary term is on.

        Raises:
          ValueError: for ``training=True`` without ``aux_images`` while the auxiliary
            term is on.
        """
        alpha = self.alpha_variable if alpha is None else alpha
        max_len = self.max_seq_len or tf.shape(stroke5)[1] - 1
        z, mu, logvar = self.encoder(images, training=training)  # [B, Z] each
        raw = self.decoder((z, stroke5), training=training)  # [B, T', 3 + 6M]
        params = self.decoder.head.split(raw)
        target = tf.cast(stroke5[:, 1:], raw.dtype)  # [B, T', 5]
        pen = losses.pen_cross_entropy(
            params["pen_logits"], target[..., 2:], max_len, self.mask_after_end
        )  # [B]
        stroke = losses.stroke_nll(params, target, max_len)  # [B]
        canvas_size = images.shape[1]
        if isinstance(alpha, (int, float)):
            pixel = self._pixel_term(params, stroke5, canvas_size) if alpha else tf.zeros_like(pen)
        else:
            pixel = tf.cond(
                tf.cast(alpha, pen.dtype) > 0.0,
                lambda: self._pixel_term(params, stroke5, canvas_size),
                lambda: tf.zeros_like(pen),
            )  # [B]
        kl = losses.kl_divergence(mu, logvar)  # [B]
        total = losses.total_loss(pen, stroke, pixel, alpha, kl, self.kl_weight)  # [B]
        terms = dict(loss=total, pen=pen, stroke=stroke, pixel=pixel, kl=kl)
        if self.aux_hidden is not None:
            if aux_images is None and training:
                raise ValueError(
                    f"aux_contrastive_weight={self.aux_contrastive_weight} needs aux_images in "
                    "training: the input pipeline's image_aux (pipeline.load(..., aux_view=True))")
            if aux_images is None:
                contrastive = tf.zeros_like(total)  # [B]
            else:
                contrastive = tf.cast(self._aux_term(mu, aux_images, training), total.dtype)
                terms["loss"] = total + self.aux_contrastive_weight * contrastive  # [B]
            terms["contrastive"] = contrastive
        if per_example:
            return terms
        return {name: tf.reduce_mean(value) for name, value in terms.items()}

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            decoder=keras.saving.serialize_keras_object(self.decoder),
            max_seq_len=self.max_seq_len,
            alpha=self.alpha,
            kl_weight=self.kl_weight,
            mask_after_end=self.mask_after_end,
            seed=self.seed,
            aux_contrastive_weight=self.aux_contrastive_weight,
            aux_projection_dim=self.aux_projection_dim,
            aux_temperature=self.aux_temperature,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)

"""``fit`` / ``evaluate`` support shared by SketchEmbedNet and its baselines.

Every model of the project has ``loss_terms`` (names of ``compute_losses``' outputs,
``"loss"`` first) and ``metric_names`` (what ``fit`` reports for each, in the same
order: not ``"loss"``, which Keras 3 overwrites with its compiled-loss tracker).
:class:`LossTermsFitMixin` turns ``compute_losses`` into ``train_step`` /
``test_step`` with one ``keras.metrics.Mean`` per term. The project's own trainer
(``sketchembednet.trainer``) does not use it; it is for users of ``model.fit``.

Example:
  >>> class Model(LossTermsFitMixin, keras.Model):
  ...     loss_terms, metric_names = ("loss",), ("total_loss",)
  ...     def __init__(self):
  ...         super().__init__()
  ...         self.init_trackers()
  >>> [m.name for m in Model().metrics]
  ['total_loss']
"""

import keras
import tensorflow as tf


class LossTermsFitMixin:
    """``train_step``, ``test_step`` and ``metrics`` from ``compute_losses``.

    Batches are ``{"images", "stroke5"}`` dicts, ``(images, stroke5)`` tuples, or (for
    models that need no strokes) bare images. Weights the loss does not use (the
    contrastive model's logvar head) are left out of the update.
    """

    loss_terms = ("loss",)
    metric_names = ("total_loss",)

    def init_trackers(self):
        """Creates the metric trackers; call it in ``__init__`` after ``super().__init__``."""
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}

    @staticmethod
    def _unpack(data):
        if isinstance(data, dict):
            return data["images"], data.get("stroke5")
        if isinstance(data, (list, tuple)):
            return data[0], data[1] if len(data) > 1 else None
        return data, None

    def _update_trackers(self, terms):
        for name, key in zip(self.metric_names, self.loss_terms):
            self.trackers[name].update_state(terms[key])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        images, stroke5 = self._unpack(data)
        with tf.GradientTape() as tape:
            terms = self.compute_losses(images, stroke5, training=True)
            # fit() sums replica gradients: scale the per-replica mean accordingly.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            loss = self.optimizer.scale_loss(terms["loss"] / replicas)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(
            [(g, v) for g, v in zip(grads, self.trainable_weights) if g is not None]
        )
        return self._update_trackers(terms)

    def test_step(self, data):
        images, stroke5 = self._unpack(data)
        return self._update_trackers(self.compute_losses(images, stroke5, training=False))

    @property
    def metrics(self):
        return list(self.trackers.values())

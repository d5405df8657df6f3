"""Tests for sketchembednet.evaluation.loading: workdir, SavedModel and random encoders."""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import distribute
from sketchembednet import trainer
from sketchembednet.configs import base
from sketchembednet.configs import demo
from sketchembednet.evaluation import loading
from sketchembednet.models import factory


@pytest.fixture(scope="module")
def trained(kanjivg_data_dir, tmp_path_factory):
    """A workdir of a 10-step tiny training run, and its trainer."""
    config = demo.get_config("tiny")
    config.dataset.data_dir = kanjivg_data_dir
    config.train.num_steps = 10
    workdir = str(tmp_path_factory.mktemp("run"))
    run = trainer.Trainer(config, workdir, distribute.get_strategy("default"))
    run.train()
    return workdir, run


def _images(n=6, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28, 1)).astype(np.uint8)


def test_embed_fn_from_workdir_matches_the_trained_model(trained):
    workdir, run = trained
    embed_fn = loading.embed_fn_from_workdir(workdir)
    assert embed_fn.image_shape == (28, 28, 1)
    assert embed_fn.source.endswith("ckpt-10")  # The checkpoint, not the end-of-run weights.
    images = _images()
    expected = run.model.embed(tf.cast(images, tf.float32)).numpy()  # [6, 16]
    np.testing.assert_allclose(embed_fn(images), expected, rtol=1e-5, atol=1e-5)
    # The restored weights are the trained ones, not a fresh initialisation.
    with open(os.path.join(workdir, "config.json")) as f:
        fresh = factory.from_config(json.load(f), (28, 28, 1))
    assert np.abs(fresh.embed(tf.cast(images, tf.float32)).numpy() - expected).max() > 1e-3
    with pytest.raises(ValueError, match=r"expects images \[n, 28, 28, 1\]"):
        embed_fn(np.zeros([2, 32, 32, 1], np.uint8))


def test_embed_fn_from_workdir_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json: not found"):
        loading.embed_fn_from_workdir(str(tmp_path))
    config = {"model": dict(base.model_config("tiny")), "dataset": {"max_len": 64}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="no checkpoint in"):
        loading.embed_fn_from_workdir(str(tmp_path), image_shape=(28, 28, 1))


def test_checkpoint_alone_restores_every_encoder_variable(trained, tmp_path):
    """Mid-run evaluation: no model.weights.h5 yet, BatchNorm statistics included."""
    workdir, run = trained
    copy = tmp_path / "copy"
    shutil.copytree(workdir, copy)
    (copy / "model.weights.h5").unlink()
    embed_fn = loading.embed_fn_from_workdir(str(copy))
    for got, want in zip(embed_fn.model.encoder.variables, run.model.encoder.variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=got.path)


def test_random_encoder_is_seeded():
    images = _images()
    a = loading.random_encoder_embed_fn("tiny", (28, 28, 1), seed=0)(images)
    b = loading.random_encoder_embed_fn("tiny", (28, 28, 1), seed=0)(images)
    c = loading.random_encoder_embed_fn("tiny", (28, 28, 1), seed=1)(images)
    assert a.shape == (6, 16) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4


def test_random_encoder_leaves_global_random_state_alone():
    import random

    import keras

    from sketchembednet.models import presets

    random.seed(7)
    expected_next = random.random()
    random.seed(7)
    fn = loading.random_encoder_embed_fn("tiny", (28, 28, 1), seed=5)
    assert random.random() == expected_next  # The caller's random stream is untouched.
    # The weights are those of the old, globally seeded build (the tables stay valid).
    keras.utils.set_random_seed(5)
    cfg = presets.resolve_config("tiny")
    reference = presets.build_encoder(cfg["encoder"], cfg["encoder_filters"],
                                      cfg["embedding_dim"], seed=5)
    reference.build((None, 28, 28, 1))
    for got, want in zip(fn.model.variables, reference.variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=got.path)


class _Exported(tf.Module):
    """A SavedModel as the export issue will write: uint8 images -> embeddings."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.uint8, name="images")])
    def embed(self, images):
        return {"embedding": self.encoder(tf.cast(images, tf.float32), training=False)[1]}


def test_embed_fn_from_saved_model(tmp_path):
    source = loading.random_encoder_embed_fn("tiny", (28, 28, 1), seed=3)
    module = _Exported(source.model)
    path = str(tmp_path / "saved")
    tf.saved_model.save(module, path, signatures={"serving_default": module.embed})
    embed_fn = loading.embed_fn_from_saved_model(path)
    assert embed_fn.image_shape == (28, 28, 1)
    images = _images()
    np.testing.assert_allclose(embed_fn(images), source(images), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="no signature 'other'"):
        loading.embed_fn_from_saved_model(path, signature="other")


def test_checkpoint_of_another_model_is_refused_with_its_path(trained, tmp_path):
    workdir, _ = trained
    copy = tmp_path / "copy"
    shutil.copytree(workdir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["model"]["rnn_units"] += 8  # A different decoder than the one checkpointed.
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"ckpt-10: this checkpoint does not match the model"):
        loading.embed_fn_from_workdir(str(copy))


def test_dataset_image_shape_reads_the_builder_info():
    assert loading.dataset_image_shape({"dataset": {"name": "kanjivg"}}) == (28, 28, 1)

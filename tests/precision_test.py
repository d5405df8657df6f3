"""Tests for sketchembednet.precision and models built with precision='mixed_bfloat16'."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import precision
from sketchembednet import testing
from sketchembednet.data import rasterize
from sketchembednet.models import presets

T = 12
needs_bf16 = pytest.mark.skipif(not precision.bf16_support()[0],
                                reason="this machine has no native bfloat16 matmuls")


def test_doctests():
    assert doctest.testmod(precision, extraglobs={"keras": keras}).failed == 0


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="unknown precision 'float16'"):
        presets.build_model("tiny", precision="float16")


def test_bf16_is_refused_on_a_cpu_without_it(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "fma"})
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    assert precision.bf16_support() == (False, "a CPU without AMX-BF16 or AVX512-BF16")
    with pytest.raises(ValueError, match="slower than float32"):
        presets.build_model("tiny", precision="mixed_bfloat16")
    precision.check("float32")  # Always fine.


def test_cpu_model_reads_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC   9R14 96-Core Processor\n"
                       "flags\t\t: fpu avx512_bf16\n")
    assert precision.cpu_model(str(cpuinfo)) == "AMD EPYC 9R14 96-Core Processor"
    assert precision.cpu_model(str(tmp_path / "absent")) == "unknown"
    cpuinfo.write_text("processor\t: 0\n")
    assert precision.cpu_model(str(cpuinfo)) == "unknown"


def test_policy_scope_restores_the_global_policy():
    before = keras.config.dtype_policy().name
    with pytest.raises(RuntimeError):
        with precision.policy_scope("mixed_bfloat16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError
    assert keras.config.dtype_policy().name == before


def _batch(batch=4, seed=0):
    s5 = testing.random_stroke5(batch, T, seed)
    return tf.cast(rasterize.render_images(s5, 28), tf.float32), s5


def _pair():
    """A float32 and a mixed_bfloat16 model with the same weights."""
    models = []
    for name in ("float32", "mixed_bfloat16"):
        model = presets.build_model("tiny", max_seq_len=T, seed=1, precision=name)
        model.build(((None, 28, 28, 1), (None, T + 1, 5)))
        models.append(model)
    for a, b in zip(models[0].variables, models[1].variables):
        b.assign(a)
    return models


@needs_bf16
def test_mixed_model_computes_in_bf16_keeps_float32_variables_and_losses():
    fp32, mixed = _pair()
    assert all(v.dtype == "float32" for v in mixed.trainable_variables)
    assert mixed.decoder.cell.compute_dtype == "bfloat16"
    assert mixed.encoder.blocks[0].compute_dtype == "bfloat16"
    weights = mixed.decoder.cell.packed_weights()
    assert weights["recurrent_kernel"].dtype == tf.bfloat16 and weights["bias"].dtype == tf.float32
    # The embedding and mixture heads, the raw outputs and every loss stay float32.
    assert mixed.encoder.embedding.compute_dtype == "float32"
    assert mixed.decoder.head.compute_dtype == "float32"
    images, s5 = _batch()
    assert mixed((images, s5)).dtype == tf.float32
    assert mixed.embed(images).dtype == tf.float32
    want = fp32.compute_losses(images, s5, alpha=0.5)
    got = mixed.compute_losses(images, s5, alpha=0.5)
    for name in ("loss", "pen", "stroke", "pixel"):
        assert got[name].dtype == tf.float32
        # bf16 keeps ~3 significant digits; the sums stay within a percent or two.
        np.testing.assert_allclose(got[name].numpy(), want[name].numpy(), rtol=3e-2, err_msg=name)


@needs_bf16
def test_mixed_gradients_are_float32_finite_and_close_to_float32():
    fp32, mixed = _pair()
    images, s5 = _batch()
    grads = []
    for model in (fp32, mixed):
        with tf.GradientTape() as tape:
            loss = model.compute_losses(images, s5, alpha=0.5)["loss"]
        # logvar is unused in inference mode: its gradient is None in both models.
        variables = model.trainable_variables
        grads.append([tf.zeros(v.shape) if g is None else g
                      for v, g in zip(variables, tape.gradient(loss, variables))])
    flat = [tf.concat([tf.reshape(g, [-1]) for g in gs], 0).numpy() for gs in grads]
    assert flat[1].dtype == np.float32 and np.isfinite(flat[1]).all()
    cosine = flat[0] @ flat[1] / np.linalg.norm(flat[0]) / np.linalg.norm(flat[1])
    assert cosine > 0.99, cosine


@needs_bf16
def test_mixed_model_samples_and_survives_a_config_round_trip():
    _, mixed = _pair()
    images, _ = _batch()
    stroke5, lengths = mixed.sample(mixed.embed(images), max_len=T, seed=0)
    assert stroke5.dtype == tf.float32 and stroke5.shape == (4, T + 1, 5)
    clone = mixed.__class__.from_config(mixed.get_config())
    assert clone.decoder.cell.dtype_policy.name == "mixed_bfloat16"
    assert clone.encoder.embedding.dtype_policy.name == "float32"

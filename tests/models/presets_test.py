"""Tests for sketchembednet.models.presets: sizes against the reference notes."""

import doctest

import numpy as np
import pytest

from sketchembednet.models import presets


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def _built(name):
    model = presets.build_model(name)
    model.build(((None, 28, 28, 1), (None, 65, 5)))
    return model


def test_doctests():
    assert doctest.testmod(presets).failed == 0


def test_paper_preset_matches_reference_parameter_counts():
    model = _built("paper")
    decoder = model.decoder
    # Reference notes Sec. 1: decoder ~10.3M (cell + output head), initial-state Dense
    # 0.79M, Conv4 0.11M.
    assert abs(_count(decoder.cell.weights) + _count(decoder.head.weights) - 10.3e6) < 0.1e6
    assert _count(decoder.initial_state_dense.weights) == 256 * 3072 + 3072
    assert decoder.head.dense.kernel.shape == (1024, 183)
    backbone = _count([w for b in model.encoder.blocks for w in b.weights])
    assert abs(backbone - 0.11e6) < 0.01e6


def test_cpu_preset_is_about_ten_times_smaller():
    paper, cpu = _built("paper"), _built("cpu")
    assert cpu.count_params() < paper.count_params() / 8
    assert cpu.decoder.num_mixtures == 20 and cpu.encoder.embedding_dim == 256


def test_resnet12_preset_and_overrides():
    model = presets.build_model("paper_resnet12", embedding_dim=64)
    assert [b.filters for b in model.encoder.blocks] == [64, 128, 256, 512]
    assert model.encoder.embedding_dim == 64
    assert presets.build_from_config({"preset": "cpu", "num_mixtures": 5}).decoder.num_mixtures == 5


def test_bad_names_are_reported():
    with pytest.raises(ValueError, match="unknown preset"):
        presets.build_model("huge")
    with pytest.raises(ValueError, match="unknown model config keys"):
        presets.build_model("cpu", rnn_size=3)
    with pytest.raises(ValueError, match="unknown encoder"):
        presets.build_model("cpu", encoder="vgg")


def test_aux_contrastive_fields_pass_through():
    from sketchembednet.configs import base

    fields = presets.resolve_config("tiny")
    assert (fields["aux_contrastive_weight"], fields["aux_projection_dim"],
            fields["aux_temperature"]) == (0.0, 128, 0.1)
    model = presets.build_model("tiny", aux_contrastive_weight=0.2, aux_projection_dim=12,
                                aux_temperature=0.3)
    assert (model.aux_contrastive_weight, model.aux_projection_dim,
            model.aux_temperature) == (0.2, 12, 0.3)
    assert model.aux_projection.units == 12
    assert presets.build_model("tiny").aux_hidden is None
    config = base.model_config("cpu", aux_contrastive_weight=0.1)
    assert config.aux_contrastive_weight == 0.1 and config.aux_temperature == 0.1
    # The baselines ignore the fields (configs.checks refuses them there).
    assert type(presets.build_model("tiny", kind="contrastive",
                                    aux_contrastive_weight=0.1)).__name__ == "ContrastiveEmbedNet"


def test_contrastive_baseline_takes_projection_size_and_temperature():
    model = presets.build_model("tiny", kind="contrastive", aux_projection_dim=12,
                                temperature=0.5)
    assert (model.projection_dim, model.temperature) == (12, 0.5)
    assert presets.build_model("tiny", kind="contrastive").projection_dim == 128

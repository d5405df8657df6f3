"""Tests for the packaged training configs' variants and data sources."""

import pytest

from sketchembednet import configs
from sketchembednet.configs import checks
from sketchembednet.configs import pretrained
from sketchembednet.configs import quickdraw_shared


def test_every_packaged_config_resolves_to_a_file():
    for name in configs.PACKAGED:
        path = configs.config_path(f"{name}:x")
        assert path.endswith(f"{name}.py:x")


def test_quickdraw_shared_builds_its_own_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TFDS_DATA_DIR", "/elsewhere")
    c = quickdraw_shared.get_config("contrastive")  # Configs read no environment ...
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKETCHEMBEDNET_QUICKDRAW_DIR", "/data/qd")
    source = checks.dataset_source(c.dataset)  # ... the run resolves the paths when it starts.
    assert c.dataset.name == "quickdraw/paper_300_ndjson"
    assert source["data_dir"] == str(tmp_path / "quickdraw_shared_sample")
    assert source["manual_dir"] == "/data/qd" and c.dataset.builder_kwargs.allow_missing_classes
    assert c.model.kind == "contrastive"


def test_pretrained_mix_paths_resolve_when_the_run_starts(monkeypatch, tmp_path):
    c = pretrained.get_config("small")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SKETCHEMBEDNET_QUICKDRAW_DIR", raising=False)
    mix = checks.data_sources(c.dataset)[1]
    assert mix["data_dir"] == str(tmp_path / "quickdraw_shared_sample")
    assert not mix["manual_dir"]  # Unset: the builder's own download or manual default.


def test_unknown_path_placeholder_is_named():
    with pytest.raises(ValueError, match=r"\{tfds_dir\}/x: unknown placeholder"):
        checks.dataset_source({"data_dir": "{tfds_dir}/x"})


@pytest.mark.parametrize("arg, units, kind, steps", [
    ("small", 256, "sketchembednet", 9000), ("mid", 512, "sketchembednet", 3600),
    ("small,conv_vae", 256, "conv_vae", 9000), ("contrastive,mid", 512, "contrastive", 3600)])
def test_pretrained_variants_share_data_and_schedule_shape(arg, units, kind, steps):
    c = pretrained.get_config(arg)
    assert (c.model.rnn_units, c.model.kind, c.train.num_steps) == (units, kind, steps)
    assert c.dataset.name == "kanjivg" and c.dataset.mix[0]["name"] == "quickdraw/paper_300_ndjson"
    assert c.model.mask_after_end and c.dataset.length_buckets
    # α reaches its cap of 0.5 at a third of the run, as the paper's 100k of 300k.
    assert c.alpha.interval * round(c.alpha.max / c.alpha.increment) == steps // 3
    assert c.model.kl_weight == (1.0 if kind == "conv_vae" else 0.0)


def test_pretrained_rejects_unknown_or_ambiguous_variants():
    for arg in ("large", "small,mid", "small,vae"):
        with pytest.raises(ValueError, match="pretrained"):
            pretrained.get_config(arg)


def _tiny():
    from sketchembednet.configs import demo

    return demo.get_config("tiny")


def test_every_config_has_the_new_fields_at_their_off_defaults():
    from sketchembednet.configs import base, demo

    for config in (base.get_base_config(), demo.get_config(), demo.get_config("tiny,contrastive"),
                   pretrained.get_config("small"), quickdraw_shared.get_config("")):
        assert (config.model.aux_contrastive_weight, config.model.aux_projection_dim,
                config.model.aux_temperature) == (0.0, 128, 0.1)
        assert config.train.max_wall_minutes == 0.0
        checks.check_config(config)


def test_aux_contrastive_needs_augmentation_and_sketchembednet():
    config = _tiny()
    config.model.aux_contrastive_weight = 0.1
    with pytest.raises(checks.ConfigError) as error:
        checks.check_config(config)
    assert str(error.value) == (
        "invalid config: model.aux_contrastive_weight=0.1 needs a non-zero dataset.augment "
        "strength (its two views of a sketch would be identical)")
    config.dataset.augment.jitter = 0.05
    checks.check_config(config)  # Augmented: accepted.
    config.model.kind = "contrastive"
    with pytest.raises(checks.ConfigError,
                       match=r"^invalid config: model.aux_contrastive_weight=0.1 needs "
                             r"model.kind='sketchembednet' \(not 'contrastive'\)$"):
        checks.check_config(config)
    config.model.kind = "sketchembednet"
    config.model.aux_contrastive_weight = 0.0
    config.dataset.augment.jitter = 0.0
    checks.check_config(config)  # Off: nothing else is needed.


def test_bad_aux_and_wall_budget_values_are_named():
    config = _tiny()
    config.model.aux_contrastive_weight = -0.5
    config.model.aux_projection_dim = 0
    config.model.aux_temperature = 0.0
    config.train.max_wall_minutes = -1.0
    with pytest.raises(checks.ConfigError) as error:
        checks.check_config(config)
    assert str(error.value) == (
        "invalid config: train.max_wall_minutes=-1.0 must be >= 0 (0 = no budget); "
        "model.aux_contrastive_weight=-0.5 must be >= 0 (0 = off); "
        "model.aux_projection_dim=0 must be > 0; model.aux_temperature=0.0 must be > 0")


def test_configs_without_the_new_fields_still_check():
    """A config.json written before the fields existed (the tuner re-reads them)."""
    config = _tiny()
    del config.model["aux_contrastive_weight"]
    del config.train["max_wall_minutes"]
    checks.check_config(config)

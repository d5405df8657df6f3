"""Tests for sketchembednet.figures: the index page, and the whole CLI on real drawings."""

import json
import os
import subprocess
import sys

import pytest

from sketchembednet import figures
from sketchembednet import testing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _accuracies(value):
    return {"accuracy": value, "balanced_accuracy": value}


def test_index_page_shows_every_figure_with_its_numbers():
    grid = {"file": "samples_unseen_classes.png"}
    result = {
        "workdir": "runs/qd", "checkpoint": "runs/qd/checkpoints/ckpt-3000",
        "generation": {"temperature": 0.1, "one_shot_temperature": 0.5, "sets": {
            "unseen classes": {"images": 1100, "classes": 45, "grid": grid,
                               "one_shot": {"file": "one_shot_unseen_classes.png"}}}},
        "recognisability": {"seen classes": {
            "classes": 14, "train_images": 6000, "test_images": 700,
            "real": _accuracies(0.9), "samples": _accuracies(0.41),
            "reference": _accuracies(0.08), "blank_canvas": _accuracies(0.07),
            "examples": {"file": "recognisability_seen.png"}}},
        "structure": {"sets": {
            "placement": {"figure": "umap_placement.png", "readout": {
                "embedding": {"accuracy": 0.97, "chance": 0.25, "n_test": 200},
                "pixels": {"accuracy": 1.0, "chance": 0.25, "n_test": 200}}},
            "spatial": {"figure": "umap_spatial.png", "readout": {
                "embedding": {"r2": {"distance": 0.4, "angle": 0.3, "size": 0.7}, "n_test": 9},
                "pixels": {"r2": {"distance": 0.5, "angle": 0.0, "size": 0.2}, "n_test": 9}}}},
            "arithmetic": {"figure": "arithmetic.png", "equations": [
                {"expression": "snowman - circle + square",
                 "nearest_excluding_operands": [["anvil", 0.66], ["shorts", 0.63]]}]}},
        "omniglot_map": {"figure": "omniglot_map.png", "method": "umap", "alphabets": {
            "Greek": {"characters": 20, "drawings": 400, "nn_accuracy": 0.8125,
                      "chance": 0.05}}},
    }
    page = figures.index_markdown(result, "python -m sketchembednet.figures --out=x")
    for name in ("samples_unseen_classes.png", "one_shot_unseen_classes.png",
                 "recognisability_seen.png", "umap_placement.png", "umap_spatial.png",
                 "arithmetic.png", "omniglot_map.png"):
        assert f"]({name})" in page
    assert "| seen classes (14) | 6000 / 700 | 90.0% | 41.0% | 8.0% | 7.0% |" in page
    assert "accuracy μ 0.97, pixels 1.00 (chance 0.25)" in page
    assert "size μ 0.70 / pixels 0.20" in page
    assert "anvil (0.66), shorts (0.63)" in page
    assert "| Greek | 20 x 20 | 81.2% | 5.0% |" in page


@pytest.mark.large
def test_figures_cli_on_the_shared_quickdraw_sample(shared_data, tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import shared_quickdraw
    finally:
        sys.path.pop(0)
    shared_quickdraw.link_shared_quickdraw(shared_data, tmp_path / "qd")
    workdir = testing.make_fake_workdir(tmp_path)
    out = tmp_path / "figures"
    npz = shared_data / "omniglot" / "npz_105x105" / "images_background.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "sketchembednet.figures", f"--workdir={workdir}",
         f"--quickdraw_dir={tmp_path / 'qd'}", f"--omniglot_npz={npz}", f"--out={out}"],
        capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / "results.json").read_text())
    assert set(result["generation"]["sets"]) == {
        "seen classes (held-out drawings)", "unseen classes", "Omniglot (unseen dataset)"}
    seen = result["recognisability"]["seen classes"]
    assert seen["classes"] == 14 and seen["real"]["accuracy"] > 0.5  # a working classifier
    page = (out / "index.md").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) >= 12 and all(f"]({name})" in page for name in pngs)
    assert set(result["omniglot_map"]["alphabets"]) == {"Greek", "Korean", "Bengali", "Tifinagh"}


def _figures(*args):
    return subprocess.run([sys.executable, "-m", "sketchembednet.figures", *args],
                          capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


def test_figures_cli_names_bad_sections_and_alphabets(tmp_path):
    export = os.path.join(ROOT, "exported", "sketchembednet")
    proc = _figures(f"--workdir={export}", f"--out={tmp_path}", "--sections=omniglot_map",
                    "--alphabets=Greek,Klingon")
    assert proc.returncode != 0
    assert "--alphabets: unknown ['Klingon']" in proc.stderr
    proc = _figures(f"--workdir={export}", f"--out={tmp_path}", "--sections=generation")
    assert proc.returncode != 0
    assert "--quickdraw_dir is needed by the sections ['generation']" in proc.stderr


@pytest.mark.large
def test_omniglot_map_of_an_export_folder(shared_data, tmp_path):
    """The shipped export, loaded from its folder, maps an unseen alphabet far above chance."""
    export = os.path.join(ROOT, "exported", "sketchembednet")
    npz = shared_data / "omniglot" / "npz_105x105" / "images_background.npz"
    proc = _figures(f"--workdir={export}", f"--omniglot_npz={npz}", f"--out={tmp_path}",
                    "--sections=omniglot_map", "--alphabets=Greek")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "results.json").read_text())
    greek = result["omniglot_map"]["alphabets"]["Greek"]
    assert (greek["characters"], greek["drawings"]) == (20, 400)
    assert greek["nn_accuracy"] > 5 * greek["chance"]
    assert "](omniglot_map.png)" in (tmp_path / "index.md").read_text()

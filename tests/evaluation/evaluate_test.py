"""End-to-end tests of the evaluation CLI, ``python -m sketchembednet.evaluate``."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from absl import app
from absl import flags
from PIL import Image

from sketchembednet import evaluate


def _make_classes(root, classes=4, per_class=5):
    """Class c: a black square at a class-specific position, jittered by a pixel or two."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True)
        for i in range(per_class):
            image = Image.new("L", (56, 56), 255)
            x, y = 4 + 12 * c + rng.integers(0, 3), 4 + 8 * c + rng.integers(0, 3)
            image.paste(0, (int(x), int(y), int(x) + 12, int(y) + 12))
            image.save(root / f"class{c}" / f"{i}.png")
    return root


def test_fewshot_command_end_to_end(tmp_path):
    data = _make_classes(tmp_path / "data")
    out = tmp_path / "out" / "result.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-m", "sketchembednet.evaluate", "fewshot", "--random=tiny",
         f"--dataset=folder:{data}", "--ways=2,4", "--shots=1,2", "--episodes=6",
         "--seed=1", f"--json={out}"],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ways shots episodes  accuracy (%)" in proc.stdout
    report = json.loads(out.read_text())
    assert report["command"] == "fewshot" and report["model"] == {"random": "tiny", "seed": 1}
    assert (report["num_images"], report["num_classes"]) == (20, 4)
    settings = [(r["ways"], r["shots"], r["episodes"]) for r in report["results"]]
    assert settings == [(2, 1, 6), (2, 2, 6), (4, 1, 6), (4, 2, 6)]
    for r in report["results"]:
        assert 0.0 <= r["accuracy"] <= 1.0 and r["ci95"] >= 0.0
        assert r["query_per_class"] == 5 - r["shots"]
        assert f"{100 * r['accuracy']:.2f} ± {100 * r['ci95']:.2f}" in proc.stdout


@pytest.fixture
def cli_flags():
    """Parses flags in-process for one test, and resets them afterwards."""
    def parse(*args):
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["evaluate", *args])
    yield parse
    flags.FLAGS.unparse_flags()


def test_linear_probe_command(tmp_path, cli_flags, capsys):
    data = _make_classes(tmp_path / "data", classes=3, per_class=6)
    out = tmp_path / "probe.json"
    cli_flags("--random=tiny", f"--dataset=folder:{data}", f"--json={out}")
    evaluate.main(["evaluate", "linear_probe"])
    report = json.loads(out.read_text())
    assert report["command"] == "linear_probe"
    (result,) = report["results"]
    assert (result["num_classes"], result["num_train"], result["num_test"]) == (3, 9, 9)
    assert f"{100 * result['accuracy']:.2f}" in capsys.readouterr().out


def test_usage_errors(tmp_path, cli_flags):
    cli_flags("--random=tiny")
    with pytest.raises(app.UsageError, match="fewshot|linear_probe"):
        evaluate.main(["evaluate", "classify"])
    cli_flags("--random=tiny", "--workdir=/nowhere", f"--dataset=folder:{tmp_path}")
    with pytest.raises(app.UsageError, match="exactly one of"):
        evaluate.main(["evaluate", "fewshot"])

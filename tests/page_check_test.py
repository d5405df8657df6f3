"""Tests for tools/page_check.py: the exported encoder fed raw pages through ``hub.load``."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT = os.path.join(ROOT, "exported", "sketchembednet")


def _run(*args, **kwargs):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), **kwargs)


def test_docstring_examples():
    # In a subprocess: the tool defines absl flags at import, as other tools do.
    proc = _run("-c", "import doctest, page_check; "
                "assert doctest.testmod(page_check).failed == 0, 'doctest failed'",
                cwd=os.path.join(ROOT, "tools"))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.mark.large
def test_one_half_of_the_classes_through_hub_load_into_a_markdown_block(shared_data, tmp_path):
    page = tmp_path / "card.md"
    page.write_text("before\n<!-- half1:begin -->\nold\n<!-- half1:end -->\nafter\n")
    out = tmp_path / "check.json"
    proc = _run(os.path.join(ROOT, "tools", "page_check.py"),
                f"--encoder=shipped={EXPORT}/encoder", f"--baseline_encoder={EXPORT}/encoder",
                f"--shared_data={shared_data}", "--half=1", "--pages=0", "--routes=raw pages",
                "--episodes=30", f"--json={out}", f"--markdown={page}", "--block=half1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["classes"] == "background half 1 (482 classes)"
    first, second = result["reports"]
    assert first["name"] == "shipped" and second["name"] == f"{EXPORT}/encoder"
    assert "crop_cosine" not in first  # --pages=0
    assert set(first) >= {"raw pages"} and "raw pages, serving_unframed" not in first
    # The same module twice: the same episodes give the same numbers.
    assert first["raw pages"] == second["raw pages"]
    assert first["raw pages"]["20w1s"]["accuracy"] > 50  # chance is 5%
    text = page.read_text()
    assert text.startswith("before\n<!-- half1:begin -->\nOmniglot background half 1")
    assert "| shipped | raw pages | " in text and text.endswith("<!-- half1:end -->\nafter\n")

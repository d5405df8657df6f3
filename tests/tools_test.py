"""Smoke test of the performance harness (tools/bench.py): it runs and reports sane rows."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.large
def test_bench_harness_reports_training_rows_and_breakdown(tmp_path):
    out = tmp_path / "bench.json"
    cmd = [sys.executable, os.path.join(ROOT, "tools", "bench.py"),
           "--sections=matmul,train,breakdown,embedding", "--train_rows=tiny:8",
           "--breakdown_row=tiny:8", "--precisions=float32", "--bucketing=off,on",
           "--length_buckets=16,32", "--lengths=kanjivg", "--steps=2", "--warmup=1",
           "--min_seconds=0", "--repeats=1", f"--out={out}"]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert {r["dtype"] for r in report["matmul"]} >= {"float32"}
    rows = {r["bucketing"]: r for r in report["train"]}
    assert set(rows) == {False, True}
    for row in rows.values():
        assert row["examples_per_sec"] > 0 and row["peak_rss_mib"] > 100
    # Bucketed batches are cut to their longest sketch: fewer decoder steps than T = 64.
    assert rows[False]["mean_decoded_steps"] == 64
    assert rows[True]["mean_decoded_steps"] < 64
    assert "tiny:8 float32 +bucketing" in report["train_speedups_vs_fp32_padded"]
    parts = report["breakdown"]["seconds"]
    assert len(parts) == 4 and all(v > 0 for v in parts.values())
    assert "Training step" in proc.stdout and "Breakdown" in proc.stdout


def test_results_table_renders_rows_and_replaces_only_the_marked_block(tmp_path):
    from sketchembednet.evaluation import results as rt

    results = {f"{w}w{s}s": dict(accuracy=50.0 + w + s, ci95=0.5) for w, s in rt.SETTINGS}
    rows = [dict(name="SketchEmbedNet", workdir="runs/x", dataset="kanjivg", preset="cpu",
                 batch=64, steps=3000, wall_minutes=7.3, results=results),
            dict(name="Random CNN", workdir=None, results=results)]
    block = rt.markdown(rows, 1000, "python tools/results_table.py --run=a=b")
    assert ("| SketchEmbedNet | `kanjivg`, `cpu` encoder | 3000 × 64 | 7.3 min | 56.00 ± 0.50"
            in block)
    assert "| Random CNN | nothing | 0 | 0 |" in block
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{rt.BEGIN}\nold table\n{rt.END}\noutro\n")
    rt.replace_block(str(readme), block)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n")
    assert "old table" not in text and block in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="results:begin"):
        rt.replace_block(str(readme), block)

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

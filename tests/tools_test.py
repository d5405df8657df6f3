"""Smoke test of the performance harness (tools/bench.py): it runs and reports sane rows."""

import functools
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


def test_results_route_half1_keeps_the_classes_never_chosen_on(tmp_path):
    import numpy as np

    from sketchembednet.evaluation import fewshot
    from sketchembednet.evaluation import results as rt

    images = np.ones([9, 20, 105, 105], bool)  # images_background.npz: True = background
    for c in range(9):
        images[c, :, 10 + 8 * c : 30 + 8 * c, 40:50] = False  # a bar per class
    npz = tmp_path / "images_background.npz"
    np.savez(npz, images=images, labels=np.repeat(np.arange(9)[:, None], 20, axis=1))
    every = rt.load_route("pages", data_path=str(npz))
    half1 = rt.load_route("pages_half1", data_path=str(npz))
    assert every.num_classes == 9 and len(every.labels) == 180
    np.testing.assert_array_equal(np.unique(half1.labels), fewshot.half_classes(np.arange(9), 1))
    assert half1.num_classes == 4 and len(half1.labels) == 80  # 5 of 9 in half 0
    np.testing.assert_array_equal(half1.images, every.images[np.isin(every.labels, half1.labels)])
    with pytest.raises(ValueError, match="unknown route"):
        rt.load_route("pages_half2", data_path=str(npz))


def test_probe_table_uses_its_own_markers(tmp_path):
    from sketchembednet.evaluation import results as rt

    sets = {"seen classes, held-out drawings": dict(classes=14, images=700, source="a"),
            "unseen classes": dict(classes=45, images=1500, source="b")}
    rows = [dict(name="SketchEmbedNet", workdir="runs/x", dataset="quickdraw", preset="cpu",
                 batch=64, steps=3000, wall_minutes=9.0,
                 results={c: dict(accuracy=40.0 + i, ci95=1.5) for i, c in enumerate(sets)})]
    block = rt.probe_markdown(rows, sets, "cmd")
    assert ("| SketchEmbedNet | `quickdraw`, `cpu` encoder | 3000 × 64 | 9.0 min | "
            "40.00 ± 1.50 | 41.00 ± 1.50 |") in block
    assert "chance 7.1%" in block and "chance 2.2%" in block
    readme = tmp_path / "README.md"
    readme.write_text(f"{rt.BEGIN}\nfew-shot\n{rt.END}\n{rt.PROBE_BEGIN}\nold\n{rt.PROBE_END}\n")
    rt.replace_block(str(readme), block, rt.PROBE_BEGIN, rt.PROBE_END)
    text = readme.read_text()
    assert "few-shot" in text and "old" not in text and block in text


def _fake_pack(root):
    small = root / "quickdraw" / "simplified_345cls_25each"
    large = root / "quickdraw" / "simplified_15cls_500to2000each"
    small.mkdir(parents=True)
    large.mkdir(parents=True)
    for name in ("cat", "bicycle", "circle"):
        (small / f"{name}.ndjson").write_text("small\n")
    for name in ("cat", "cat_2k", "bycicle", "paint-can"):
        (large / f"{name}.ndjson").write_text("large\n" * 3)
    return small, large


def test_shared_quickdraw_links_prefer_the_longer_files_and_fix_names(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import shared_quickdraw
    finally:
        sys.path.pop(0)
    small, large = _fake_pack(tmp_path / "pack")
    out = tmp_path / "out"
    targets = shared_quickdraw.link_shared_quickdraw(tmp_path / "pack", out)
    assert set(targets) == {"cat", "bicycle", "circle", "paint can"}
    assert (out / "cat.ndjson").resolve() == (large / "cat_2k.ndjson").resolve()
    assert (out / "bicycle.ndjson").resolve() == (large / "bycicle.ndjson").resolve()
    assert (out / "circle.ndjson").resolve() == (small / "circle.ndjson").resolve()
    assert all((out / f"{n}.ndjson").is_symlink() for n in targets)  # Linked, not copied.
    shared_quickdraw.link_shared_quickdraw(tmp_path / "pack", out)  # Re-linking is fine.
    (out / "extra.ndjson").unlink(missing_ok=True)
    (out / "circle.ndjson").unlink()
    (out / "circle.ndjson").write_text("a real file")
    with pytest.raises(FileExistsError, match="circle.ndjson"):
        shared_quickdraw.link_shared_quickdraw(tmp_path / "pack", out)
    with pytest.raises(FileNotFoundError, match="no .ndjson files"):
        shared_quickdraw.link_shared_quickdraw(tmp_path / "nothing", tmp_path / "out2")


@pytest.mark.large
def test_probe_rows_on_the_shared_quickdraw_sample(shared_data, tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import shared_quickdraw
    finally:
        sys.path.pop(0)
    from sketchembednet.evaluation import results as rt

    shared_quickdraw.link_shared_quickdraw(shared_data, tmp_path / "qd")
    rows, sets = rt.probe_rows([], "tiny", str(tmp_path / "qd"), str(tmp_path / "tfds"), seed=0)
    seen, unseen = (sets[c] for c, *_ in rt.PROBES)
    # 14 of the 15 long class files are paper training classes (airplane is held out).
    assert seen["classes"] == 14 and seen["images"] >= 14 * 20
    assert 40 <= unseen["classes"] <= 45 and 800 < unseen["images"] <= 25 * unseen["classes"]
    (row,) = rows
    for column, *_ in rt.PROBES:
        chance = 100 / sets[column]["classes"]
        assert chance < row["results"][column]["accuracy"] <= 100


@functools.lru_cache(maxsize=None)
def _load_tool(name):
    """A tool module, loaded once (its absl flags can be defined only once)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "tools", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ablation_table_marks_the_row_chosen_on_half_0_and_replaces_its_block(tmp_path):
    ablate = _load_tool("ablate")
    results = lambda h0, h1: {  # noqa: E731
        f"{s} {w}w1s": dict(accuracy=a, ci95=1.0)
        for s, a in (("half 0", h0), ("half 1", h1), ("strokes", h1)) for w in (20, 5)}
    facts = dict(steps=900, batch=64, minutes=25.2, sources=["kanjivg", "hershey"])
    rows = [dict(name="shipped", trained=False, facts=dict(facts, minutes=None),
                 results=results(90.0, 90.0)),
            dict(name="a", trained=True, facts=facts, results=results(70.0, 71.0)),
            dict(name="b", trained=True, facts=facts, results=results(72.5, 60.0))]
    table = ablate.markdown(rows, 25.0, 10, "python tools/ablate.py --minutes=25")
    lines = {line.split(" | ")[0][2:]: line for line in table.splitlines() if line.startswith("| ")}
    # The best *trained* row on the selection half is marked, not the baseline, and not
    # the best on the reporting half.
    assert "**72.50 ± 1.00**" in lines["b"] and "**" not in lines["a"] + lines["shipped"]
    assert "900 × 64 | 25.2 min (0.60) |" in lines["a"] and "| n/a |" in lines["shipped"]
    doc = tmp_path / "results.md"
    doc.write_text(f"intro\n{ablate.BEGIN}\nold\n{ablate.END}\noutro\n")
    ablate.replace_block(str(doc), table)
    text = doc.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("outro\n")
    assert ablate.slug("+ Hershey + hanzi, augmented") == "hershey_hanzi_augmented"


def test_ablation_probe_rate_ignores_the_compiling_first_loops():
    ablate = _load_tool("ablate")
    log = "\n".join(f"I1205 trainer.py:362] step {50 * i}: {{'train/loss': 1.0, "
                     f"'train/steps_per_sec': {rate}, 'train/step': {50 * i}}}"
                     for i, rate in enumerate((0.5, 0.9, 3.4, 3.3, 3.6, 3.5), 1))
    assert ablate.steady_rate(log) == pytest.approx(3.5)  # median of 3.3, 3.6, 3.5
    with pytest.raises(ValueError, match="steps_per_sec"):
        ablate.steady_rate("no rates here")


def test_ablation_headroom_plans_more_steps_than_fit():
    ablate = _load_tool("ablate")
    assert ablate.planned_steps(3.0, 25.0) == 4500
    assert ablate.planned_steps(3.0, 25.0, headroom=1.1) == 4950
    assert ablate.planned_steps(0.01, 1.0) == ablate.PROBE_STEPS  # never below the probe
    with pytest.raises(ValueError, match="headroom=0.9"):
        ablate.planned_steps(3.0, 25.0, headroom=0.9)


def test_ablation_cli_refuses_a_headroom_below_one_before_any_probe(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "ablate.py"),
                           "--headroom=0.9", f"--root={tmp_path}", "--train_only",
                           "--row=x=hershey"], capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert proc.returncode != 0
    assert "headroom" in proc.stderr and "0.9" in proc.stderr
    assert not os.listdir(tmp_path)  # Refused at flag parsing: no probe run started.


def test_ablation_config_rows():
    from sketchembednet.configs import ablation

    config = ablation.get_config("hershey,hanzi,aug,b256,steps=3000")
    assert [s["name"] for s in config.dataset.mix] == [
        "quickdraw/paper_300_ndjson", "hershey", "hanzi_medians"]
    assert (config.train.batch_size, config.train.num_steps) == (256, 3000)
    assert (config.alpha.interval, config.optim.decay_steps) == (100, 1000)
    assert config.dataset.augment.rotation == ablation.AUGMENT["rotation"]
    base = ablation.get_config("")
    assert base.train.num_steps == 9000 and base.dataset.augment.rotation == 0.0
    assert ablation.get_config("mid").model.rnn_units == 512
    with pytest.raises(ValueError, match="aux needs aug"):
        ablation.get_config("aux")
    with pytest.raises(ValueError, match="unknown change"):
        ablation.get_config("hersey")
    baseline = ablation.get_config("hershey,aug,conv_vae,steps=300")
    assert (baseline.model.kind, baseline.model.kl_weight) == ("conv_vae", 1.0)
    assert [s["name"] for s in baseline.dataset.mix] == ["quickdraw/paper_300_ndjson", "hershey"]
    assert baseline.dataset.augment.rotation == ablation.AUGMENT["rotation"]
    assert ablation.get_config("contrastive").model.kind == "contrastive"
    for arg in ("conv_vae,contrastive", "aug,aux,contrastive", "mid,conv_vae"):
        with pytest.raises(ValueError, match="one baseline kind"):
            ablation.get_config(arg)

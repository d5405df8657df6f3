"""Comparing finished α searches (sketchembednet.tuning.compare, tools/compare_searches.py)."""

import json
import os
import subprocess
import sys

import pytest

from sketchembednet.tuning import compare

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _summary(values, objective="fewshot_accuracy", failed_alpha=None):
    trials = [{"trial_id": str(i), "alpha_max": a, "objective": v, "ci95": 0.01,
               "status": "COMPLETED"} for i, (a, v) in enumerate(values)]
    if failed_alpha is not None:
        trials.append({"trial_id": "x", "alpha_max": failed_alpha, "objective": None,
                       "ci95": None, "status": "FAILED"})
    return {"objective": objective, "direction": "max", "trials": trials}


def _write(tmp_path, name, summary):
    d = tmp_path / name
    d.mkdir()
    (d / "summary.json").write_text(json.dumps(summary))
    return d


def test_alpha_table_aligns_searches_and_averages_only_common_alphas():
    a = _summary([(0.0, 0.5), (0.5, 0.6), (1.0, 0.4)], failed_alpha=0.25)
    b = _summary([(0.0, 0.7), (0.5, 0.5)])
    table = compare.alpha_table([("a", a), ("b", b)], mean_of=["a", "b"])
    assert table["alphas"] == [0.0, 0.5, 1.0]  # The failed trial's 0.25 is not a row.
    assert table["mean"] == {0.0: 0.6, 0.5: 0.55}  # 1.0 is only in "a".
    lines = compare.markdown_table(table).splitlines()
    assert lines[0] == "| α_max | a | b | mean |"
    assert lines[4] == "| 1 | 0.4000 ± 0.0100 | – | – |"
    assert compare.alpha_table([("a", a)])["mean"] is None


def test_alpha_table_keeps_the_longest_trained_trial_of_an_alpha():
    summary = _summary([(0.5, 0.7), (0.5, 0.6), (0.5, 0.5)])
    for trial, steps in zip(summary["trials"], (300, 900, 900)):  # Hyperband budgets.
        trial["steps"] = steps
    table = compare.alpha_table([("hb", summary)])
    assert table["cells"]["hb"] == {0.5: (0.5, 0.01)}  # 900 steps, the later of the two.


@pytest.mark.parametrize("searches,mean_of,match", [
    ([], None, "no searches"),
    ([("a", _summary([(0.0, 0.5)])), ("a", _summary([(0.0, 0.5)]))], None, "duplicate"),
    ([("a", _summary([(0.0, 0.5)])), ("b", _summary([(0.0, 0.1)], "val_pixel"))], None,
     "different objectives"),
    ([("a", _summary([(0.0, 0.5)]))], ["a", "c"], r"\['c'\]"),
])
def test_alpha_table_errors(searches, mean_of, match):
    with pytest.raises(ValueError, match=match):
        compare.alpha_table(searches, mean_of)


def test_load_summary_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="summary.json: no search summary"):
        compare.load_summary(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="nowhere: no such file or directory"):
        compare.load_summary(str(tmp_path / "nowhere"))
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(ValueError, match="summary.json: not valid JSON"):
        compare.load_summary(str(tmp_path))
    (tmp_path / "summary.json").write_text(json.dumps({"trials": []}))
    with pytest.raises(ValueError, match="not a sketchembednet.tune summary"):
        compare.load_summary(str(tmp_path / "summary.json"))


def test_plot_table_writes_a_png(tmp_path):
    table = compare.alpha_table([("a", _summary([(0.0, 0.5), (1.0, 0.4)])),
                                 ("b", _summary([(0.0, 0.6), (1.0, 0.3)]))], ["a", "b"])
    path = compare.plot_table(str(tmp_path / "p.png"), table)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cli_prints_the_table_and_reports_bad_input(tmp_path):
    a = _write(tmp_path, "a", _summary([(0.0, 0.5), (0.5, 0.6)]))
    b = _write(tmp_path, "b", _summary([(0.0, 0.7), (0.5, 0.4)]))
    tool = os.path.join(ROOT, "tools", "compare_searches.py")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = tmp_path / "cmp.png"
    proc = subprocess.run([sys.executable, tool, f"--search=seed 0={a}", f"--search=seed 1={b}",
                           "--mean_of=seed 0,seed 1", f"--out={out}"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| 0.5 | 0.6000 ± 0.0100 | 0.4000 ± 0.0100 | 0.5000 |" in proc.stdout
    assert out.stat().st_size > 1000
    proc = subprocess.run([sys.executable, tool, f"--search=seed 0={tmp_path / 'missing'}"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "missing: no such file or directory" in proc.stderr


def test_parse_search_and_doctests():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import compare_searches
    finally:
        sys.path.pop(0)
    with pytest.raises(ValueError, match="expected LABEL=PATH"):
        compare_searches.parse_search("runs/a")
    import doctest

    assert doctest.testmod(compare).failed == 0
    assert doctest.testmod(compare_searches).failed == 0

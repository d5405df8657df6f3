"""Tests of ``python -m sketchembednet.tune``: the α-schedule search with KerasTuner."""

import json
import os
import signal
import subprocess
import sys
import time
from unittest import mock

import numpy as np
import pytest
import tensorflow as tf
from absl import app
from absl import flags
from ml_collections import config_flags

from sketchembednet import configs
from sketchembednet import jsonio
from sketchembednet import trainer
from sketchembednet import tune
from sketchembednet.configs import demo
from sketchembednet.models import factory
from sketchembednet.tuning import driver
from sketchembednet.tuning import report
from sketchembednet.tuning import tuner


def _tiny_npz(path, classes=12, drawers=20, seed=0):
    """An npz in the shared ``images_background.npz`` format: ``images`` bool
    ``[C, 20, 105, 105]`` (True = white background) and ``labels`` ``[C, 20]``."""
    rng = np.random.default_rng(seed)
    images = np.ones([classes, drawers, 105, 105], bool)
    for c in range(classes):
        top, left = 5 + (c * 23) % 70, 5 + (c * 37) % 70
        images[c, :, top : top + 25, left : left + 8] = False  # A class-specific bar ...
        noise = rng.random([drawers, 105, 105]) < 0.02
        images[c] &= ~noise  # ... and per-drawer specks of ink.
    labels = np.repeat(np.arange(classes)[:, None], drawers, axis=1)
    np.savez(path, images=images, labels=labels)
    return str(path)


def _config(data_dir, num_steps=4):
    config = demo.get_config("tiny")
    config.dataset.data_dir = data_dir
    config.train.num_steps = num_steps
    config.train.steps_per_loop = 2
    config.train.checkpoint_every = 2
    config.train.log_every = 2
    config.train.sample_every = 0
    return config


def _options(tmp_path, npz, **overrides):
    kwargs = dict(directory=str(tmp_path / "search"), tuner="random", max_trials=2, ways=5,
                  shots=1, episodes=20, val_npz=npz, progress=False,
                  space=tune.parse_space(alpha_max="0,1", alpha_increment="0.5",
                                         alpha_interval="1"))
    kwargs.update(overrides)
    return tune.SearchOptions(**kwargs)


def _load_config_file(path, *overrides):
    """Loads a config file exactly as ``sketchembednet.train``'s ``--config`` does."""
    fv = flags.FlagValues()
    argv = ["train", *overrides]
    with mock.patch.object(sys, "argv", argv):  # config_flags reads overrides from sys.argv.
        config_flags.DEFINE_config_file("config", path, flag_values=fv)
        fv(argv)
    return fv.config


def _trial_status(root, trial_id):
    # Polled while the search runs: a half-written trial.json reads as None.
    record = jsonio.read_json(os.path.join(root, tune.PROJECT_NAME, f"trial_{trial_id}",
                                           "trial.json"), corrupt_ok=True)
    return record and record["status"]


def _latest_step(workdir):
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return int(latest.rsplit("-", 1)[1]) if latest else -1


# ---------------------------------------------------------------- Fast unit tests


@pytest.mark.parametrize("name, text, kind, values, step", [
    ("alpha_max", "", "config", (), None),
    ("alpha_max", "0.5", "fixed", (0.5,), None),
    ("alpha_max", "0, 0.25,1", "choice", (0.0, 0.25, 1.0), None),
    ("alpha_max", "0.25:1", "range", (0.25, 1.0), None),
    ("alpha_interval", "100:400:100", "range", (100, 400), 100),
    ("alpha_interval", "50,1e2", "choice", (50, 100), None),
    ("alpha_start_step", "0", "fixed", (0,), None),
    ("learning_rate", "1e-4:1e-2", "range", (1e-4, 1e-2), None),
])
def test_parse_param(name, text, kind, values, step):
    param = tune.parse_param(name, text)
    assert (param.kind, param.values, param.step) == (kind, values, step)
    if tune.PARAMS[name].integer:
        assert all(isinstance(v, int) for v in param.values)


@pytest.mark.parametrize("name, text, match", [
    ("alpha_max", "1.5", r"--alpha_max=1.5: must be in \[0, 1\]"),
    ("alpha_max", "0,-0.1", r"must be in \[0, 1\]"),
    ("alpha_max", ",", "empty list of choices"),
    ("alpha_max", "0.5,,1", "empty value"),
    ("alpha_max", "0.5,0.5", "repeated choices"),
    ("alpha_max", "1:0.5", "empty range"),
    ("alpha_max", "0:1:0", "step must be > 0"),
    ("alpha_max", "0:", "lo:hi"),
    ("alpha_max", "half", "not a number"),
    ("alpha_increment", "0", r"in \(0, 1\]"),
    ("alpha_interval", "0", "integer >= 1"),
    ("alpha_interval", "2.5", "not an integer"),
    ("alpha_start_step", "-1", "integer >= 0"),
    ("learning_rate", "nan", "not finite"),
    ("alpha_min", "0", "unknown search parameter"),
])
def test_parse_param_errors(name, text, match):
    with pytest.raises(ValueError, match=match):
        tune.parse_param(name, text)


def test_trial_config_sets_the_fields_and_leaves_the_base_alone():
    base = demo.get_config("tiny")
    values = dict(alpha_max=1, alpha_increment=0.25, alpha_interval=3.0, alpha_start_step=2,
                  learning_rate=5e-4, **{"tuner/epochs": 3})
    config = tune.trial_config(base, values, num_steps=7)
    assert (config.alpha.max, config.alpha.increment, config.alpha.interval,
            config.alpha.start_step, config.optim.learning_rate,
            config.train.num_steps) == (1.0, 0.25, 3, 2, 5e-4, 7)
    assert isinstance(config.alpha.interval, int) and isinstance(config.alpha.max, float)
    assert (base.alpha.max, base.train.num_steps) == (0.5, 20)


def test_alpha_at_matches_the_training_schedule():
    from sketchembednet import schedules

    values = dict(alpha_start=0.0, alpha_increment=0.05, alpha_interval=10, alpha_max=0.3,
                  alpha_start_step=5)
    for step in (0, 5, 14, 15, 44, 60, 200):
        want = float(schedules.alpha(step, 0.0, 0.05, 10, 0.3, 5))
        assert tune.alpha_at(step, values) == pytest.approx(want), step


def test_unreachable_alpha_max_is_warned_about():
    config = demo.get_config("tiny")  # 20 steps, +0.05 every 5: α reaches 0.2.
    warning = tune.unreachable_alpha_warning(tune.parse_space(alpha_max="0,0.5"), config)
    assert warning and "reaches at most 0.2" in warning
    space = tune.parse_space(alpha_max="0,0.5", alpha_increment="0.25")
    assert tune.unreachable_alpha_warning(space, config) is None


def test_hyperband_epochs_map_to_steps():
    assert [tune.hyperband_steps(e, 300, 9) for e in (1, 3, 9)] == [34, 100, 300]
    assert tune.hyperband_steps(2, 4, 2) == 4


def test_omniglot_half_is_a_fixed_disjoint_half_of_the_classes(tmp_path):
    npz = _tiny_npz(tmp_path / "bg.npz", classes=9, drawers=3)
    halves = [tune.omniglot_half(npz, h, image_size=28) for h in (0, 1)]
    classes = [set(np.unique(h.labels)) for h in halves]
    assert (len(classes[0]), len(classes[1])) == (5, 4)
    assert not classes[0] & classes[1] and classes[0] | classes[1] == set(range(9))
    assert halves[0].images.shape == (15, 28, 28, 1) and halves[0].images.dtype == np.uint8
    again = tune.omniglot_half(npz, 0, image_size=28)
    np.testing.assert_array_equal(again.labels, halves[0].labels)
    # The images are the classes' own (white background, labels = npz rows).
    raw = np.load(npz)["images"]
    first = int(halves[0].labels[0])
    assert halves[0].images[0].mean() > 200 and raw[first, 0].mean() > 0.8


def _fake_rows():
    common = dict(alpha_increment=0.05, alpha_interval=100, alpha_start_step=0,
                  learning_rate=1e-3, steps=300, steps_run=300, train_seconds=80.0,
                  eval_seconds=5.0, wall_seconds=85.0, duplicate_of=None)
    return [
        dict(common, trial_id="0", status="COMPLETED", alpha_max=0.0, alpha_end=0.0,
             objective=0.41, ci95=0.01, error=None, note=None, workdir="w0"),
        dict(common, trial_id="1", status="FAILED", alpha_max=0.5, alpha_end=None,
             objective=None, ci95=None, error="RuntimeError: boom | bad", note="RuntimeError: "
             "boom | bad", workdir="w1", steps=None),
        dict(common, trial_id="2", status="COMPLETED", alpha_max=1.0, alpha_end=1.0,
             objective=0.47, ci95=0.01, error=None, note=None, workdir="w2"),
    ]


def test_summary_table_plot_and_best_config_from_rows(tmp_path):
    rows = _fake_rows()
    summary = tune.write_summary(str(tmp_path), rows, "fewshot_accuracy", "max",
                                 {"text": "5-way 1-shot"}, "random", command="python -m x")
    assert summary["best_trial"]["trial_id"] == "2"
    assert summary["counts"] == {"COMPLETED": 2, "FAILED": 1}
    md = (tmp_path / "summary.md").read_text()
    assert "| trial | status | α_max | increment | interval | start_step | lr |" in md
    assert "| 2 | COMPLETED | 1 | 0.05 | 100 | 0 | 0.001 | 1 | **0.4700 ± 0.0100** | 300 |" in md
    assert "| 1 | FAILED | 0.5 |" in md and "RuntimeError: boom \\| bad" in md
    assert "## Errors" in md and "trial 1: `RuntimeError: boom | bad`" in md
    assert json.loads((tmp_path / "summary.json").read_text())["trials"][1]["status"] == "FAILED"
    assert (tmp_path / "objective_vs_alpha_max.png").read_bytes()[:4] == b"\x89PNG"
    # Minimised objectives pick the smallest.
    assert tune.best_row(rows, "min")["trial_id"] == "0"
    assert tune.best_row([r for r in rows if r["status"] == "FAILED"], "max") is None
    # Hyperband: only the trials of the largest budget completed compete.
    budgets = [dict(rows[0], epochs=3), dict(rows[2], epochs=1)]
    assert tune.best_row(budgets, "max")["trial_id"] == "0"

    base = demo.get_config()
    trained = json.loads(tune.trial_config(base, {"alpha_max": 1.0}, 300).to_json_best_effort())
    path = tune.write_best_config(str(tmp_path / "best_config.py"), summary["best_trial"],
                                  trained, report.tuple_fields(base), "fewshot_accuracy",
                                  str(tmp_path), num_steps=3000)
    assert configs.config_path(path) == path  # train.py's --config takes the path as is.
    loaded = _load_config_file(path, "--config.train.batch_size=16",
                               "--config.dataset.length_buckets=(24, 32)")
    assert loaded.alpha.max == 1.0 and loaded.train.num_steps == 3000
    assert loaded.train.batch_size == 16 and loaded.dataset.length_buckets == (24, 32)
    expected = json.loads(json.dumps(trained))
    expected["train"].update(num_steps=3000, batch_size=16)
    expected["dataset"]["length_buckets"] = [24, 32]
    assert json.loads(loaded.to_json_best_effort()) == expected


def test_a_workdir_of_another_config_is_not_resumed(tmp_path):
    config = demo.get_config("tiny")
    (tmp_path / "config.json").write_text(config.to_json_best_effort())
    other_steps = tune.trial_config(config, {}, num_steps=99)
    other_steps.dataset.data_dir = "/moved"
    tuner.check_stale_workdir(str(tmp_path), other_steps)  # Budget and paths may differ.
    with pytest.raises(RuntimeError, match="another config \\(alpha differ\\)"):
        tuner.check_stale_workdir(str(tmp_path), tune.trial_config(config, {"alpha_max": 1.0}))
    tuner.check_stale_workdir(str(tmp_path / "fresh"), config)  # Nothing there yet.


def _parse(*args):
    fv = flags.FlagValues()
    argv = ["tune", *args]
    with mock.patch.object(sys, "argv", argv):  # config_flags reads overrides from sys.argv.
        tune.define_flags(fv)
        fv(argv)
        return tune.options_from_flags(fv)


def test_flags_build_the_options(tmp_path):
    npz = _tiny_npz(tmp_path / "bg.npz", classes=2, drawers=2)
    config, options = _parse(f"--config={configs.config_path('demo:tiny')}",
                             "--config.train.num_steps=9", f"--val_npz={npz}",
                             "--alpha_max=0.25:1", "--alpha_interval=1,2", "--tuner=bayesian",
                             f"--dir={tmp_path}/d")
    assert config.train.num_steps == 9 and options.tuner == "bayesian"
    assert options.space["alpha_max"].kind == "range"
    assert options.space["alpha_interval"].values == (1, 2)
    assert options.space["learning_rate"].kind == "config"  # Not tuned by default.
    assert options.objective_name == "fewshot_accuracy" and options.direction == "max"
    _, default = _parse(f"--val_npz={npz}")
    assert default.space["alpha_max"].values == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert default.directory == "runs/tune-kanjivg-cpu" and default.val_half == 0


@pytest.mark.parametrize("args, match", [
    (["--alpha_max=0,1.5"], r"--alpha_max=1.5: must be in \[0, 1\]"),
    (["--alpha_max=,"], "empty list of choices"),
    (["--alpha_interval=0"], "integer >= 1"),
    (["--val_half=2"], "--val_half=2: must be 0 or 1"),
    (["--max_trials=0"], "--max_trials=0: must be >= 1"),
    (["--ways=1"], "--ways=1: must be >= 2"),
    (["--seed=0"], "KerasTuner treats 0"),
    (["--val_npz=/nowhere/bg.npz"], "/nowhere/bg.npz not found"),
    (["--config.model.kind=conv_vae"], "only affects SketchEmbedNet"),
    (["--tuner=hyperband", "--hyperband_max_epochs=50"], "num_steps=20 is less than"),
    (["--val_dataset=kanjivg"], "is \\(a config of\\) the training dataset"),
    (["--val_dataset=omniglot_strokes/lake"], "Omniglot evaluation set"),
])
def test_bad_flags_give_clear_errors(tmp_path, args, match):
    npz = _tiny_npz(tmp_path / "bg.npz", classes=2, drawers=2)
    base = [f"--config={configs.config_path('demo:tiny')}", f"--dir={tmp_path}/d"]
    if not any(a.startswith("--val_npz") for a in args):
        base.append(f"--val_npz={npz}")
    with pytest.raises(app.UsageError, match=match):
        _parse(*base, *args)


def test_unknown_tuner_is_rejected_by_the_flag():
    with pytest.raises(flags.IllegalFlagValueError, match="random\\|bayesian\\|hyperband"):
        _parse("--tuner=grid")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def test_cli_bad_flag_exits_with_the_message(tmp_path):
    cmd = [sys.executable, "-m", "sketchembednet.tune", "--config=demo:tiny",
           f"--dir={tmp_path}/d", "--alpha_max=0,2"]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "--alpha_max=2: must be in [0, 1]" in done.stderr
    assert not os.path.exists(tmp_path / "d")  # Nothing started.


def test_resuming_with_other_settings_is_refused(tmp_path):
    npz = _tiny_npz(tmp_path / "bg.npz", classes=2, drawers=2)
    config = demo.get_config("tiny")
    options = _options(tmp_path, npz)
    driver.check_search_file(options, config)
    driver.check_search_file(options, config)  # Same settings: fine.
    moved = _options(tmp_path, "/elsewhere/bg.npz", max_trials=5)
    driver.check_search_file(moved, config)  # Paths and the trial budget may change.
    with pytest.raises(tune.SearchMismatchError, match="objective, space differ"):
        driver.check_search_file(_options(tmp_path, npz, objective="val_pixel",
                                           space=tune.parse_space()), config)
    config.alpha.start = 0.1
    with pytest.raises(tune.SearchMismatchError, match="config differ"):
        driver.check_search_file(options, config)


# ---------------------------------------------------------------- Searches (real training)


@pytest.mark.large
def test_two_trial_search_writes_summary_plot_and_a_loadable_best_config(
        kanjivg_data_dir, tmp_path):
    npz = _tiny_npz(tmp_path / "bg.npz")
    options = _options(tmp_path, npz)
    summary = tune.search(_config(kanjivg_data_dir), options)
    root = options.directory
    rows = summary["trials"]
    assert summary["counts"] == {"COMPLETED": 2}
    assert sorted(r["alpha_max"] for r in rows) == [0.0, 1.0]
    for row in rows:
        workdir = os.path.join(root, "trials", row["trial_id"])
        result = jsonio.read_json(os.path.join(workdir, "train_result.json"))
        assert result["train/step"] == 4 and result["total_steps_run"] == 4
        trained = jsonio.read_json(os.path.join(workdir, "config.json"))
        assert trained["alpha"]["max"] == row["alpha_max"]  # The trial's α reached training.
        assert 0.0 <= row["objective"] <= 1.0 and row["steps"] == 4
        assert row["alpha_end"] == row["alpha_max"]  # +0.5 every step: reached by step 4.
    best = max(rows, key=lambda r: r["objective"])
    assert summary["best_trial"]["trial_id"] == best["trial_id"]
    assert summary["validation"]["classes"] == 6 and summary["validation"]["half"] == 0
    md = open(os.path.join(root, "summary.md")).read()
    for row in rows:
        assert f"| {row['trial_id']} | COMPLETED | {row['alpha_max']:g} |" in md
        assert f"{row['objective']:.4f}" in md
    with open(os.path.join(root, "objective_vs_alpha_max.png"), "rb") as f:
        assert f.read(4) == b"\x89PNG"
    path = os.path.join(root, "best_config.py")
    loaded = _load_config_file(path, "--config.train.num_steps=7")
    assert loaded.train.num_steps == 7
    best_trained = jsonio.read_json(os.path.join(best["workdir"], "config.json"))
    for field in ("max", "increment", "interval", "start_step"):
        assert loaded.alpha[field] == best_trained["alpha"][field], field
    assert loaded.alpha.max == best["alpha_max"]
    assert loaded.optim.learning_rate == best["learning_rate"]
    factory.from_config(loaded, (28, 28, 1))  # The trainer's model builds from it.


@pytest.mark.large
def test_failed_trial_is_recorded_and_the_search_goes_on(kanjivg_data_dir, tmp_path,
                                                         monkeypatch):
    npz = _tiny_npz(tmp_path / "bg.npz")
    original = trainer.Trainer.train
    calls = []

    def fail_first(self):
        calls.append(self.workdir)
        if len(calls) == 1:
            raise RuntimeError("injected training failure")
        return original(self)

    monkeypatch.setattr(trainer.Trainer, "train", fail_first)
    options = _options(tmp_path, npz)
    summary = tune.search(_config(kanjivg_data_dir), options)
    first, second = summary["trials"]
    assert first["status"] == "FAILED" and second["status"] == "COMPLETED"
    assert first["error"] == "RuntimeError: injected training failure"
    record = jsonio.read_json(os.path.join(options.directory, "trials", "0", "tune_result.json"))
    assert record["status"] == "FAILED" and "injected training failure" in record["traceback"]
    assert summary["best_trial"]["trial_id"] == "1"
    md = open(os.path.join(options.directory, "summary.md")).read()
    assert "| 0 | FAILED |" in md and "injected training failure" in md

    # Failures in a row stop the search (after recording them), with the outputs written.
    monkeypatch.setattr(trainer.Trainer, "train",
                        lambda self: (_ for _ in ()).throw(ValueError("always")))
    stopped = _options(tmp_path, npz, directory=str(tmp_path / "stopped"), max_trials=4,
                       max_consecutive_failed_trials=2)
    with pytest.raises(tune.SearchStopped, match="2 consecutive failed trials"):
        tune.search(_config(kanjivg_data_dir), stopped)
    summary = jsonio.read_json(os.path.join(stopped.directory, "summary.json"))
    assert summary["counts"] == {"FAILED": 2} and "consecutive" in summary["stopped"]
    assert not os.path.exists(os.path.join(stopped.directory, "best_config.py"))


@pytest.mark.large
def test_hyperband_with_val_pixel_continues_the_best_trial_from_its_checkpoint(
        kanjivg_data_dir, tmp_path):
    # max_epochs 2, factor 2: two 1-epoch (2-step) trials, then the best one to 2 epochs.
    options = _options(tmp_path, "", tuner="hyperband", max_trials=3, hyperband_max_epochs=2,
                       hyperband_factor=2, objective="val_pixel")
    summary = tune.search(_config(kanjivg_data_dir, num_steps=4), options)
    assert summary["direction"] == "min" and summary["objective"] == "val_pixel_loss"
    assert summary["validation"]["split"] == "validation[:32]"
    rows = {r["trial_id"]: r for r in summary["trials"]}
    assert [r["status"] for r in rows.values()] == ["COMPLETED"] * 3
    assert [r["epochs"] for r in rows.values()] == [1, 1, 2]
    assert all(0 < r["objective"] < 100 for r in rows.values())
    record = jsonio.read_json(os.path.join(options.directory, "trials", "0", "tune_result.json"))
    assert record["eval"]["examples"] == 32  # The whole eval split, not a batch of it.
    third = summary["trials"][2]
    first_two = summary["trials"][:2]
    best_first = min(first_two, key=lambda r: r["objective"])  # val_pixel is minimised.
    assert third["continues"] == best_first["trial_id"]
    assert third["alpha_max"] == best_first["alpha_max"]
    assert [r["steps"] for r in summary["trials"]] == [2, 2, 4]
    assert third["steps_run"] == 2  # Only steps 2..4: it started from the copied checkpoint.
    assert _latest_step(third["workdir"]) == 4
    assert summary["best_trial"]["trial_id"] == third["trial_id"]  # The only full-budget one.
    loaded = _load_config_file(os.path.join(options.directory, "best_config.py"))
    assert loaded.train.num_steps == 4 and loaded.alpha.max == third["alpha_max"]


@pytest.mark.large
def test_sigkill_after_the_first_trial_then_rerun_finishes_without_retraining_it(
        kanjivg_data_dir, tmp_path):
    npz = _tiny_npz(tmp_path / "bg.npz")
    root = str(tmp_path / "search")
    cmd = [sys.executable, "-m", "sketchembednet.tune", "--config=demo:tiny",
           f"--config.dataset.data_dir={kanjivg_data_dir}", "--config.train.num_steps=12",
           "--config.train.steps_per_loop=2", "--config.train.checkpoint_every=2",
           "--config.train.log_every=2", "--config.train.sample_every=0",
           "--config.alpha.interval=1", "--alpha_increment=0.25", "--alpha_max=0,1",
           "--max_trials=2", f"--dir={root}", "--ways=5", "--episodes=20", f"--val_npz={npz}"]
    second = os.path.join(root, "trials", "1")
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 400
    try:
        # Kill while the second trial trains: the first is complete, the second has a
        # checkpoint past step 0 and no result yet.
        while time.time() < deadline and proc.poll() is None and not (
                _trial_status(root, "0") == "COMPLETED" and _latest_step(second) >= 2):
            time.sleep(0.05)
        assert proc.poll() is None, "the search ended before it could be killed"
        assert _trial_status(root, "0") == "COMPLETED", "no completed trial within 400 s"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not os.path.exists(os.path.join(second, "train_result.json")), "killed too late"
    killed_at = _latest_step(second)
    first_files = {name: open(os.path.join(root, "trials", "0", name)).read()
                   for name in ("train_result.json", "tune_result.json")}
    assert json.loads(first_files["train_result.json"])["total_steps_run"] == 12

    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Reloading Tuner" in done.stdout and "search done (2 completed)" in done.stdout
    for name, text in first_files.items():  # Neither re-trained nor re-evaluated.
        assert open(os.path.join(root, "trials", "0", name)).read() == text, name
    assert f"(step {killed_at})" in done.stderr  # The second trial resumed its checkpoint.
    result = jsonio.read_json(os.path.join(second, "train_result.json"))
    assert result["train/step"] == 12 and result["total_steps_run"] == 12 - killed_at
    summary = jsonio.read_json(os.path.join(root, "summary.json"))
    assert summary["counts"] == {"COMPLETED": 2}
    assert os.path.exists(os.path.join(root, "best_config.py"))


def test_real_omniglot_background_halves(shared_data):
    from sketchembednet.evaluation import datasets

    npz = shared_data / datasets.SHARED_NPZ
    halves = [tune.omniglot_half(npz, h) for h in (0, 1)]
    classes = [set(np.unique(h.labels).tolist()) for h in halves]
    assert [len(c) for c in classes] == [482, 482]
    assert not classes[0] & classes[1] and len(classes[0] | classes[1]) == 964
    assert [len(h.labels) for h in halves] == [482 * 20, 482 * 20]
    assert halves[0].image_shape == (28, 28, 1)


def test_doctests():
    import doctest

    from sketchembednet import tuning

    modules = [tune] + [getattr(tuning, name) for name in (
        "space", "options", "objectives", "report", "tuner", "driver")]
    results = [doctest.testmod(module) for module in modules]
    failed, attempted = (sum(r[i] for r in results) for i in (0, 1))
    assert failed == 0 and attempted >= 8

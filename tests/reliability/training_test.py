"""Reliability of training, resuming and loading: each case of issue 19 on the trainer side.

Every test reproduces a user's mistake or an accident (a bad flag, a changed config on
an old workdir, Ctrl-C, a damaged checkpoint, a crashed run) and asserts the exact
message the user sees and that nothing on disk was damaged.
"""

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from sketchembednet import distribute
from sketchembednet import export
from sketchembednet import trainer
from sketchembednet import wall_clock
from sketchembednet.configs import checks
from sketchembednet.configs import demo
from sketchembednet.evaluation import loading
from sketchembednet.models import checkpoints


def tiny(data_dir, **train):
    config = demo.get_config("tiny")
    config.dataset.data_dir = data_dir
    config.train.sample_every = 0
    for key, value in train.items():
        config.train[key] = value
    return config


def run(config, workdir):
    return trainer.Trainer(config, str(workdir), distribute.get_strategy("default")).train()


def test_invalid_config_is_refused_before_the_workdir_exists(kanjivg_data_dir, tmp_path):
    config = tiny(kanjivg_data_dir, batch_size=-8)
    config.alpha.max = 5.0
    with pytest.raises(checks.ConfigError) as error:
        run(config, tmp_path / "run")
    assert str(error.value) == (
        "invalid config: train.batch_size=-8 must be a positive multiple of the 1 replica(s); "
        "alpha.max=5.0 must be in [0, 1]")
    assert not (tmp_path / "run").exists()
    config = tiny(kanjivg_data_dir)
    config.dataset.augment.scale = 1.5
    with pytest.raises(checks.ConfigError, match=r"dataset.augment: augmentation "
                       r"scale=1.5: must be < 1"):
        run(config, tmp_path / "run")


def test_cli_refuses_a_bad_flag_with_one_line(tmp_path):
    workdir = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "sketchembednet.train", "--config=demo:tiny",
         "--config.alpha.max=5", f"--workdir={workdir}"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: invalid config: alpha.max=5.0 must be in [0, 1]")
    assert not workdir.exists()


def test_refused_resume_leaves_config_json_alone(kanjivg_data_dir, tmp_path):
    run(tiny(kanjivg_data_dir, num_steps=5, steps_per_loop=5), tmp_path)
    before = (tmp_path / "config.json").read_bytes()
    changed = tiny(kanjivg_data_dir, num_steps=10)
    changed.model.rnn_units = 24
    with pytest.raises(checkpoints.CheckpointMismatchError,
                       match=r"ckpt-5: this checkpoint does not match the model built from the "
                             r"config \(another config"):
        run(changed, tmp_path)
    assert (tmp_path / "config.json").read_bytes() == before
    model, _, source = loading.model_from_workdir(str(tmp_path))  # Still usable.
    assert source.endswith("ckpt-5")


def _truncate(prefix):
    for path in glob.glob(prefix + ".data-*"):
        with open(path, "r+b") as f:
            f.truncate(16)


def test_damaged_newest_checkpoint_falls_back_to_the_newest_intact_one(
        kanjivg_data_dir, tmp_path, caplog):
    config = tiny(kanjivg_data_dir, num_steps=20, steps_per_loop=5, checkpoint_every=10)
    run(config, tmp_path)
    folder = str(tmp_path / "checkpoints")
    assert [os.path.basename(p) for p in checkpoints.checkpoint_paths(folder)] == [
        "ckpt-0", "ckpt-10", "ckpt-20"]
    _truncate(os.path.join(folder, "ckpt-20"))
    config.train.num_steps = 30
    with caplog.at_level("WARNING", logger="absl"):
        result = run(config, tmp_path)
    assert result["train/step"] == 30 and result["train/steps_run"] == 20  # From step 10.
    message = next(r.getMessage() for r in caplog.records if "damaged" in r.getMessage())
    assert message.startswith(f"{folder}/ckpt-20: damaged checkpoint files (")
    assert message.endswith("; falling back to an older checkpoint")
    assert os.path.exists(os.path.join(folder, "damaged", "ckpt-20.index"))
    assert tf.train.latest_checkpoint(folder).endswith("ckpt-30")


def test_unreadable_checkpoint_index_is_rebuilt(kanjivg_data_dir, tmp_path):
    config = tiny(kanjivg_data_dir, num_steps=10, steps_per_loop=5, checkpoint_every=5)
    run(config, tmp_path)
    (tmp_path / "checkpoints" / "checkpoint").write_text("")  # e.g. a full disk
    config.train.num_steps = 15
    assert run(config, tmp_path)["train/steps_run"] == 5  # Resumed from ckpt-10.


def test_every_checkpoint_damaged_is_an_error_naming_them(kanjivg_data_dir, tmp_path):
    config = tiny(kanjivg_data_dir, num_steps=5, steps_per_loop=5, keep_checkpoints=2)
    run(config, tmp_path)
    folder = str(tmp_path / "checkpoints")
    for prefix in checkpoints.checkpoint_paths(folder):
        _truncate(prefix)
    with pytest.raises(checkpoints.CorruptCheckpointError,
                       match=rf"every checkpoint is damaged: {re.escape(folder)}/ckpt-5: damaged "
                             rf"checkpoint files .*; {re.escape(folder)}/ckpt-0: damaged"):
        loading.model_from_workdir(str(tmp_path))


def test_untrained_checkpoint_is_not_evaluated_or_exported(kanjivg_data_dir, tmp_path):
    run(tiny(kanjivg_data_dir, num_steps=0), tmp_path / "run")  # As a run that crashed early.
    workdir = str(tmp_path / "run")
    expected = (f"{workdir}: the only checkpoint is {workdir}/checkpoints/ckpt-0, the untrained "
                "model of step 0 (the run stopped before its first training checkpoint); train "
                "it further, or pass allow_untrained=True (--allow_untrained) to use it anyway")
    with pytest.raises(loading.UntrainedModelError) as error:
        loading.embed_fn_from_workdir(workdir)
    assert str(error.value) == expected
    with pytest.raises(loading.UntrainedModelError):
        export.export(workdir, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
    assert loading.embed_fn_from_workdir(workdir, allow_untrained=True).source.endswith("ckpt-0")


def _train_command(workdir, steps):
    return [sys.executable, "-m", "sketchembednet.train", "--config=demo:tiny",
            f"--workdir={workdir}", f"--config.train.num_steps={steps}",
            "--config.train.steps_per_loop=5", "--config.train.log_every=5",
            "--config.train.checkpoint_every=1000", "--config.train.sample_every=0"]


def _interrupt(command, env, sig, after_step):
    """Starts training and sends ``sig`` once a logged step reaches ``after_step``;
    returns the exit code and everything written to stderr."""
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=env)
    lines, deadline = [], time.time() + 600
    for line in process.stderr:
        lines.append(line)
        match = re.search(r"\] step (\d+):", line)
        if match and int(match.group(1)) >= after_step:
            process.send_signal(sig)
            break
        assert time.time() < deadline, "".join(lines[-20:])
    _, rest = process.communicate(timeout=600)
    return process.returncode, "".join(lines) + rest


def _final_loss(workdir):
    return json.loads((workdir / "train_result.json").read_text())["train/loss"]


@pytest.mark.large
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_and_the_resumed_run_matches_an_uninterrupted_one(
        kanjivg_data_dir, tmp_path, sig):
    """Ctrl-C / SIGTERM mid-run: a checkpoint of that step and a one-line message; the
    same command then finishes with the loss of a run never interrupted (every digit)."""
    env = dict(os.environ, TFDS_DATA_DIR=kanjivg_data_dir, TF_CPP_MIN_LOG_LEVEL="3")
    steps = 200
    straight = subprocess.run(_train_command(tmp_path / "straight", steps), env=env,
                              capture_output=True, text=True, timeout=900)
    assert straight.returncode == 0, straight.stderr[-2000:]
    cut = tmp_path / "cut"
    code, stderr = _interrupt(_train_command(cut, steps), env, sig, after_step=60)
    assert code == 128 + sig, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    match = re.fullmatch(rf"interrupted by {sig.name} at step (\d+): checkpoint "
                         rf"{re.escape(str(cut))}/checkpoints/ckpt-(\d+) written; run the same "
                         r"command to resume", last)
    assert match and match.group(1) == match.group(2), last
    step = int(match.group(1))
    assert 60 <= step < steps  # Periodic checkpoints are every 1,000 steps: this is the signal's.
    assert os.path.exists(cut / "checkpoints" / f"ckpt-{step}.index")
    resumed = subprocess.run(_train_command(cut, steps), env=env, capture_output=True,
                             text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed from {cut}/checkpoints/ckpt-{step} (step {step})" in resumed.stderr
    assert _final_loss(cut) == _final_loss(tmp_path / "straight")
    assert np.isfinite(_final_loss(cut))


def test_clis_report_user_errors_in_one_line(kanjivg_data_dir, tmp_path):
    run(tiny(kanjivg_data_dir, num_steps=0), tmp_path / "run")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    cases = {
        ("sketchembednet.export", f"--workdir={tmp_path / 'typo'}", f"--out={tmp_path / 'o'}"):
            f"error: {tmp_path / 'typo'}/config.json: not found; is {tmp_path / 'typo'} a "
            "training workdir?",
        ("sketchembednet.export", f"--workdir={tmp_path / 'run'}", f"--out={tmp_path / 'o'}"):
            f"error: {tmp_path / 'run'}: the only checkpoint is {tmp_path / 'run'}/checkpoints/"
            "ckpt-0, the untrained model of step 0 (the run stopped before its first training "
            "checkpoint); train it further, or pass allow_untrained=True (--allow_untrained) "
            "to use it anyway",
        ("sketchembednet.evaluate", "fewshot", "--random=cpu", "--ways=abc"):
            "--ways=abc: need comma-separated integers >= 2",
        ("sketchembednet.evaluate", "fewshot", "--random=cpu", "--episodes=0"):
            "--episodes=0: need an integer >= 1",
    }
    for args, expected in cases.items():
        result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True,
                                timeout=300, env=env)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == expected
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def _files(workdir, names):
    return {name: (workdir / name).read_bytes() for name in names}


def test_wall_budget_stops_early_with_outputs_and_a_rerun_trains_no_further(
        kanjivg_data_dir, tmp_path):
    config = tiny(kanjivg_data_dir, num_steps=100_000, steps_per_loop=5, log_every=5,
                  checkpoint_every=1_000)
    config.train.max_wall_minutes = 0.05  # 3 s: the first inner loop (tracing) spends it.
    result = run(config, tmp_path)
    step = result["train/step"]
    assert 0 < step < 100_000 and step % 5 == 0  # At the end of an inner loop.
    saved = json.loads((tmp_path / "train_result.json").read_text())
    for record in (result, saved):
        assert record["stop_reason"] == "wall_budget" and record["stopped_at_step"] == step
        assert record["counted_wall_seconds"] >= 3.0
    assert tf.train.latest_checkpoint(str(tmp_path / "checkpoints")).endswith(f"ckpt-{step}")
    clock = json.loads((tmp_path / wall_clock.WALL_CLOCK_JSON).read_text())["seconds_at_step"]
    assert clock[str(step)] >= 3.0 and clock["0"] == 0.0
    outputs = ("train_result.json", "model.weights.h5", "samples.png", "checkpoints/checkpoint",
               wall_clock.WALL_CLOCK_JSON)
    before = _files(tmp_path, outputs)
    again = run(config, tmp_path)  # The budget is spent: it only reports.
    assert again["train/steps_run"] == 0 and again["train/step"] == step
    assert again["stop_reason"] == "wall_budget"
    assert _files(tmp_path, outputs) == before
    assert checkpoints.checkpoint_paths(str(tmp_path / "checkpoints"))[-1].endswith(f"-{step}")


def test_a_resumed_run_counts_the_wall_time_of_earlier_runs(kanjivg_data_dir, tmp_path):
    config = tiny(kanjivg_data_dir, num_steps=10, steps_per_loop=5, checkpoint_every=5)
    first = run(config, tmp_path)
    assert first["stop_reason"] == "num_steps" and first["stopped_at_step"] == 10
    spent = json.loads((tmp_path / wall_clock.WALL_CLOCK_JSON).read_text())["seconds_at_step"]["10"]
    assert spent > 1.0
    config.train.num_steps = 100_000
    config.train.max_wall_minutes = 0.99 * spent / 60  # Less than the first run took.
    assert run(config, tmp_path)["train/steps_run"] == 0
    config.train.max_wall_minutes = (spent + 2.0) / 60  # Two seconds more.
    more = run(config, tmp_path)
    assert more["stop_reason"] == "wall_budget" and 5 <= more["train/steps_run"] < 99_990
    assert more["counted_wall_seconds"] >= spent + 2.0
    # Well under the budget's count had the resumed run started its clock at 0.
    assert more["train/wall_seconds"] < more["counted_wall_seconds"]
    saved = json.loads((tmp_path / "train_result.json").read_text())
    assert saved["total_steps_run"] == 10 + more["train/steps_run"]

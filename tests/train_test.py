"""End-to-end tests of ``python -m sketchembednet.train`` in subprocesses."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import tensorflow as tf

from sketchembednet import configs


def test_packaged_config_names_resolve_and_paths_pass_through(tmp_path):
    path = configs.config_path("demo:tiny")
    assert path.endswith(os.path.join("configs", "demo.py") + ":tiny") and os.path.exists(path[:-5])
    assert configs.config_path("quickdraw").endswith("quickdraw.py")
    own = str(tmp_path / "mine.py")
    assert configs.config_path(own + ":x") == own + ":x"


def _command(workdir, data_dir, *extra):
    return [sys.executable, "-m", "sketchembednet.train", "--config=demo:tiny",
            f"--workdir={workdir}", f"--config.dataset.data_dir={data_dir}", *extra]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", **extra)
    return env


def _latest_step(workdir):
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    return int(latest.rsplit("-", 1)[1]) if latest else -1


@pytest.mark.large
def test_sigkill_mid_run_then_resume_finishes(kanjivg_data_dir, tmp_path):
    workdir = str(tmp_path / "run")
    cmd = _command(workdir, kanjivg_data_dir, "--config.train.num_steps=300",
                   "--config.train.checkpoint_every=20", "--config.train.sample_every=100")
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    try:
        while _latest_step(workdir) < 40 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "training ended before it could be killed"
        assert _latest_step(workdir) >= 40, "no checkpoint at step 40 within 300 s"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = _latest_step(workdir)
    assert killed_at < 300
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"(step {killed_at})" in done.stderr and "resumed from" in done.stderr
    assert _latest_step(workdir) == 300
    assert "trained to step 300" in done.stdout


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.large
def test_multi_worker_mirrored_two_local_processes(kanjivg_data_dir, tmp_path):
    workdir = str(tmp_path / "run")
    hosts = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})
        cmd = _command(workdir, kanjivg_data_dir, "--strategy=multi_worker",
                       "--config.train.num_steps=20")
        procs.append(subprocess.Popen(cmd, env=_env(TF_CONFIG=tf_config), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=400))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, "\n".join(e[-3000:] for _, e in outputs)
        assert "with 2 replica(s)" in err
    assert "chief=True" in outputs[0][1] and "chief=False" in outputs[1][1]
    assert _latest_step(workdir) == 20
    assert os.path.exists(os.path.join(workdir, "samples.png"))
    assert not os.path.exists(os.path.join(workdir, "tmp_worker_1"))  # Scratch removed.


def test_unknown_config_names_the_choices(tmp_path):
    cmd = [sys.executable, "-m", "sketchembednet.train", "--config=nosuch",
           f"--workdir={tmp_path}"]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    from sketchembednet import configs

    choices = ", ".join(configs.PACKAGED)
    assert f"--config=nosuch: no such config file; use a path or one of {choices}" in done.stderr

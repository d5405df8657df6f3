"""Shared pytest fixtures for sketchembednet.

Real data from the project's shared data pack is located through the
``SKETCHEMBEDNET_SHARED_DATA`` environment variable (default
``../shared/data`` relative to the checkout). Tests that need it use the
``shared_data`` fixture and are skipped, with the reason, when it is absent.
"""

import pathlib

import pytest

from sketchembednet import paths


def shared_data_dir() -> pathlib.Path:
    """Returns the shared real-data directory (it may not exist): ``paths.shared_data_dir``."""
    return pathlib.Path(paths.shared_data_dir())


def pytest_configure(config):
    """Splits the CPU into 2 logical devices before TensorFlow initialises, so that
    MirroredStrategy tests have 2 replicas (everything else uses the first)."""
    del config
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    """The real-data pack; skips the test when it is not available."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        pytest.skip(
            f"real data not found at {path}: set SKETCHEMBEDNET_SHARED_DATA to the "
            "shared data pack (quickdraw/, omniglot/, sketch_rnn_datasets/)"
        )
    return path


@pytest.fixture(scope="session")
def kanjivg_data_dir(tmp_path_factory) -> str:
    """A TFDS data dir holding the real embedded kanjivg dataset, built once per session.

    The build reads the installed ``kanjivg`` package (offline) and takes about
    25 s on 2 cores.
    """
    import tensorflow_datasets as tfds

    import tfds_builders  # noqa: F401  (registers the builder)

    data_dir = str(tmp_path_factory.mktemp("tfds"))
    tfds.builder("kanjivg", data_dir=data_dir).download_and_prepare()
    return data_dir

"""tf.distribute strategies by name: the only way sketchembednet scales.

``default``, ``one_device``, ``mirrored``, ``multi_worker`` (from ``TF_CONFIG``)
and ``tpu`` (untested here: no TPU is available to this project's CI).

On a machine without GPUs, ``mirrored`` mirrors over the logical CPU devices;
:func:`split_cpu` creates several of them (used by the tests; on real CPUs it
does not make training faster, since the replicas share the same cores).

Example:
  >>> strategy = get_strategy("default")
  >>> strategy.num_replicas_in_sync
  1
"""

from __future__ import annotations

import tensorflow as tf
from absl import logging

NAMES = ("default", "one_device", "mirrored", "multi_worker", "tpu")


def split_cpu(num_devices: int) -> None:
    """Splits the physical CPU into ``num_devices`` logical devices.

    Must run before TensorFlow initialises its devices (before any op runs).

    Raises:
      RuntimeError: if TensorFlow is already initialised with another split.
    """
    if num_devices <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current and len(current) == num_devices:
        return
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
    )


def get_strategy(name: str, tpu_address: str = "") -> tf.distribute.Strategy:
    """Builds a strategy by name.

    Args:
      name: one of ``NAMES``.
      tpu_address: TPU name or address for ``tpu`` ("" = from the environment).

    Raises:
      ValueError: for an unknown name.
    """
    if name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        strategy = tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    elif name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    elif name == "multi_worker":
        # Reads the cluster from TF_CONFIG; a custom loop (Keras 3 fit() fails under it).
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif name == "tpu":  # Untested: no TPU here.
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        strategy = tf.distribute.TPUStrategy(resolver)
    else:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(NAMES)}")
    logging.info("strategy %s with %d replica(s)", name, strategy.num_replicas_in_sync)
    return strategy


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that writes summaries, grids and the real checkpoints."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type in (None, "chief") or (task_type == "worker" and task_id == 0
                                            and "chief" not in resolver.cluster_spec().as_dict())

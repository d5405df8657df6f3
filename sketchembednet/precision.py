"""Numeric precision of a model: ``float32`` or ``mixed_bfloat16``.

``mixed_bfloat16`` builds the model under Keras' ``mixed_bfloat16`` dtype policy:
variables stay float32 and the encoder's convolutions and the decoder's matmuls run in
bfloat16, while the recurrent states, layer norms and gates, the embedding head
(``z``, ``mu``, ``logvar``), the mixture-density head and every loss stay float32.

bfloat16 only pays where the hardware multiplies it natively: GPUs and TPUs, and CPUs
with AMX-BF16 or AVX512-BF16. Elsewhere the matmuls are emulated and slower than
float32, so :func:`check` refuses the option instead of running slowly.

Example:
  >>> with policy_scope("float32"):
  ...     layer = keras.layers.Dense(2)
  >>> layer.dtype_policy.name
  'float32'
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf

PRECISIONS = ("float32", "mixed_bfloat16")
_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags() -> set[str]:
    """The CPU feature flags of this (Linux) machine; empty where unknown."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """This (Linux) machine's CPU model name, as ``lscpu`` shows it; ``"unknown"`` elsewhere."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return "unknown"


def bf16_support() -> tuple[bool, str]:
    """Whether bfloat16 matmuls run natively here, and on what."""
    if tf.config.list_physical_devices("GPU") or tf.config.list_physical_devices("TPU"):
        return True, "an accelerator (GPU/TPU)"
    found = sorted(set(_BF16_CPU_FLAGS) & cpu_flags())
    if found:
        return True, "a CPU with " + " and ".join(f.upper() for f in found)
    return False, "a CPU without AMX-BF16 or AVX512-BF16"


def check(precision: str) -> None:
    """Raises ValueError for an unknown precision, or bf16 on hardware without it."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    if precision == "mixed_bfloat16":
        ok, where = bf16_support()
        if not ok:
            raise ValueError(
                f"precision='mixed_bfloat16' needs native bfloat16 matmuls, but this is {where}; "
                "bf16 would be emulated and slower than float32 here. Use precision='float32'."
            )


@contextlib.contextmanager
def policy_scope(precision: str):
    """Layers created inside get the Keras dtype policy ``precision``."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)

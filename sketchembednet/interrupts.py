"""Stopping training cleanly on SIGINT / SIGTERM.

While :class:`StopSignals` is active, the first SIGINT or SIGTERM only sets
``received``; the training loop then writes a checkpoint and raises
:class:`TrainingInterrupted`. A second signal gets the default behaviour again, so
Ctrl-C twice stops at once.

Example:
  >>> with StopSignals() as signals:
  ...     pass  # the loop checks signals.received between steps
  >>> signals.received is None
  True
"""

from __future__ import annotations

import signal
import threading

from absl import logging


class TrainingInterrupted(Exception):
    """SIGINT or SIGTERM stopped training; a checkpoint of the current step was written.

    Attributes:
      signal_number: the signal's number (the CLI exits with 128 + it).
    """

    def __init__(self, message: str, signal_number: int):
        super().__init__(message)
        self.signal_number = signal_number


class StopSignals:
    """While active, SIGINT and SIGTERM only set ``received`` (the first one); a second
    signal gets the default behaviour again (Ctrl-C twice stops at once)."""

    def __init__(self, enabled: bool = True):
        self.enabled, self.received, self.number, self._old = enabled, None, 0, {}

    def _handle(self, number, frame):
        del frame
        self.received, self.number = signal.Signals(number).name, number
        logging.warning("%s received: stopping after the current steps to write a checkpoint "
                        "(send it again to stop at once)", self.received)
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def __enter__(self):
        if self.enabled and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old = {}
        return False

"""One-line errors for the command-line tools.

A user's mistake (a wrong path, an unreadable file, a workdir of another model, an
untrained checkpoint) ends a command with ``error: <message>`` on stderr and exit
code 1, not a traceback. Everything else (a bug) keeps its traceback.

Example:
  >>> def main(argv):
  ...     raise FileNotFoundError("runs/typo/config.json: not found")
  >>> one_line_errors(main)(["prog"])  # doctest: +SKIP
  error: runs/typo/config.json: not found
"""

from __future__ import annotations

import functools
import sys


def user_error_types() -> tuple:
    """The exception types that report a user's mistake (imported lazily: TF)."""
    from sketchembednet.models import checkpoints
    from sketchembednet.data.errors import DataFileError
    from sketchembednet.evaluation.loading import UntrainedModelError
    from sketchembednet.configs.checks import ConfigError

    return (FileNotFoundError, FileExistsError, NotADirectoryError, DataFileError,
            checkpoints.CheckpointMismatchError, checkpoints.CorruptCheckpointError,
            UntrainedModelError, ConfigError)


def one_line_errors(main):
    """Wraps an ``absl.app`` main so that user errors exit with one line (code 1)."""

    @functools.wraps(main)
    def wrapped(argv):
        try:
            return main(argv)
        except (FileNotFoundError, FileExistsError, NotADirectoryError) as e:
            sys.exit(f"error: {e}")
        except Exception as e:  # noqa: BLE001  (re-raised unless a user error)
            if isinstance(e, user_error_types()):
                sys.exit(f"error: {e}")
            raise

    return wrapped

"""JSON files of a run (``config.json``, ``sources.json``, ``train_result.json``, ...).

Writes are atomic (a temporary file, then a rename), so an interrupted write never
leaves half a file behind.

Example:
  >>> write_json("/tmp/sen_jsonio_example.json", {"step": 3})
  >>> read_json("/tmp/sen_jsonio_example.json")
  {'step': 3}
  >>> read_json("/tmp/sen_no_such_file.json") is None
  True
"""

from __future__ import annotations

import json
import os


def read_json(path: str, *, corrupt_ok: bool = False):
    """The JSON document at ``path``, or None if there is no such file.

    Args:
      path: the file.
      corrupt_ok: return None, instead of raising, when the file is not valid JSON.

    Raises:
      ValueError: naming ``path``, if it is not valid JSON and ``corrupt_ok`` is False.
    """
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        if corrupt_ok:
            return None
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def write_json(path: str, value) -> None:
    """Writes ``value`` as indented, key-sorted JSON atomically (``str`` for other types)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True, default=str)
    os.replace(tmp, path)

"""The one place that resolves the project's folders from the environment.

* ``SKETCHEMBEDNET_SHARED_DATA``: the real-data pack used by integration tests,
  benchmarks and the evaluation CLIs (default ``../shared/data``).
* ``TFDS_DATA_DIR``: TFDS's data dir (default ``~/tensorflow_datasets``).
* ``SKETCHEMBEDNET_QUICKDRAW_DIR``: a folder of Quick, Draw! ``.ndjson`` files for
  the ``quickdraw_shared`` and ``pretrained`` configs (default: none).

Configs stay free of environment reads: they hold placeholders that
:func:`expand` resolves when a run starts, so a saved ``config.json`` still means
the same thing on another machine.

Example:
  >>> import os
  >>> os.environ["TFDS_DATA_DIR"] = "/data/tfds"
  >>> expand("{tfds_data_dir}/quickdraw_shared_sample")
  '/data/tfds/quickdraw_shared_sample'
  >>> shared_data_dir("omniglot")  # doctest: +SKIP
  '../shared/data/omniglot'
"""

from __future__ import annotations

import os

SHARED_DATA_ENV = "SKETCHEMBEDNET_SHARED_DATA"
DEFAULT_SHARED_DATA = os.path.join("..", "shared", "data")
QUICKDRAW_DIR_ENV = "SKETCHEMBEDNET_QUICKDRAW_DIR"


def shared_data_dir(*parts: str) -> str:
    """``$SKETCHEMBEDNET_SHARED_DATA`` (default ``../shared/data``), joined with ``parts``."""
    return os.path.join(os.environ.get(SHARED_DATA_ENV) or DEFAULT_SHARED_DATA, *parts)


def tfds_data_dir() -> str:
    """``$TFDS_DATA_DIR``, or ``~/tensorflow_datasets`` (expanded) when unset."""
    return os.environ.get("TFDS_DATA_DIR") or os.path.expanduser(
        os.path.join("~", "tensorflow_datasets"))


def placeholders() -> dict[str, str]:
    """The values of the placeholders a config's paths may hold."""
    return {"tfds_data_dir": tfds_data_dir(), "shared_data": shared_data_dir(),
            "quickdraw_dir": os.environ.get(QUICKDRAW_DIR_ENV, "")}


def expand(path):
    """A config path with ``{tfds_data_dir}``, ``{shared_data}`` and ``{quickdraw_dir}``
    replaced and ``~`` expanded; empty or None stays as it is.

    Raises:
      ValueError: naming the path, for an unknown ``{placeholder}``.
    """
    if not path:
        return path
    try:
        path = str(path).format_map(placeholders())
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"{path}: unknown placeholder {e} (known: "
                         f"{', '.join('{%s}' % k for k in placeholders())})") from None
    return os.path.expanduser(path) if path else path

"""ml_collections configs for ``python -m sketchembednet.train``.

Each module defines ``get_config(arg="")``. On the command line a config is
named either by a file path or, for the packaged ones, by its name:

    python -m sketchembednet.train --config=demo            # the default
    python -m sketchembednet.train --config=quickdraw --config.train.batch_size=64
    python -m sketchembednet.train --config=path/to/my_config.py:tiny
"""

import os

PACKAGED = ("ablation", "demo", "pretrained", "quickdraw", "quickdraw_shared", "sketchy")


def config_path(name_or_path: str) -> str:
    """Maps a packaged config name (optionally with ``:arg``) to its file path.

    Anything that is not a packaged name is returned unchanged, so real paths
    keep working.
    """
    name, sep, arg = name_or_path.partition(":")
    if name in PACKAGED and not os.path.exists(name):
        return os.path.join(os.path.dirname(__file__), f"{name}.py") + sep + arg
    return name_or_path

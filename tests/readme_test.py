"""The README's Python snippets of the shipped model run as written, each in a fresh
interpreter.

Every ```python block of README.md that uses ``exported/kanjivg_quickdraw_small`` runs
from the repository root, against the installed package; a snippet that does not import
sketchembednet must also not load it (the Hub routes work without it). (The other
snippets need a user's own workdir.)
"""

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SNIPPETS = [code for code in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(),
                                        re.S) if "exported/kanjivg_quickdraw_small" in code]
_CHECK = ("\nimport sys as _sys\n"
          "assert 'sketchembednet' not in _sys.modules, 'loaded sketchembednet'\n")


def test_readme_has_snippets():
    assert len(SNIPPETS) >= 6


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index):
    code = SNIPPETS[index]
    if "sketchembednet" not in code:
        code += _CHECK
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600,
                          env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, f"README snippet {index}:\n{code}\n{done.stderr[-3000:]}"

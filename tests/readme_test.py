"""The documentation's Python snippets of the shipped model run as written, each in a
fresh interpreter.

Every ```python block of README.md and of the pages ``docs/*.md`` that uses
``exported/sketchembednet`` runs from the repository root, against the installed
package; a snippet that does not import sketchembednet must also not load it (the Hub
routes work without it). (The other snippets need a user's own workdir.)
"""

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
MODEL = "exported/sketchembednet"


def _snippets(page):
    return [code for code in re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
            if MODEL in code]


SNIPPETS = [(page.relative_to(ROOT).as_posix(), index, code)
            for page in PAGES for index, code in enumerate(_snippets(page))]
_CHECK = ("\nimport sys as _sys\n"
          "assert 'sketchembednet' not in _sys.modules, 'loaded sketchembednet'\n")


def test_readme_has_snippets():
    assert len(_snippets(ROOT / "README.md")) >= 1  # the TF Hub encoder, on the front page
    assert len(_snippets(ROOT / "docs" / "export.md")) >= 5  # tf_keras, Keras 3, decoder, ...
    assert len(SNIPPETS) >= 6


@pytest.mark.parametrize("page,index,code", SNIPPETS,
                         ids=[f"{page}-{index}" for page, index, _ in SNIPPETS])
def test_readme_snippet_runs(page, index, code):
    if "sketchembednet" not in code:
        code += _CHECK
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600,
                          env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, f"{page} snippet {index}:\n{code}\n{done.stderr[-3000:]}"

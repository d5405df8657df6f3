"""The project's structure, checked from its source so that it cannot rot.

The data path runs one way::

    tfds_builders -> data -> layers -> models -> trainer / evaluation / exporting / tuning
        -> CLIs -> tools

Every module of ``sketchembednet`` and ``tfds_builders`` belongs to one group below, and
may import (at module level or inside a function) only the groups its group lists.
Further rules: no import cycle between modules, no private (``_name``) import across
modules, no work at import time (backend switches, global seeds, environment writes),
absl logging only, one resolver of the environment's folders (``paths.py``), and no
module over ``MAX_LINES`` lines except those in ``LONG_MODULES`` (with the reason).
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("sketchembednet", "tfds_builders")
MAX_LINES = 500
LONG_MODULES: dict[str, str] = {}  # module -> why it may exceed MAX_LINES.

_FORMATS = ("strokes", "errors", "framing", "safe_pickle", "quickdraw", "kanjivg", "omniglot",
            "sketchy", "hanzi", "hershey", "mini_imagenet")
_OPS = ("losses", "sampling", "precision", "schedules")
_SUPPORT = ("distribute", "visualize", "interrupts", "wall_clock")
_APPS = ("train", "evaluate", "export", "tune", "figures", "show_data", "cli", "testing")

# group -> the groups it may import (besides itself).
ALLOWED = {
    "base": set(),
    "formats": {"base"},
    "builders": {"base", "formats"},
    "data": {"base", "formats", "builders"},
    "layers": {"base"},
    "ops": {"base", "formats", "data", "layers"},
    "models": {"base", "formats", "data", "layers", "ops"},
    "configs": {"base", "formats", "data", "models"},
    "support": {"base", "formats", "models"},
    "evaluation": {"base", "formats", "builders", "data", "layers", "ops", "models", "support"},
    "trainer": {"base", "formats", "data", "ops", "models", "configs", "support"},
    "exporting": {"base", "formats", "builders", "data", "ops", "models", "support",
                  "evaluation"},
    "tuning": {"base", "formats", "data", "models", "configs", "support", "evaluation",
               "trainer"},
    "apps": {"base", "formats", "builders", "data", "layers", "ops", "models", "configs",
             "support", "evaluation", "trainer", "exporting", "tuning"},
}


def group_of(module: str) -> str:
    """The layering group of a project module (``sketchembednet.data.pipeline`` -> data)."""
    parts = module.split(".")
    if parts[0] == "tfds_builders":
        return "formats" if parts[1:] in (["manual"], ["splits"]) else "builders"
    rest = parts[1:]
    if not rest or rest[0] in ("paths", "jsonio"):
        return "base"
    head = rest[0]
    if head == "data":
        if len(rest) == 1 or rest[1] in _FORMATS:
            return "formats"
        return "data"
    if head in ("layers", "models", "configs", "evaluation", "tuning", "trainer"):
        return head
    if head in ("exporting",):
        return "exporting"
    if head in _OPS:
        return "ops"
    if head in _SUPPORT:
        return "support"
    if head in _APPS:
        return "apps"
    raise AssertionError(f"{module}: no layering group; add it to tests/layering_test.py")


def project_files() -> dict[str, pathlib.Path]:
    """module name -> file, for every non-test module of the project's packages."""
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name.endswith("_test.py") or "dummy_data" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def imports_of(module: str, path: pathlib.Path) -> list[tuple[str, list[str], int]]:
    """``(imported module, names, line)`` for every project import anywhere in the file."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.append((target, [a.name for a in node.names], node.lineno))
    return [(t, names, line) for t, names, line in found if t.split(".")[0] in PACKAGES]


def resolve(target: str, names: list[str], files: dict) -> list[str]:
    """The project modules an import loads: ``from pkg import mod`` names the submodule."""
    loaded = [target]
    loaded += [f"{target}.{n}" for n in names if f"{target}.{n}" in files]
    return [m for m in loaded if m in files]


FILES = project_files()
EDGES = [(module, dep, line) for module, path in FILES.items()
         for target, names, line in imports_of(module, path)
         for dep in resolve(target, names, FILES) if dep != module]


def test_every_module_has_a_group():
    for module in FILES:
        assert group_of(module) in ALLOWED


def test_imports_follow_the_data_path():
    bad = []
    for module, dep, line in EDGES:
        source, target = group_of(module), group_of(dep)
        if dep.split(".")[:len(module.split("."))] == module.split("."):
            continue  # A package importing its own submodules (its __init__).
        if target != source and target not in ALLOWED[source]:
            bad.append(f"{FILES[module].relative_to(ROOT)}:{line}: {source} module {module} "
                       f"imports {target} module {dep}")
    assert not bad, "imports against the data path:\n" + "\n".join(bad)


def test_nothing_below_train_imports_the_trainer():
    users = {module for module, dep, _ in EDGES if dep == "sketchembednet.trainer"}
    assert users <= {m for m in FILES if group_of(m) in ("tuning", "apps")}, users


def test_no_import_cycles():
    graph: dict[str, set] = {m: set() for m in FILES}
    for module, dep, _ in EDGES:
        graph[module].add(dep)
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                # A package __init__ importing its submodules, which import the package
                # (Python runs parents first), is not a cycle of code.
                if not nxt.startswith(node + ".") and not node.startswith(nxt + "."):
                    cycle = stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt]
                    raise AssertionError("import cycle: " + " -> ".join(cycle))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_no_private_names_imported_across_modules():
    bad = []
    for module, path in FILES.items():
        for target, names, line in imports_of(module, path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target != module:
                bad.append(f"{path.relative_to(ROOT)}:{line}: from {target} import "
                           f"{', '.join(private)}")
    assert not bad, "\n".join(bad)


def test_module_sizes():
    lines = {}
    for package in (*PACKAGES, "tools"):
        for path in (ROOT / package).rglob("*.py"):
            if not path.name.endswith("_test.py"):
                lines[str(path.relative_to(ROOT))] = len(path.read_text().splitlines())
    too_long = {p: n for p, n in lines.items() if n > MAX_LINES and p not in LONG_MODULES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def _module_level_calls(tree: ast.Module):
    """Calls made when the module is imported (top-level statements, not functions)."""
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call):
                yield node


def _dotted(node) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def test_no_side_effects_at_import():
    calls = ("matplotlib.use", "set_random_seed", "tf.random.set_seed", "np.random.seed",
             "os.environ.setdefault", "os.putenv", "logging.set_verbosity", "signal.signal")
    bad = []
    for module, path in FILES.items():
        for call in _module_level_calls(ast.parse(path.read_text())):
            name = _dotted(call.func)
            if name.startswith("tf.config.") or any(
                    name == c or name.endswith("." + c.rpartition(".")[2]) and c.endswith(name)
                    or name == c.rpartition(".")[2] for c in calls):
                bad.append(f"{path.relative_to(ROOT)}:{call.lineno}: {name}(...) at import")
    assert not bad, "\n".join(bad)


def test_global_seeds_are_set_only_by_clis_and_tests():
    bad = []
    for module, path in FILES.items():
        if group_of(module) == "apps":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _dotted(node.func) in (
                    "keras.utils.set_random_seed", "set_random_seed", "tf.random.set_seed",
                    "np.random.seed", "random.seed"):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {_dotted(node.func)}")
    # The trainer seeds its run from config.train.seed (a run is what its caller asked
    # for); evaluation/seeding.py seeds Python's random only inside a block and restores it.
    allowed = ("sketchembednet/trainer.py:", "sketchembednet/evaluation/seeding.py:")
    assert [b for b in bad if not b.startswith(allowed)] == [], bad


def test_absl_logging_only():
    bad = [f"{path.relative_to(ROOT)}:{line}" for module, path in FILES.items()
           for line, text in enumerate(path.read_text().splitlines(), 1)
           if text.strip() in ("import logging", "from logging import getLogger")]
    assert not bad, "stdlib logging (use absl.logging): " + ", ".join(bad)


def test_one_place_reads_the_folders_from_the_environment():
    readers = set()
    for module, path in FILES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in (
                    "SKETCHEMBEDNET_SHARED_DATA", "TFDS_DATA_DIR", "SKETCHEMBEDNET_QUICKDRAW_DIR"):
                readers.add(module)
    assert readers == {"sketchembednet.paths"}, readers


def test_importing_the_builders_loads_no_pipeline_renderer_or_model():
    code = ("import sys, tfds_builders\n"
            "heavy = [m for m in sys.modules if m.startswith(('sketchembednet.data.pipeline',"
            " 'sketchembednet.data.rasterize', 'sketchembednet.models', 'sketchembednet.layers',"
            " 'sketchembednet.losses'))]\n"
            "assert not heavy, heavy\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("module", ["sketchembednet", "sketchembednet.trainer",
                                    "sketchembednet.evaluation.structure"])
def test_importing_leaves_the_matplotlib_backend_alone(module):
    code = ("import matplotlib\nmatplotlib.use('pdf')\n"
            f"import {module}\n"
            "assert matplotlib.get_backend() == 'pdf', matplotlib.get_backend()\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

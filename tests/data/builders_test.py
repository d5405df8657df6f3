"""Conventions every stroke builder of tfds_builders follows (no data needed)."""

import ast
import pathlib

import pytest
import tensorflow_datasets as tfds

import tfds_builders
from sketchembednet.data import pipeline

ROOT = pathlib.Path(tfds_builders.__file__).parent
STROKE_BUILDERS = ("kanjivg", "quickdraw", "omniglot_strokes", "sketchy", "hershey",
                   "hanzi_medians")
SOURCE_IMAGES = {"sketchy": (84, 84, 3)}  # Photos are the source; never renderings.


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("name", STROKE_BUILDERS)
def test_stroke_builders_store_strokes_and_never_render(name):
    module = ROOT / name / f"{name}_dataset_builder.py"
    assert not {i for i in _imports(module) if "rasterize" in i}, f"{module} imports the renderer"
    builder = tfds.builder(name, data_dir="/nonexistent")  # Info only: nothing is built.
    features = builder.info.features
    assert features["strokes"].shape == (None, 3)
    if name in SOURCE_IMAGES:
        assert pipeline.image_shape_of(builder) == SOURCE_IMAGES[name]
    else:
        assert "image" not in features, f"{name} stores an image feature"
        assert pipeline.image_shape_of(builder) == (28, 28, 1)

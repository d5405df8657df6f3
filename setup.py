"""Installs sketchembednet and its TFDS builders.

Exact versions for reproduction live in ``constraints.txt``:

    pip install -c constraints.txt '.[test]'
"""

import pathlib

import setuptools

_HERE = pathlib.Path(__file__).parent

# Compatible ranges around the stack checked in ../shared/docs/stack.md
# (TF 2.21 + Keras 3). tensorflow-addons is deliberately absent: it cannot be
# imported under Keras 3 and reached end of life in May 2024.
INSTALL_REQUIRES = [
    "tensorflow~=2.21.0",
    "keras~=3.15",
    "tensorflow-datasets~=4.9.10",
    "tensorflow-hub~=0.16.1",
    "tf-keras~=2.21.0",  # hub.KerasLayer is a tf_keras layer.
    "keras-tuner~=1.4.8",
    "tensorboard~=2.21.0",  # keras-tuner imports it on the TF backend.
    "importlib_resources>=7.1,<8",  # tfds imports it while building.
    "numpy>=2.0,<3",
    "scipy~=1.17",
    "absl-py>=2.1,<3",
    "ml-collections~=1.1",
    "simplification~=2.0",  # Fast RDP.
    "svgpathtools~=1.8",  # SVG path parsing (KanjiVG, Sketchy).
    "matplotlib~=3.11",
    "scikit-learn~=1.9",
    "umap-learn~=0.5.12",
    "tqdm~=4.67",
    "psutil>=5.9",
    # The embedded default dataset: KanjiVG stroke-order SVGs (CC BY-SA 3.0).
    # Pinned exactly because the dataset's contents and statistics depend on it.
    "kanjivg==20260714",
    "Hershey-Fonts==2.1.0",  # The embedded hershey dataset: 32 Hershey vector fonts (MIT).
]

EXTRAS_REQUIRE = {
    # Building the quickdraw dataset on Apache Beam (Dataflow, Spark, Flink or the
    # DirectRunner): tfds_builders/quickdraw/README.md. mlcroissant: the `tfds` CLI
    # imports it. Beam needs protobuf < 7, pillow < 13, pyarrow < 26 and
    # python-dateutil < 3, which constraints.txt pins for every install.
    "beam": [
        "apache-beam>=2.77,<3",
        "mlcroissant~=1.1",
    ],
    "test": [
        "pytest~=9.2",
        "dill~=0.4.1",  # tfds.testing imports it.
    ],
}

setuptools.setup(
    name="sketchembednet",
    version="0.1.0",
    description=(
        "SketchEmbedNet (Wang et al., ICML 2021) in TensorFlow 2 / Keras 3: "
        "learning image embeddings by learning to draw."
    ),
    long_description=(_HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11,<3.12",
    packages=setuptools.find_packages(
        include=["sketchembednet", "sketchembednet.*", "tfds_builders", "tfds_builders.*"]
    ),
    package_data={
        "tfds_builders": [
            "*/README.md", "*/CITATIONS.bib", "*/TAGS.txt", "*/checksums.tsv", "*/*.txt",
            "*/*.tsv", "*/*.json",
            # Dummy data ships too: the builder tests run against the installed package.
            "*/dummy_data/**/*",
        ],
        "sketchembednet": ["configs/*.py"],
    },
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    license="Apache-2.0",
)

"""Apache Beam support of the quickdraw builder: the pieces that run on Beam workers.

``pip install '.[beam]'``, then (README.md, "Building on Apache Beam")::

    tfds build quickdraw/paper_300_ndjson --imports=tfds_builders \
        --beam_pipeline_options="runner=DataflowRunner,project=...,region=...,..."

Beam is used only when a download config names a runner or options (or the
builder is created with ``use_beam=True``); otherwise the builder runs as a plain
generator and this module's Beam import never happens. Every function that a
worker runs is module-level (Beam pickles functions by reference: workers need
the project installed, e.g. Dataflow's ``--setup_file`` or a custom container).

Metadata computed from the data (the stroke scale, the drop counts) comes out
of the pipeline as a PCollection. TFDS's ``BeamMetadataDict`` stages it in a
local temporary folder that remote workers cannot reach (tensorflow/datasets
#1345), so :class:`PipelineMetadataDict` stages it next to the dataset being
written instead and merges it when TFDS saves the metadata, after the pipeline.
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow_datasets as tfds
from etils import epath


class PipelineMetadataDict(tfds.core.MetadataDict):
    """A ``MetadataDict`` that can also receive dicts computed by a Beam pipeline.

    Without a pipeline it is an ordinary ``MetadataDict`` (no Beam import).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending = []

    def update_from_pcollection(self, label: str, pcoll, staging_dir) -> None:
        """Merges the single dict of ``pcoll`` into the metadata once the pipeline ran.

        Args:
          label: unique name of this value (Beam step names and the staging file).
          pcoll: a PCollection holding exactly one JSON-serialisable dict.
          staging_dir: a folder every worker can write (the dataset's folder).
        """
        beam = tfds.core.lazy_imports.apache_beam
        path = epath.Path(staging_dir) / f"_beam_metadata_{label}.json"
        _ = (pcoll
             | f"{label}_to_list" >> beam.combiners.ToList()
             | f"{label}_to_json" >> beam.Map(_single_to_json, label=label)
             | f"{label}_write" >> beam.io.WriteToText(os.fspath(path), num_shards=1,
                                                       shard_name_template=""))
        self._pending.append(path)

    def save_metadata(self, data_dir):
        for path in self._pending:
            self.update(json.loads(path.read_text()))
            path.unlink()
        self._pending.clear()
        super().save_metadata(data_dir)


def _single_to_json(values: list, label: str) -> str:
    if len(values) != 1:
        raise ValueError(f"metadata {label}: expected one value from the pipeline, "
                         f"got {len(values)}")
    return json.dumps(values[0])


def sum_arrays(arrays) -> np.ndarray:
    """A ``CombineGlobally`` function: the element-wise sum (zeros if empty)."""
    total = None
    for a in arrays:
        total = np.array(a, np.float64) if total is None else total + a
    return np.zeros(0) if total is None else total


def split_transform(items: list, split: str, read_fn, stats_fn, metadata: PipelineMetadataDict,
                    staging_dir):
    """The Beam PTransform generating one split: a worker per class file.

    Args:
      items: ``[(class name, path string)]``.
      split: the split generated.
      read_fn: module-level ``fn(item, split) -> (examples [(key, dict)], stats array)``.
      stats_fn: module-level ``fn(stats array, split) -> metadata dict``.
      metadata: receives the split's metadata (``stats_fn`` of the summed stats).
      staging_dir: where the metadata is staged (the dataset being written).
    """
    beam = tfds.core.lazy_imports.apache_beam

    @beam.ptransform_fn
    def _examples(root):
        outputs = (root
                   | "files" >> beam.Create(items)
                   | "spread" >> beam.Reshuffle()  # Else Create keeps every file in one bundle.
                   | "read" >> beam.FlatMap(_tagged, split=split, read_fn=read_fn)
                   .with_outputs("stats", main="examples"))
        summary = (outputs.stats
                   | "sum_stats" >> beam.CombineGlobally(sum_arrays)
                   | "to_metadata" >> beam.Map(stats_fn, split=split))
        metadata.update_from_pcollection(split, summary, staging_dir)
        return outputs.examples

    return _examples()


def _tagged(item, split, read_fn):
    beam = tfds.core.lazy_imports.apache_beam
    examples, stats = read_fn(item, split)
    yield from examples
    yield beam.pvalue.TaggedOutput("stats", stats)

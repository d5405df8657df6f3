"""What an export records: its layout, its ``config.json`` and the training facts.

An export folder (:func:`sketchembednet.export.export`; its layout and reader are
``sketchembednet.models.exported``) holds ``encoder/``, ``decoder/`` (SketchEmbedNet only), ``config.json`` (the training config plus an
``export`` section, :data:`FORMAT_VERSION`) and :data:`README_MD` (the model card).
The ``export`` section is built here: from a training workdir (:func:`export_info`:
its checkpoint, ``train_result.json``, every training source's stroke scale) or carried
over from an earlier export (:func:`reexport_info`).

Example:
  >>> info = reexport_info(exported.read_export_config("exported/sketchembednet"),
  ...                      config)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import importlib
import os

from absl import logging

import sketchembednet
from sketchembednet import jsonio
from sketchembednet import paths
from sketchembednet.models import checkpoints
from sketchembednet.models import exported

README_MD = "README.md"
FORMAT_VERSION = 2  # of config.json's "export" section (2: the encoder frames its input)


# ------ Stroke scales
def source_scales(config: dict, workdir: str) -> list[dict]:
    """Every training source's ``{name, split, stroke_scale}``: from the run's
    ``sources.json`` (written by the trainer), else from the prepared TFDS infos
    (a scale is None where the dataset is not available).

    Example:
      >>> source_scales(config, "runs/mix")  # doctest: +SKIP
      [{'name': 'kanjivg', 'split': 'train', 'stroke_scale': 20.31}, ...]
    """
    recorded = jsonio.read_json(os.path.join(workdir, checkpoints.SOURCES_JSON))
    if recorded:
        return [dict(name=s["name"], split=s["split"], stroke_scale=s["stroke_scale"])
                for s in recorded]
    dataset = config["dataset"]
    sources = [dict(name=dataset["name"], split=dataset.get("train_split") or "train",
                    data_dir=dataset.get("data_dir"))] + list(dataset.get("mix") or ())
    return [dict(name=source["name"], split=source.get("split") or "train",
                 stroke_scale=_prepared_stroke_scale(source)) for source in sources]


def _prepared_stroke_scale(source: dict) -> float | None:
    """The ``stroke_scale`` in a source's prepared TFDS info; None if it is not available."""
    import tensorflow_datasets as tfds

    importlib.import_module("tfds_builders")  # Registers the project's builders.
    try:
        builder = tfds.builder(source["name"],
                               data_dir=paths.expand(source.get("data_dir")) or None)
        scale = (builder.info.metadata or {}).get("stroke_scale")
    except Exception as e:  # noqa: BLE001  (a missing dataset must not stop an export)
        logging.warning("stroke_scale of %s unknown: %s", source["name"], e)
        return None
    return None if scale is None else float(scale)


# ------ The "export" section
def export_info(model, config: dict, image_shape, workdir: str, source: str,
                train_command: str | None) -> dict:
    """The ``export`` section of a workdir's export (before :func:`finish_info`).

    Args:
      model: the restored model; config: the workdir's config; image_shape: ``(S, S, C)``;
      workdir: the training workdir; source: the checkpoint prefix restored;
      train_command: the training command, or None.
    """
    kind = config["model"].get("kind", "sketchembednet")
    scales = source_scales(config, workdir)
    result = jsonio.read_json(os.path.join(workdir, checkpoints.TRAIN_RESULT_JSON)) or {}
    suffix = source.rsplit("-", 1)[-1]
    return dict(
        format_version=FORMAT_VERSION,
        sketchembednet_version=sketchembednet.__version__,
        exported=datetime.date.today().isoformat(),
        kind=kind,
        image_shape=list(image_shape),
        embedding_dim=int(model.encoder.embedding_dim),
        max_len=int(config["dataset"]["max_len"]),
        stroke_scale=scales[0]["stroke_scale"],
        source_stroke_scales=scales,
        workdir=os.path.abspath(workdir),
        checkpoint=os.path.abspath(source),
        checkpoint_step=int(suffix) if suffix.isdigit() else None,
        total_steps_run=result.get("total_steps_run"),
        total_wall_seconds=result.get("total_wall_seconds"),
        final_step=result.get("train/step"),
        replicas=result.get("replicas"),
        train_command=train_command,
        encoder_variables=exported.variable_paths(model.encoder.variables),
        decoder_variables=exported.variable_paths(model.decoder.variables)
        if kind == "sketchembednet" else None,
    )


def reexport_info(old: dict, config: dict) -> dict:
    """The ``export`` section of a re-export: ``old`` (an earlier export's section) with
    the current format and date, and where it came from. An export that recorded one
    ``stroke_scale`` for a mix (before 2026-12-05) gets every source's from the training
    workdir's ``sources.json`` or the prepared datasets, where available.

    Example:
      >>> info = reexport_info({"format_version": 1, "exported": "2026-11-26",
      ...                       "source_stroke_scales": [{"name": "kanjivg"}]}, {})
      >>> info["format_version"], info["reexported_from"]
      (2, {'format_version': 1, 'exported': '2026-11-26'})
    """
    info = dict(old, format_version=FORMAT_VERSION, exported=datetime.date.today().isoformat(),
                reexported_from=dict(format_version=old.get("format_version", 1),
                                     exported=old.get("exported")))
    info.pop("evaluation", None)
    if not info.get("source_stroke_scales"):
        scales = source_scales(config, old["workdir"])
        if scales[0]["stroke_scale"] is None:
            scales[0]["stroke_scale"] = old.get("stroke_scale")
        info["source_stroke_scales"] = scales
        unknown = [s["name"] for s in scales if s["stroke_scale"] is None]
        if unknown:
            logging.warning("re-export: stroke scale of %s unknown (prepare the datasets at "
                            "the config's data_dir to record them)", unknown)
    return info


def finish_info(info: dict, framing: str, rows, meta) -> dict:
    """``info`` with the encoder's ``framing`` and the model card's ``evaluation`` rows."""
    return dict(info, framing=framing, evaluation=dict(meta, rows=rows) if rows else None)

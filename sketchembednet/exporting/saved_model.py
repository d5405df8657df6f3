"""The export procedure: a workdir's (or an earlier export's) model written as an export.

:func:`export` restores a training workdir's checkpoint and :func:`reexport` rebuilds an
earlier export's model (:func:`sketchembednet.models.exported.load_for_finetuning`);
both hand it to :func:`write_export`, which saves the TF Hub modules
(:mod:`sketchembednet.exporting.hub_modules`), ``config.json`` and the model card
(:mod:`sketchembednet.exporting.model_card`) into a temporary folder beside the export
and then swaps it in, so an interrupted export leaves the old one as it was. The layout
is described in :mod:`sketchembednet.export`.

Example:
  >>> paths = export("runs/kanjivg-cpu", "exported/kanjivg-cpu")  # doctest: +SKIP
  >>> sorted(os.listdir(paths["out"]))  # doctest: +SKIP
  ['README.md', 'config.json', 'decoder', 'encoder']
"""

from __future__ import annotations

import os
import shutil
import tempfile

import tensorflow as tf
from absl import logging

from sketchembednet import jsonio
from sketchembednet.data import preprocessing
from sketchembednet.evaluation import loading
from sketchembednet.exporting import facts
from sketchembednet.exporting import hub_modules
from sketchembednet.exporting import model_card
from sketchembednet.models import exported


def export(workdir: str, out: str, checkpoint: str | None = None,
           results_json: str | None = None, overwrite: bool = False,
           train_command: str | None = None, notes: str | None = None,
           framing: str | None = None, allow_untrained: bool = False) -> dict:
    """Exports a training workdir's model as SavedModels / TF Hub modules and a model card.

    Args:
      workdir: a ``sketchembednet.trainer`` workdir (``config.json``, ``checkpoints/``).
      out: the export folder (created; see :mod:`sketchembednet.export` for its layout).
      checkpoint: a checkpoint prefix to export instead of the latest one.
      results_json: optional few-shot results (``tools/results_table.py --json``, as
        ``docs/results/omniglot_background.json``) for the model card: every row, this
        workdir's marked (a note says so if none is). Without it the card says that no
        evaluation was recorded.
      overwrite: replace an earlier export in ``out`` (other non-empty folders are refused).
      train_command: the training command, for the model card (``train --export`` passes it).
      notes: Markdown appended to the model card as a "Notes" section (e.g. how the
        configuration was chosen).
      framing: the encoder module's preprocessing (``"fit_ink"`` or ``"none"``); default
        ``fit_ink`` for 1-channel (stroke-trained) models, ``none`` for photo encoders.
      allow_untrained: export a workdir whose newest checkpoint is of step 0 (refused
        by default: its model card would present an untrained model).

    Returns:
      dict of paths: ``out``, ``encoder``, ``decoder`` (None for the ``conv_vae`` and
      ``contrastive`` baselines: they have no sketch decoder), ``config`` and ``readme``.

    Raises:
      FileNotFoundError: naming the workdir if it has no config.json or no checkpoint,
        or a missing ``results_json``.
      FileExistsError: if ``out`` is not empty and not replaceable (see ``overwrite``).
      loading.UntrainedModelError: for a step-0 checkpoint, unless ``allow_untrained``.

    Example:
      >>> paths = export("runs/kanjivg-cpu", "exported/kanjivg-cpu")  # doctest: +SKIP
      >>> import tensorflow_hub as hub  # doctest: +SKIP
      >>> hub.load(paths["encoder"])(images_uint8).shape  # doctest: +SKIP
      TensorShape([8, 256])
    """
    out = os.path.abspath(out)
    prepare_out(out, overwrite)
    model, config, source = loading.model_from_workdir(workdir, checkpoint,
                                                       allow_untrained=allow_untrained)
    image_shape = tuple(int(d) for d in loading.dataset_image_shape(config))
    rows, meta = model_card.evaluation_rows(results_json, workdir)
    info = facts.export_info(model, config, image_shape, workdir, source, train_command)
    paths = write_export(model, config, info, out, rows, meta, framing, notes)
    logging.info("exported %s (%s) to %s", source, info["kind"], out)
    return paths


def reexport(export_dir: str, out: str, results_json: str | None = None,
             notes: str | None = None, framing: str | None = None,
             overwrite: bool = False) -> dict:
    """Writes an earlier export again in the current export format, with the same weights.

    The model is rebuilt from the export's ``config.json`` and its weights are read
    from its ``encoder/`` and ``decoder/`` (``load_for_finetuning``); the training
    facts (workdir, checkpoint, steps, wall time, command, stroke scale) are carried
    over from its ``export`` section, so no training workdir is needed. An export
    that recorded one ``stroke_scale`` for a mix of sources gets every source's
    (``source_stroke_scales``) from the training workdir's ``sources.json`` or
    the prepared datasets, where available. ``out`` may be
    ``export_dir`` itself (with ``overwrite``): the new export is written beside it
    and swapped in.

    Args:
      export_dir: a folder written by :func:`export` (any format version).
      out: the new export folder.
      results_json, notes, framing, overwrite: as :func:`export`; ``results_json`` rows
        are matched to the original training workdir recorded in the export.

    Returns:
      dict of paths, as :func:`export`.

    Example:
      >>> reexport("exported/old", "exported/new")  # doctest: +SKIP
    """
    config = exported.read_export_config(export_dir)
    out = os.path.abspath(out)
    prepare_out(out, overwrite)
    old = config.pop("export")
    model = exported.load_for_finetuning(export_dir)
    rows, meta = model_card.evaluation_rows(results_json, old["workdir"])
    info = facts.reexport_info(old, config)
    paths = write_export(model, config, info, out, rows, meta, framing or old.get("framing"),
                         notes)
    logging.info("re-exported %s (format %s) to %s (format %s)", export_dir,
                 old.get("format_version", 1), out, facts.FORMAT_VERSION)
    return paths


def prepare_out(out: str, overwrite: bool) -> None:
    """Checks that ``out`` may be written: absent, empty, or (with ``overwrite``) an export.

    Raises:
      FileExistsError: naming ``out`` otherwise.
    """
    if not (os.path.exists(out) and os.listdir(out)):
        return
    if not overwrite:
        raise FileExistsError(f"{out}: exists and is not empty; pass overwrite=True "
                              "(--overwrite) to replace an earlier export")
    if not (os.path.exists(os.path.join(out, exported.CONFIG_JSON))
            and os.path.isdir(os.path.join(out, exported.ENCODER))):
        raise FileExistsError(f"{out}: not an earlier export (no config.json and "
                              f"{exported.ENCODER}/); refusing to replace it")


def _carry_over_extras(out: str, tmp: str) -> None:
    """Moves what the user added to an export being replaced (say ``figures/``) into the
    new one: the export writes only its modules, ``config.json`` and ``README.md``."""
    for name in sorted(set(os.listdir(out)) - set(os.listdir(tmp))):
        logging.info("kept %s from the export being replaced", os.path.join(out, name))
        shutil.move(os.path.join(out, name), os.path.join(tmp, name))


def write_export(model, config: dict, info: dict, out: str, rows=(), meta=None,
                 framing: str | None = None, notes: str | None = None) -> dict:
    """Saves the modules, config.json and model card into a temporary folder beside ``out``,
    then swaps it in (an interrupted export leaves ``out`` as it was). Anything else in a
    replaced ``out`` (figures, say) moves into the new export.

    Args:
      model: the built model (weights set); config: its training config;
      info: the ``export`` section (:mod:`sketchembednet.exporting.facts`);
      out: the export folder (absolute; replaced if it exists);
      rows, meta: the model card's evaluation (``model_card.evaluation_rows``);
      framing: the encoder's framing (default by the image shape); notes: Markdown.

    Returns:
      dict of paths, as :func:`export`.
    """
    image_shape = tuple(int(d) for d in info["image_shape"])
    framing = preprocessing.check_framing(framing or hub_modules.default_framing(image_shape))
    info = facts.finish_info(info, framing, rows, meta)
    has_decoder = info["kind"] == "sketchembednet"
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(out) + ".tmp-", dir=parent)
    try:
        _save_modules(model, image_shape, framing, has_decoder, tmp)
        jsonio.write_json(os.path.join(tmp, exported.CONFIG_JSON), dict(config, export=info))
        card = model_card.model_card(config, info, model_card.evaluation_markdown(rows, meta),
                                     notes or "")
        with open(os.path.join(tmp, facts.README_MD), "w") as f:
            f.write(card)
        if os.path.exists(out):
            _carry_over_extras(out, tmp)
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dict(out=out, encoder=os.path.join(out, exported.ENCODER),
                decoder=os.path.join(out, exported.DECODER) if has_decoder else None,
                config=os.path.join(out, exported.CONFIG_JSON),
                readme=os.path.join(out, facts.README_MD))


def _save_modules(model, image_shape, framing: str, has_decoder: bool, folder: str) -> None:
    """Saves ``encoder/`` (and ``decoder/`` if ``has_decoder``) into ``folder``."""
    encoder = hub_modules.EncoderModule(model, image_shape, framing)
    tf.saved_model.save(encoder, os.path.join(folder, exported.ENCODER),
                        signatures=encoder.signature_functions())
    if has_decoder:
        decoder = hub_modules.DecoderModule(model)
        tf.saved_model.save(decoder, os.path.join(folder, exported.DECODER),
                            signatures=decoder.signature_functions())

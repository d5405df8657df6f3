r"""Exports a training workdir as SavedModels that are TF Hub modules, with a model card.

    python -m sketchembednet.export --workdir=runs/kanjivg-cpu --out=exported/kanjivg-cpu \
        [--checkpoint=runs/kanjivg-cpu/checkpoints/ckpt-2000] \
        [--results_json=docs/results/omniglot_background.json] [--overwrite]
    python -m sketchembednet.export --from_export=exported/old --out=exported/old --overwrite

writes (see :func:`export`)::

    <out>/encoder/     SavedModel: images -> embedding mu [n, D]
    <out>/decoder/     SavedModel: sample(z, ...) -> stroke-5, render(stroke5, size) -> images
                       (SketchEmbedNet only: the baselines' decoders draw no sketches)
    <out>/config.json  the workdir's resolved training config plus an "export" section
    <out>/README.md    a model card

**Encoder input contract** (export format 2; details in
:mod:`sketchembednet.exporting.hub_modules`). The encoder takes users' images as they
are: uint8 ``[n, H, W, C]`` (``serving_default``, ``__call__``) or float32 on the 0..255
scale (``serving_float``), any size, C in {1, 3, 4}. Inside the SavedModel,
:func:`sketchembednet.data.preprocessing.preprocess_images` frames them as the training
renders were (``fit_ink``: crop to the ink, fit, centre, grey ink on white; polarity and
alpha handled) or, for photo encoders, only resizes them (``none``); ``serving_unframed``
skips the framing. The output ``embedding`` is the encoder mean mu in inference mode.

**Decoder.** ``sample(z, temperature, max_len, greedy, seed)`` -> ``stroke5`` ``[n,
max_len + 1, 5]`` and ``lengths``; ``render(stroke5, canvas_size)`` -> uint8 ``images``
and float ``intensity``; ``__call__(z)`` is a greedy full-length sample. Offsets are in
the model's normalised units: multiply by ``stroke_scale`` (``config.json`` ->
``export.stroke_scale``) for the dataset's units. A model trained on a mix saw every
source divided by its own scale; ``export.source_stroke_scales`` lists them all.

Both SavedModels are reusable in the TF Hub sense: the saved object has ``variables``,
``trainable_variables``, ``regularization_losses`` (empty) and ``__call__``, so
``hub.load``, ``hub.KerasLayer`` (tf_keras) and ``keras.layers.TFSMLayer`` (Keras 3,
``call_endpoint="serving_default"``) work without sketchembednet installed. Only the
encoder's variables are in ``encoder/`` and only the decoder's in ``decoder/``; no
optimizer state. Fine-tune by rebuilding the model from code: :func:`load_for_finetuning`.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile

import tensorflow as tf
from absl import logging

from sketchembednet import cli
from sketchembednet import paths
from sketchembednet.data import preprocessing
from sketchembednet.exporting import hub_modules
from sketchembednet.exporting import model_card
from sketchembednet.exporting import read_json

ENCODER = "encoder"
DECODER = "decoder"
FORMAT_VERSION = 2  # of config.json's "export" section (2: the encoder frames its input)

# ------ Workdir and export facts
def read_export_config(export_dir: str) -> dict:
    """The ``config.json`` of an export (its training config plus the ``export`` section).

    Raises:
      FileNotFoundError: naming ``export_dir`` if it holds no export's config.json.
    """
    config = read_json(os.path.join(export_dir, "config.json"))
    if config is None or "export" not in config:
        raise FileNotFoundError(f"{export_dir}: no config.json of an export")
    return config


def _source_scales(config: dict, workdir: str) -> list[dict]:
    """Every training source's ``{name, split, stroke_scale}``: from the run's
    ``sources.json`` (written by the trainer), else from the prepared TFDS infos
    (a scale is None where the dataset is not available)."""
    from sketchembednet.models import checkpoints

    recorded = read_json(os.path.join(workdir, checkpoints.SOURCES_JSON))
    if recorded:
        return [dict(name=s["name"], split=s["split"], stroke_scale=s["stroke_scale"])
                for s in recorded]
    import tensorflow_datasets as tfds

    import tfds_builders  # noqa: F401  (registers the project's builders)

    dataset, out = config["dataset"], []
    sources = [dict(name=dataset["name"], split=dataset.get("train_split") or "train",
                    data_dir=dataset.get("data_dir"))] + list(dataset.get("mix") or ())
    for source in sources:
        scale = None
        try:
            builder = tfds.builder(source["name"], data_dir=paths.expand(source.get("data_dir")) or None)
            scale = (builder.info.metadata or {}).get("stroke_scale")
        except Exception as e:  # noqa: BLE001  (a missing dataset must not stop an export)
            logging.warning("stroke_scale of %s unknown: %s", source["name"], e)
        out.append(dict(name=source["name"], split=source.get("split") or "train",
                        stroke_scale=None if scale is None else float(scale)))
    return out


# ------ Export
def _export_info(model, config, image_shape, workdir, source, train_command) -> dict:
    """The ``export`` section of the exported config.json."""
    import sketchembednet

    kind = config["model"].get("kind", "sketchembednet")
    scales = _source_scales(config, workdir)
    result = read_json(os.path.join(workdir, "train_result.json")) or {}
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
        encoder_variables=[hub_modules.relative_path(v) for v in hub_modules.exported_variables(
            model.encoder.variables)],
        decoder_variables=[hub_modules.relative_path(v) for v in hub_modules.exported_variables(
            model.decoder.variables)] if kind == "sketchembednet" else None,
    )


def _prepare_out(out: str, overwrite: bool) -> None:
    if os.path.exists(out) and os.listdir(out):
        if not overwrite:
            raise FileExistsError(f"{out}: exists and is not empty; pass overwrite=True "
                                  "(--overwrite) to replace an earlier export")
        if not os.path.exists(os.path.join(out, "config.json")) or not os.path.isdir(
                os.path.join(out, ENCODER)):
            raise FileExistsError(f"{out}: not an earlier export (no config.json and "
                                  f"{ENCODER}/); refusing to replace it")


def export(workdir: str, out: str, checkpoint: str | None = None,
           results_json: str | None = None, overwrite: bool = False,
           train_command: str | None = None, notes: str | None = None,
           framing: str | None = None, allow_untrained: bool = False) -> dict:
    """Exports a training workdir's model as SavedModels / TF Hub modules and a model card.

    Args:
      workdir: a ``sketchembednet.trainer`` workdir (``config.json``, ``checkpoints/``).
      out: the export folder (created; see the module docstring for its layout).
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
    from sketchembednet.evaluation import loading

    out = os.path.abspath(out)
    _prepare_out(out, overwrite)
    model, config, source = loading.model_from_workdir(workdir, checkpoint,
                                                       allow_untrained=allow_untrained)
    image_shape = tuple(int(d) for d in loading.dataset_image_shape(config))
    rows, meta = model_card.evaluation_rows(results_json, workdir)
    info = _export_info(model, config, image_shape, workdir, source, train_command)
    paths = _write(model, config, info, rows, meta, out, framing, notes)
    logging.info("exported %s (%s) to %s", source, info["kind"], out)
    return paths


def reexport(export_dir: str, out: str, results_json: str | None = None,
             notes: str | None = None, framing: str | None = None,
             overwrite: bool = False) -> dict:
    """Writes an earlier export again in the current export format, with the same weights.

    The model is rebuilt from the export's ``config.json`` and its weights are read
    from its ``encoder/`` and ``decoder/`` (:func:`load_for_finetuning`); the training
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
    config = read_export_config(export_dir)
    out = os.path.abspath(out)
    _prepare_out(out, overwrite)
    old = config.pop("export")
    model = load_for_finetuning(export_dir)
    rows, meta = model_card.evaluation_rows(results_json, old["workdir"])
    info = dict(old, format_version=FORMAT_VERSION, exported=datetime.date.today().isoformat(),
                reexported_from=dict(format_version=old.get("format_version", 1),
                                     exported=old.get("exported")))
    info.pop("evaluation", None)
    if not info.get("source_stroke_scales"):  # Exports before 2026-12-05 recorded one scale.
        info["source_stroke_scales"] = _source_scales(config, old["workdir"])
        if info["source_stroke_scales"][0]["stroke_scale"] is None:
            info["source_stroke_scales"][0]["stroke_scale"] = old.get("stroke_scale")
        unknown = [s["name"] for s in info["source_stroke_scales"] if s["stroke_scale"] is None]
        if unknown:
            logging.warning("re-export: stroke scale of %s unknown (prepare the datasets at "
                            "the config's data_dir to record them)", unknown)
    paths = _write(model, config, info, rows, meta, out, framing or old.get("framing"), notes)
    logging.info("re-exported %s (format %s) to %s (format %s)", export_dir,
                 old.get("format_version", 1), out, FORMAT_VERSION)
    return paths


def _write(model, config, info, rows, meta, out, framing, notes) -> dict:
    """Saves the modules, config.json and model card into a temporary folder beside ``out``,
    then swaps it in (an interrupted export leaves ``out`` as it was)."""
    image_shape = tuple(int(d) for d in info["image_shape"])
    framing = preprocessing.check_framing(framing or hub_modules.default_framing(image_shape))
    info = dict(info, framing=framing, evaluation=dict(meta, rows=rows) if rows else None)
    has_decoder = info["kind"] == "sketchembednet"
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(out) + ".tmp-", dir=parent)
    try:
        encoder = hub_modules.EncoderModule(model, image_shape, framing)
        tf.saved_model.save(encoder, os.path.join(tmp, ENCODER),
                            signatures=encoder.signature_functions())
        if has_decoder:
            decoder = hub_modules.DecoderModule(model)
            tf.saved_model.save(decoder, os.path.join(tmp, DECODER),
                                signatures=decoder.signature_functions())
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(dict(config, export=info), f, indent=2, sort_keys=True)
        with open(os.path.join(tmp, "README.md"), "w") as f:
            f.write(model_card.model_card(config, info, model_card.evaluation_markdown(rows, meta),
                                          notes or ""))
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dict(out=out, encoder=os.path.join(out, ENCODER),
                decoder=os.path.join(out, DECODER) if has_decoder else None,
                config=os.path.join(out, "config.json"), readme=os.path.join(out, "README.md"))


# ------ Fine-tuning
def _load_into(saved_model_dir: str, keras_variables, expected_paths) -> None:
    """Reads a module's saved ``variables`` (in order) into the matching Keras variables."""
    targets = hub_modules.exported_variables(keras_variables)
    paths = [hub_modules.relative_path(v) for v in targets]
    if expected_paths is not None and paths != list(expected_paths):
        mismatch = next((f"{a!r} != {b!r}" for a, b in zip(paths, expected_paths) if a != b),
                        f"{len(paths)} != {len(expected_paths)} variables")
        raise ValueError(f"{saved_model_dir}: the model rebuilt from config.json does not match "
                         f"the exported variables ({mismatch}); use the sketchembednet version "
                         "that exported it")
    checkpoint = tf.train.Checkpoint(variables=[v.value for v in targets])
    prefix = os.path.join(saved_model_dir, "variables", "variables")
    checkpoint.read(prefix).assert_existing_objects_matched()


def load_for_finetuning(export_dir: str):
    """The Keras model of an export, rebuilt from code, with the exported weights.

    The supported way to fine-tune (SavedModels carry functions, not Keras layers):
    ``models.factory.from_config`` on the exported ``config.json`` and the export's image shape,
    then the encoder's variables are read from ``encoder/`` and, for SketchEmbedNet, the
    decoder's from ``decoder/``. The baselines' other parts (the Conv-VAE's pixel
    decoder, the contrastive sketch LSTM) are not exported and keep their fresh
    initialisation. The model takes images at its own size, float 0..255
    (``sketchembednet.data.preprocessing.preprocess_images`` frames others as the
    exported encoder does).

    Args:
      export_dir: a folder written by :func:`export`.

    Returns:
      The built Keras model (``SketchEmbedNet``, ``ConvVAE`` or ``ContrastiveEmbedNet``):
      ``model.embed(images)`` is the exported encoder's embedding; ``model.encoder`` the
      encoder alone; ``model.compute_losses`` for training.

    Raises:
      FileNotFoundError: if ``export_dir`` has no config.json.
      ValueError: if the rebuilt model's variables do not match the exported ones.

    Example:
      >>> model = load_for_finetuning("exported/kanjivg-cpu")  # doctest: +SKIP
      >>> with tf.GradientTape() as tape:  # doctest: +SKIP
      ...     loss = model.compute_losses(images, stroke5, alpha=0.5, training=True)["loss"]
    """
    from sketchembednet.models import factory

    config = read_export_config(export_dir)
    info = config["export"]
    model = factory.from_config(config, tuple(info["image_shape"]))
    _load_into(os.path.join(export_dir, ENCODER), model.encoder.variables,
               info.get("encoder_variables"))
    if info["kind"] == "sketchembednet":
        _load_into(os.path.join(export_dir, DECODER), model.decoder.variables,
                   info.get("decoder_variables"))
    else:
        logging.info("%s: a %s model; only its encoder is exported (the rest is freshly "
                     "initialised)", export_dir, info["kind"])
    return model


# ------ Command line
def main(argv):
    from absl import app
    from absl import flags

    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    values = flags.FLAGS
    notes = None
    if values.notes:
        with open(values.notes) as f:
            notes = f.read()
    if bool(values.workdir) == bool(values.from_export):
        raise app.UsageError("give one of --workdir (a training workdir) or --from_export (an "
                             "earlier export to write again in the current format)")
    if values.from_export:
        if values.checkpoint or values.train_command or values.allow_untrained:
            raise app.UsageError("--checkpoint, --train_command and --allow_untrained need "
                                 "--workdir")
        paths = reexport(values.from_export, values.out, values.results_json or None, notes,
                         values.framing or None, values.overwrite)
        print(f"re-exported {values.from_export} to {paths['out']} (format {FORMAT_VERSION})")
        return
    paths = export(values.workdir, values.out, values.checkpoint or None,
                   values.results_json or None, values.overwrite,
                   values.train_command or None, notes, values.framing or None,
                   values.allow_untrained)
    print(f"exported {values.workdir} to {paths['out']}")


def run():
    """Entry point; the flags are defined here so that importing this module (as
    ``train --export`` does) defines none."""
    from absl import app
    from absl import flags

    flags.DEFINE_string("workdir", "", "Training workdir to export.")
    flags.DEFINE_string("from_export", "", "An earlier export to write again in the current "
                        "format (same weights; no workdir needed).")
    flags.DEFINE_string("out", None, "Export folder, e.g. exported/<name>.", required=True)
    flags.DEFINE_string("checkpoint", "", "Checkpoint prefix (default: the latest).")
    flags.DEFINE_string("results_json", "",
                        "Few-shot results (tools/results_table.py --json) for the model card.")
    flags.DEFINE_bool("overwrite", False, "Replace an earlier export in --out.")
    flags.DEFINE_bool("allow_untrained", False, "Export a workdir whose only checkpoint is "
                      "the untrained step 0 (refused by default).")
    flags.DEFINE_string("train_command", "", "The command that trained the workdir (model card).")
    flags.DEFINE_string("notes", "", "A Markdown file appended to the model card as Notes.")
    flags.DEFINE_enum("framing", "", ["", "fit_ink", "none"],
                      "The encoder's input framing (default: fit_ink for 1-channel models, "
                      "none for photo encoders).")
    app.run(cli.one_line_errors(main))


if __name__ == "__main__":
    run()

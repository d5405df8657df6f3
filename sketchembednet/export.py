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

import os

from absl import app
from absl import flags

from sketchembednet import cli
from sketchembednet.exporting import model_card
from sketchembednet.exporting.facts import FORMAT_VERSION
from sketchembednet.exporting.facts import source_scales
from sketchembednet.exporting.saved_model import export
from sketchembednet.exporting.saved_model import reexport
from sketchembednet.models.exported import DECODER
from sketchembednet.models.exported import ENCODER
from sketchembednet.models.exported import load_for_finetuning
from sketchembednet.models.exported import read_export_config

__all__ = ["DECODER", "ENCODER", "FORMAT_VERSION", "export", "load_for_finetuning", "main",
           "read_export_config", "reexport", "run", "source_scales"]


# ------ Command line
def main(argv):
    """Exports ``--workdir`` or re-exports ``--from_export`` to ``--out`` (see :func:`run`)."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    values = flags.FLAGS
    notes = None
    if values.notes:
        with open(values.notes) as f:  # Its relative links are made to work from the card.
            notes = model_card.rebase_links(f.read(), os.path.dirname(os.path.abspath(
                values.notes)), os.path.abspath(values.out))
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
    flags.DEFINE_string("workdir", "", "Training workdir to export.")
    flags.DEFINE_string("from_export", "", "An earlier export to write again in the current "
                        "format (same weights; no workdir needed).")
    flags.DEFINE_string("out", None, "Export folder, e.g. exported/<name>.", required=True)
    flags.DEFINE_string("checkpoint", "", "Checkpoint prefix (default: the latest).")
    flags.DEFINE_string("results_json", "",
                        "Few-shot results (tools/results_table.py --json) for the model card.")
    flags.DEFINE_bool("overwrite", False, "Replace an earlier export in --out (files "
                      "added to it, such as figures/, move into the new one).")
    flags.DEFINE_bool("allow_untrained", False, "Export a workdir whose only checkpoint is "
                      "the untrained step 0 (refused by default).")
    flags.DEFINE_string("train_command", "", "The command that trained the workdir (model card).")
    flags.DEFINE_string("notes", "", "A Markdown file appended to the model card as Notes "
                        "(its relative links are rewritten to work from --out).")
    flags.DEFINE_enum("framing", "", ["", "fit_ink", "none"],
                      "The encoder's input framing (default: fit_ink for 1-channel models, "
                      "none for photo encoders).")
    app.run(cli.one_line_errors(main))


if __name__ == "__main__":
    run()

r"""Regenerates the README's results table from real training runs (issue 7).

    python tools/results_table.py --run=SketchEmbedNet=runs/kanjivg-cpu \
        --run=Conv-VAE=runs/kanjivg-cpu-conv_vae --run=Contrastive=runs/kanjivg-cpu-contrastive \
        --random=cpu --episodes=1000 --readme=README.md \
        --json=docs/results/omniglot_background.json

For every run (a training workdir, or an export folder: its weights) it reads
``config.json`` and ``train_result.json`` or the export's record (dataset, model, steps,
wall time), embeds each ``--route`` once (``pages``: the Omniglot *background* pages
framed by the preprocessor; ``pages_half1``: those of background half 1 only;
``pages_unframed``: resized whole, as before it;
``strokes``: rendered from Omniglot's strokes) and runs the project's few-shot
evaluator: 5- and 20-way,
1- and 5-shot, ``--episodes`` episodes, logistic regression on L2-normalised mu,
mean ± 95% CI. ``--random`` adds the Random CNN baseline (an untrained encoder of that
preset). The Markdown table replaces the text between ``<!-- results:begin -->`` and
``<!-- results:end -->`` in ``--readme``; the numbers also go to ``--json``. The logic
is ``sketchembednet.evaluation.results``. Nothing
here is tuned: every row is what its run gives.

With ``--probe_manual_dir`` (a folder of Quickdraw ``<class>.ndjson`` files, e.g. made by
``tools/shared_quickdraw.py``) it makes the linear-probe table instead (seen classes'
held-out drawings, unseen classes; ``results.PROBES``), written between
``<!-- probe:begin -->`` and ``<!-- probe:end -->``:

    python tools/results_table.py --run=SketchEmbedNet=runs/qd --random=cpu \
        --probe_manual_dir=/tmp/quickdraw_shared --probe_data_dir=/tmp/tfds_qd \
        --readme=README.md --json=docs/results/quickdraw_probe.json

``--block=NAME`` writes between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``
instead, for a second table of either kind.
"""

from __future__ import annotations

import json
import os
import shlex
import sys

from absl import app
from absl import flags

_RUNS = flags.DEFINE_multi_string(
    "run", [], "name=path, once per run, in table order; path: a training workdir (its "
    "latest checkpoint) or an export folder (its weights).")
_ROUTES = flags.DEFINE_multi_enum(
    "route", ["pages"], ["pages", "pages_half1", "pages_unframed", "strokes"],
    "Evaluation routes, in table order: pages (Omniglot background pages framed by the "
    "preprocessor), pages_half1 (the same, background half 1's classes only: the half "
    "issue 21 never chose on), pages_unframed (the same resized whole, as before the "
    "preprocessor), "
    "strokes (omniglot_strokes/lake_small rendered from the official strokes).")
_MANUAL_DIR = flags.DEFINE_string(
    "manual_dir", None, "strokes route: the Omniglot zips (default: the shared pack's).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "strokes route: TFDS data dir.")
_RANDOM = flags.DEFINE_string("random", "cpu", "Preset of the Random CNN row ('' for none).")
_EPISODES = flags.DEFINE_integer("episodes", 1000, "Episodes per setting.")
_SEED = flags.DEFINE_integer("seed", 0, "Episode seed.")
_DATA_PATH = flags.DEFINE_string("data_path", None, "omniglot_background npz (default: shared).")
_README = flags.DEFINE_string("readme", None, "Markdown file whose results block is replaced.")
_JSON = flags.DEFINE_string("json", None, "Write the numbers here.")
_PROBE_MANUAL_DIR = flags.DEFINE_string(
    "probe_manual_dir", None, "Quickdraw <class>.ndjson folder: make the linear-probe table.")
_PROBE_DATA_DIR = flags.DEFINE_string("probe_data_dir", None, "TFDS data dir of the probe sets.")
_BLOCK = flags.DEFINE_string(
    "block", None, "Replace the block between <!-- BLOCK:begin --> and <!-- BLOCK:end -->\n"
    "(default: results, or probe with --probe_manual_dir).")


def main(argv):
    del argv
    from sketchembednet.evaluation import results

    runs = []
    for item in _RUNS.value:
        name, sep, workdir = item.partition("=")
        if not sep:
            raise app.UsageError(f"--run takes name=workdir, got {item!r}")
        runs.append((name, workdir))
    command = "python tools/results_table.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if _PROBE_MANUAL_DIR.value:
        rows, sets = results.probe_rows(runs, _RANDOM.value, _PROBE_MANUAL_DIR.value,
                                        _PROBE_DATA_DIR.value, _SEED.value)
        block = results.probe_markdown(rows, sets, command)
        markers, report = (results.PROBE_BEGIN, results.PROBE_END), dict(sets=sets)
    else:
        rows = results.evaluate_rows(runs, _RANDOM.value, _EPISODES.value, _SEED.value,
                                     _DATA_PATH.value, _ROUTES.value, _MANUAL_DIR.value,
                                     _DATA_DIR.value)
        block = results.markdown(rows, _EPISODES.value, command)
        markers = (results.BEGIN, results.END)
        report = dict(episodes=_EPISODES.value,
                      routes={r: results.ROUTES[r][1] for r in _ROUTES.value},
                      dataset=" / ".join(results.ROUTES[r][1] for r in _ROUTES.value))
    print(block)
    if _BLOCK.value:
        markers = (f"<!-- {_BLOCK.value}:begin -->", f"<!-- {_BLOCK.value}:end -->")
    if _README.value:
        results.replace_block(_README.value, block, *markers)
    if _JSON.value:
        os.makedirs(os.path.dirname(os.path.abspath(_JSON.value)), exist_ok=True)
        with open(_JSON.value, "w") as f:
            json.dump(dict(report, command=command, rows=rows), f, indent=2)


if __name__ == "__main__":
    app.run(main)

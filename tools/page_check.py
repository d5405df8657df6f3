r"""Checks an exported encoder on users' pages, loaded as a user loads it (``hub.load``).

    python tools/page_check.py --encoder=exported/sketchembednet/encoder \
        [--baseline_encoder=<an older export's encoder>] [--episodes=1000] \
        [--json=docs/results/page_check.json]

The encoder modules are called on raw uint8 pages; nothing of sketchembednet touches the
images (only the few-shot evaluator and the shared data reader are used). It measures:

* **page vs its ink crop**: the mean cosine between the embedding of each Omniglot
  background page (105x105) and of the same page cropped to its ink's bounding box
  (plus a 2 px margin), as a user would crop it, over ``--pages`` pages;
* **the same drawing elsewhere on the page**: real Quick, Draw! drawings drawn by PIL on
  160 px pages at other positions, sizes, polarities (white on black) and as a
  transparent RGBA canvas: mean and minimum cosine to the drawing on a reference page;
* **few-shot accuracy on raw pages**: 5/20-way 1/5-shot episodes of the whole Omniglot
  background set embedded from its 105x105 pages, through ``serving_default``; through
  ``serving_unframed`` (the whole page resized, as export format 1 did); and
  "crop first" (each page cropped to its ink, padded to a square with a 10% margin,
  then ``serving_unframed``).

With ``--baseline_encoder`` (repeatable, ``PATH`` or ``NAME=PATH``) the same figures are
measured for other modules (the previous export, the baselines) and printed beside them.
``--half=0`` / ``--half=1`` runs the few-shot episodes on one half of the background
classes (``tuning.objectives.half_classes``: the ablation selects on half 0 and reports
half 1); ``--routes`` picks the few-shot routes; ``--pages=0`` skips the two cosine checks.
``--markdown=FILE`` writes a table of the few-shot results between
``<!-- page_check:begin -->`` and ``<!-- page_check:end -->`` (``--block=NAME``: ``NAME``):

    python tools/page_check.py --encoder=new=exported/new/encoder \
        --baseline_encoder=previous=/tmp/previous/encoder --half=1 --pages=0 \
        "--routes=raw pages" --markdown=exported/new/README.md --block=half1
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
from absl import app
from absl import flags

from sketchembednet import paths

_ENCODER = flags.DEFINE_string("encoder", None, "An exported encoder/ folder (PATH or NAME=PATH).",
                               required=True)
_BASELINE = flags.DEFINE_multi_string("baseline_encoder", [],
                                      "Other encoder/ folders to compare with (PATH or NAME=PATH).")
_SHARED = flags.DEFINE_string("shared_data", paths.shared_data_dir(), "The shared data pack.")
_PAGES = flags.DEFINE_integer("pages", 2000, "Pages for the crop check.")
_EPISODES = flags.DEFINE_integer("episodes", 1000, "Few-shot episodes per setting.")
_JSON = flags.DEFINE_string("json", "", "Write the figures here.")
_HALF = flags.DEFINE_enum("half", "all", ["all", "0", "1"],
                          "Few-shot on all background classes or on one half of them.")
_MARKDOWN = flags.DEFINE_string("markdown", "", "Markdown file whose block gets the table.")
_BLOCK = flags.DEFINE_string("block", "page_check", "Name of that block's markers.")

SETTINGS = ((5, 1), (5, 5), (20, 1), (20, 5))
ROUTES = ("raw pages", "raw pages, serving_unframed", "crop first, serving_unframed")
_ROUTES = flags.DEFINE_multi_enum("routes", list(ROUTES), ROUTES, "Few-shot routes.")


def named(value: str) -> tuple[str, str]:
    """``(name, path)`` of ``NAME=PATH``, or of a bare path (named by itself).

    Example:
      >>> named("old=/tmp/a/encoder"), named("exported/x/encoder")
      (('old', '/tmp/a/encoder'), ('exported/x/encoder', 'exported/x/encoder'))
    """
    name, sep, path = value.partition("=")
    return (name, path) if sep else (value, value)


def markdown_table(reports: list, routes, description: str) -> str:
    """The few-shot results as a Markdown table: a row per encoder and route.

    Example:
      >>> r = {"name": "a", "raw pages": {"20w1s": {"accuracy": 80.0, "ci95": 0.4}}}
      >>> print(markdown_table([r], ["raw pages"], "d"))
      d
      <BLANKLINE>
      | encoder | route | 20w1s |
      |---|---|---|
      | a | raw pages | 80.00 ± 0.40 |
    """
    settings = list(reports[0][routes[0]])
    lines = [description, "", "| encoder | route | " + " | ".join(settings) + " |",
             "|---|---|" + "---|" * len(settings)]
    for report in reports:
        for route in routes:
            cells = [f"{report[route][k]['accuracy']:.2f} ± {report[route][k]['ci95']:.2f}"
                     for k in settings]
            lines.append(f"| {report['name']} | {route} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _embed(fn, images, batch=256):
    import tensorflow as tf

    out = [fn(images=tf.constant(images[i:i + batch]))["embedding"].numpy()
           for i in range(0, len(images), batch)]
    e = np.concatenate(out)
    return e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)


def _ink_box(page, margin=0):
    """``(top, bottom, left, right)`` (exclusive ends) of the dark pixels, plus a margin."""
    rows, cols = np.flatnonzero((page < 128).any(1)), np.flatnonzero((page < 128).any(0))
    h, w = page.shape[:2]
    return (max(rows[0] - margin, 0), min(rows[-1] + 1 + margin, h),
            max(cols[0] - margin, 0), min(cols[-1] + 1 + margin, w))


def crop_to_ink(page, margin=2):
    """The page cropped to its ink (and a margin), as a user crops a scan."""
    top, bottom, left, right = _ink_box(page[..., 0], margin)
    return page[top:bottom, left:right]


def crop_first(page, size=28):
    """Crop to the ink, pad to a square with a 10% white margin, area-resize to ``size``:
    the manual refit (``serving_unframed`` would area-resize the square page the same way)."""
    import tensorflow as tf

    ink = crop_to_ink(page, 0)
    side = int(round(max(ink.shape[:2]) * 1.2))
    out = np.full([side, side, 1], 255, np.uint8)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    out[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    small = tf.image.resize(tf.cast(out, tf.float32), [size, size], method="area")
    return np.round(small.numpy()).astype(np.uint8)


def _by_shape(fn, images):
    """Embeds images of different sizes one by one."""
    return np.concatenate([_embed(fn, image[None]) for image in images])


def _print(report, n_pages, routes):
    print(f"\n{report['name']}: {report['encoder']}")
    if n_pages:
        print(f"  page vs its ink crop, mean cosine ({n_pages} pages): "
              f"{report['crop_cosine']:.3f}")
        print(f"  same drawing elsewhere ({report['same_drawing_pairs']} pairs): mean "
              f"{report['same_drawing_cosine_mean']:.3f}, min "
              f"{report['same_drawing_cosine_min']:.3f}"
              + (" (RGBA rejected)" if report.get("rgba_rejected") else ""))
    for route in routes:
        cells = "  ".join(f"{k} {v['accuracy']:.2f} ± {v['ci95']:.2f}"
                          for k, v in report[route].items())
        print(f"  {route}: {cells}", flush=True)


def _cosine_checks(default, pages, drawings, n_crop) -> dict:
    """The page-vs-crop and same-drawing-elsewhere cosines of one module."""
    import tensorflow as tf

    from sketchembednet import testing

    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(pages), min(n_crop, len(pages)), replace=False))
    whole = _embed(default, pages[pick])
    cropped = _by_shape(default, [crop_to_ink(p) for p in pages[pick]])
    report = dict(crop_cosine=float(np.mean(np.sum(whole * cropped, 1))))

    cosines = []
    for lines in drawings:
        reference = testing.draw_page(lines, 160, 4, 0.5, (0.5, 0.5))
        variants = [testing.draw_page(lines, 160, 4, 0.5, (0.1, 0.85)),
                    testing.draw_page(lines, 160, 4, 0.8, (0.2, 0.3)),
                    testing.draw_page(lines, 160, 4, 0.3, (0.9, 0.1)),
                    testing.draw_page(lines, 160, 4, 0.5, (0.7, 0.4), invert=True)]
        alpha = 255 - testing.draw_page(lines, 160, 4, 0.6, (0.4, 0.6))
        rgba = np.concatenate([np.zeros([160, 160, 3], np.uint8), alpha], -1)
        e = _embed(default, np.stack([reference] + variants))
        cosines += list(e[1:] @ e[0])
        try:
            cosines += list(_embed(default, rgba[None]) @ e[0])
        except tf.errors.InvalidArgumentError:  # export format 1 took 1 or 3 channels only
            report["rgba_rejected"] = True
    report.update(same_drawing_cosine_mean=float(np.mean(cosines)),
                  same_drawing_cosine_min=float(np.min(cosines)), same_drawing_pairs=len(cosines))
    return report


def measure(name: str, encoder_dir: str, pages: np.ndarray, labels: np.ndarray, drawings: list,
            n_crop: int, episodes: int, routes=ROUTES) -> dict:
    """Every figure of one encoder module, loaded with ``hub.load``.

    ``pages`` / ``labels``: the few-shot set (raw uint8 pages); ``n_crop`` pages of it (0:
    none) for the crop check.
    """
    import tensorflow_hub as hub

    from sketchembednet.evaluation import fewshot

    module = hub.load(encoder_dir)
    default = module.signatures["serving_default"]
    unframed = module.signatures.get("serving_unframed", default)
    report = dict(name=name, encoder=encoder_dir)
    if n_crop:
        report.update(_cosine_checks(default, pages, drawings, n_crop))
    inputs = {"raw pages": lambda: _embed(default, pages),
              "raw pages, serving_unframed": lambda: _embed(unframed, pages),
              "crop first, serving_unframed": lambda: _embed(
                  unframed, np.stack([crop_first(p) for p in pages]))}
    for route in routes:
        embeddings = inputs[route]()
        results = {}
        for ways, shots in SETTINGS:
            r = fewshot.evaluate_embeddings(embeddings, labels, ways, shots, episodes, None, 0,
                                            progress=True)
            results[f"{ways}w{shots}s"] = dict(accuracy=100 * r["accuracy"],
                                               ci95=100 * r["ci95"])
        report[route] = results
    return report


def main(argv):
    del argv
    import shlex

    from sketchembednet import testing
    from sketchembednet.data import strokes
    from sketchembednet.evaluation import results
    from sketchembednet.tuning import objectives

    with np.load(os.path.join(_SHARED.value, "omniglot", "npz_105x105",
                              "images_background.npz")) as npz:
        raw = npz["images"]  # bool [964, 20, 105, 105], True = background
    pages = np.where(raw.reshape(-1, 105, 105, 1), 255, 0).astype(np.uint8)
    labels = np.repeat(np.arange(raw.shape[0]), raw.shape[1])
    classes = "all 964 background classes"
    if _HALF.value != "all":
        keep = np.isin(labels, objectives.half_classes(np.arange(raw.shape[0]), int(_HALF.value)))
        pages, labels = pages[keep], labels[keep]
        classes = f"background half {_HALF.value} ({len(np.unique(labels))} classes)"
    drawings = ([strokes.stroke3_to_polylines(s3)
                 for s3 in testing.shared_quickdraw_stroke3(_SHARED.value)]
                if _PAGES.value else [])
    routes = [r for r in ROUTES if r in _ROUTES.value]
    reports = []
    for name, encoder in map(named, [_ENCODER.value] + _BASELINE.value):
        reports.append(measure(name, encoder, pages, labels, drawings, _PAGES.value,
                               _EPISODES.value, routes))
        _print(reports[-1], _PAGES.value, routes)
    command = "python tools/page_check.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if _JSON.value:
        with open(_JSON.value, "w") as f:
            json.dump(dict(command=command, episodes=_EPISODES.value, classes=classes,
                           reports=reports), f, indent=2)
        print(f"wrote {_JSON.value}")
    if _MARKDOWN.value:
        description = (f"Omniglot {classes}, 105x105 pages fed raw to each encoder loaded with "
                       f"`hub.load`; {_EPISODES.value} episodes per setting, logistic "
                       f"regression on L2-normalised embeddings, mean ± 95% CI. Command:\n\n"
                       f"```bash\n{command}\n```")
        results.replace_block(_MARKDOWN.value, markdown_table(reports, routes, description),
                              f"<!-- {_BLOCK.value}:begin -->", f"<!-- {_BLOCK.value}:end -->")
        print(f"wrote the {_BLOCK.value} block of {_MARKDOWN.value}")


if __name__ == "__main__":
    app.run(main)

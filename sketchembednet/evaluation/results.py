"""The README's results table: few-shot rows from training workdirs, as Markdown.

Used by ``tools/results_table.py`` (the command line). :func:`evaluate_rows` runs the
project's few-shot evaluator for each run (a training workdir or an export folder, plus
an optional Random CNN row) on each evaluation route of :data:`ROUTES` (Omniglot
background pages framed by the preprocessor, the same pages resized whole as before the
preprocessor, or characters rendered from Omniglot's strokes); :func:`markdown` renders
the rows; :func:`replace_block` swaps the table into a file between ``BEGIN`` and
``END`` markers.

Example:
  >>> rows = [dict(name="Random CNN", workdir=None,
  ...              results={f"{w}w{s}s": dict(accuracy=50.0, ci95=1.0) for w, s in SETTINGS})]
  >>> markdown(rows, 10, "cmd").splitlines()[-1]
  '| Random CNN | nothing | 0 | 0 | 50.00 ± 1.00 | 50.00 ± 1.00 | 50.00 ± 1.00 | 50.00 ± 1.00 |'
"""

from __future__ import annotations

import datetime
import json
import os

from sketchembednet import paths

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
PROBE_BEGIN, PROBE_END = "<!-- probe:begin -->", "<!-- probe:end -->"
SETTINGS = ((5, 1), (5, 5), (20, 1), (20, 5))
# Evaluation routes: name -> (short label for the table, description).
ROUTES = {
    "pages": ("pages, framed",
              "the Omniglot **background** pages (`images_background.npz`: 964 characters x 20 "
              "drawers, 105x105) framed by the preprocessor (`fit_ink`: cropped to the ink and "
              "fitted as the training renders)"),
    "pages_half1": ("pages, half 1",
                    "the Omniglot background pages (`images_background.npz`, 105x105) framed "
                    "by the preprocessor (`fit_ink`), of half 1 only (`fewshot.half_classes`: "
                    "the issue-21 ablation chose on half 0, so these classes were never "
                    "looked at while choosing)"),
    "pages_unframed": ("pages, whole-page resize",
                       "the same pages area-resized whole to 28x28 (`framing=none`: how every "
                       "table was measured before the preprocessor)"),
    "strokes": ("strokes, rendered",
                "`omniglot_strokes/lake_small`: the characters of the official background "
                "*small1* + *small2* sets rendered from their strokes by the training "
                "renderer, as the paper does"),
}
# The linear-probe sets on a Quickdraw folder: (column, TFDS name, split, min and max
# images per class). "seen": held-out drawings (validation + test by key hash, never
# trained on) of the paper's 300 training classes that have at least 20 of them;
# "unseen": the paper's 45 held-out classes, at most 25 drawings each (the shared pack
# has 500 airplanes and about 25 of every other class; uncapped, "airplane" alone
# would score 36%).
PROBES = (
    ("seen classes, held-out drawings", "quickdraw/paper_300_ndjson", "validation+test", 20,
     None),
    ("unseen classes", "quickdraw/heldout_45_ndjson", "train+validation+test", 0, 25),
)


def _train_info(path: str) -> dict:
    """Training facts of a workdir (its train_result.json) or an export (its export section)."""
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    names = [config["dataset"]["name"]] + [m["name"] for m in config["dataset"].get("mix") or ()]
    info = dict(dataset="` + `".join(names), preset=config["model"]["preset"],
                kind=config["model"].get("kind", "sketchembednet"),
                batch=config["train"]["batch_size"])
    result = config.get("export")
    if result is not None:  # an export: the facts recorded from its workdir
        result = {"train/step": result.get("final_step") or result.get("checkpoint_step"),
                  "total_wall_seconds": result.get("total_wall_seconds"),
                  "workdir": result.get("workdir")}
    elif os.path.exists(os.path.join(path, "train_result.json")):
        with open(os.path.join(path, "train_result.json")) as f:
            result = json.load(f)
    if result:
        info.update(steps=result.get("train/step"),
                    wall_minutes=round((result.get("total_wall_seconds") or 0) / 60, 1))
        if result.get("workdir"):
            info["trained_in"] = result["workdir"]
    return info


def load_route(route: str, data_path: str | None = None, manual_dir: str | None = None,
               data_dir: str | None = None):
    """The :class:`datasets.LabelledImages` of an evaluation route of :data:`ROUTES`.

    ``pages*`` read the background npz (``data_path``, default: the shared pack's;
    ``pages_half1`` keeps half 1 of its classes);
    ``strokes`` builds ``omniglot_strokes/lake_small`` from the Omniglot zips in
    ``manual_dir`` (default: the shared pack's ``omniglot/brendenlake``).
    """
    from sketchembednet.evaluation import datasets

    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; expected one of {sorted(ROUTES)}")
    if route == "strokes":
        return datasets.load("omniglot_strokes/lake_small", data_dir=data_dir,
                             manual_dir=manual_dir or paths.shared_data_dir("omniglot",
                                                                            "brendenlake"))
    data = datasets.load("omniglot_background",
                         data_path=data_path or paths.shared_data_dir(datasets.SHARED_NPZ),
                         image_size=28, channels=1,
                         framing="none" if route == "pages_unframed" else "fit_ink")
    if route == "pages_half1":
        import numpy as np

        from sketchembednet.evaluation import fewshot

        keep = np.isin(data.labels, fewshot.half_classes(np.unique(data.labels), 1))
        data = datasets.LabelledImages(data.images[keep], data.labels[keep],
                                       data.class_names, name=f"{data.name} half 1")
    return data


def evaluate_rows(runs: list[tuple[str, str]], random_preset: str, episodes: int, seed: int,
                  data_path: str | None, routes=("pages",), manual_dir: str | None = None,
                  data_dir: str | None = None) -> list[dict]:
    """Few-shot rows: every run on every route (rows grouped by route, in ``runs`` order).

    Args:
      runs: ``(name, path)``: a training workdir (its latest checkpoint) or an export.
      random_preset: adds a Random CNN row of this preset ('' for none).
      episodes, seed: of the few-shot evaluator.
      data_path, manual_dir, data_dir: see :func:`load_route`.
      routes: names of :data:`ROUTES`.

    Returns:
      dicts with ``name``, ``input`` (the route), ``workdir`` (the path), ``results``
      (``"5w1s"`` -> accuracy and ci95 in %) and the run's training facts.
    """
    from sketchembednet.evaluation import fewshot

    sets = {route: load_route(route, data_path, manual_dir, data_dir) for route in routes}
    rows = []
    models = list(_models(runs, random_preset, (28, 28, 1), seed))
    for route, data in sets.items():
        for name, path, embed_fn in models:
            embeddings = fewshot.compute_embeddings(embed_fn, data.images)
            results = {}
            for ways, shots in SETTINGS:
                r = fewshot.evaluate_embeddings(embeddings, data.labels, ways, shots, episodes,
                                                None, seed, progress=True)
                results[f"{ways}w{shots}s"] = dict(accuracy=100 * r["accuracy"],
                                                   ci95=100 * r["ci95"])
            row = dict(name=name, input=route, workdir=path, results=results,
                       classes=data.num_classes, images=len(data.labels))
            if path:
                row.update(_train_info(path), checkpoint=embed_fn.source)
                row["workdir"] = row.pop("trained_in", path)  # an export: its training workdir
                row["path"] = path
            rows.append(row)
    return rows


def _models(runs, random_preset, image_shape, seed):
    from sketchembednet.evaluation import loading
    from sketchembednet.models import exported

    models = [(name, path, loading.embed_fn_from_export(path) if exported.is_export(path)
               else loading.embed_fn_from_workdir(path)) for name, path in runs]
    if random_preset:
        models.append((f"Random CNN (`{random_preset}`, untrained)", None,
                       loading.random_encoder_embed_fn(random_preset, image_shape, seed)))
    return models


def binomial_ci95(accuracy: float, n: int) -> float:
    """Half-width of the normal-approximation 95% interval of an accuracy on ``n`` test items.

    Example:
      >>> round(binomial_ci95(0.5, 100), 4)
      0.098
    """
    return 1.96 * (accuracy * (1 - accuracy) / max(n, 1)) ** 0.5


def probe_rows(runs: list[tuple[str, str]], random_preset: str, manual_dir: str,
               data_dir: str | None, seed: int, train_fraction: float = 0.5) -> tuple:
    """Linear-probe accuracy of each run on the :data:`PROBES` sets of a Quickdraw folder.

    Returns:
      ``(rows, sets)``: rows as in :func:`evaluate_rows` (``results`` keyed by the
      probe column), and per column the number of classes and images.
    """
    from sketchembednet.evaluation import datasets
    from sketchembednet.evaluation import fewshot
    from sketchembednet.evaluation import linear_probe

    data = {}
    for column, name, split, min_count, max_count in PROBES:
        loaded = datasets.load(name, split=split, data_dir=data_dir, manual_dir=manual_dir,
                               builder_kwargs={"allow_missing_classes": True})
        data[column] = datasets.select_per_class(loaded, min_count, max_count, seed=seed)
    shape = next(iter(data.values())).image_shape
    rows = []
    for name, workdir, embed_fn in _models(runs, random_preset, shape, seed):
        results = {}
        for column, subset in data.items():
            embeddings = fewshot.compute_embeddings(embed_fn, subset.images)
            r = linear_probe.evaluate_embeddings(embeddings, subset.labels, train_fraction, seed)
            results[column] = dict(accuracy=100 * r["accuracy"], ci95=100 * binomial_ci95(
                r["accuracy"], r["num_test"]), num_train=r["num_train"], num_test=r["num_test"])
        row = dict(name=name, workdir=workdir, results=results)
        if workdir:
            row.update(_train_info(workdir), checkpoint=embed_fn.source)
        rows.append(row)
    sets = {column: dict(classes=d.num_classes, images=len(d.labels), source=d.name)
            for column, d in data.items()}
    return rows, sets


def _run_cells(row: dict) -> list[str]:
    if not row.get("workdir"):
        return ["nothing", "0", "0"]
    wall = f"{row['wall_minutes']} min" if row.get("wall_minutes") else "?"
    return [f"`{row['dataset']}`, `{row['preset']}` encoder",
            f"{row.get('steps', '?')} × {row['batch']}", wall]


def probe_markdown(rows: list[dict], sets: dict, command: str) -> str:
    """The linear-probe table (accuracy on the test half of each class, ± 95% CI).

    Example:
      >>> sets = {"unseen classes": dict(classes=2, images=8, source="x")}
      >>> rows = [dict(name="Random CNN", workdir=None,
      ...              results={"unseen classes": dict(accuracy=50.0, ci95=4.9)})]
      >>> probe_markdown(rows, sets, "cmd").splitlines()[-1]
      '| Random CNN | nothing | 0 | 0 | 50.00 ± 4.90 |'
    """
    date = datetime.date.today().isoformat()
    described = "; ".join(f"**{c}**: {s['classes']} classes, {s['images']} drawings "
                          f"(`{s['source']}`, chance {100 / s['classes']:.1f}%)"
                          for c, s in sets.items())
    lines = [
        f"Linear-probe accuracy (%) on real Quick, Draw! drawings: logistic regression "
        f"(lbfgs, C = 1) on L2-normalised μ, trained on half of each class's drawings "
        f"and tested on the other half; ± is the 95% binomial (normal-approximation) "
        f"interval over the test drawings. {described}. Generated {date} by:",
        "", "```bash", command, "```", "",
        "| model | trained on | steps × batch | wall | " + " | ".join(sets) + " |",
        "|---|---|---|---|" + "---|" * len(sets),
    ]
    for row in rows:
        cells = [f"{row['results'][c]['accuracy']:.2f} ± {row['results'][c]['ci95']:.2f}"
                 for c in sets]
        lines.append(f"| {row['name']} | " + " | ".join(_run_cells(row) + cells) + " |")
    return "\n".join(lines)


def markdown(rows: list[dict], episodes: int, command: str) -> str:
    """The few-shot table; an ``input`` column when the rows come from several routes."""
    date = datetime.date.today().isoformat()
    counts = {row.get("input", "pages"): (row.get("classes"), row.get("images")) for row in rows}
    several = len(counts) > 1
    described = "; ".join(
        (f"**{ROUTES[r][0]}**: " if several else "") + ROUTES[r][1]
        + (f" ({counts[r][0]} classes, {counts[r][1]} images)" if counts[r][0] else "")
        for r in counts)
    lines = [
        f"Few-shot accuracy (%) on {described}; {episodes} episodes per setting, logistic "
        f"regression on L2-normalised μ, mean ± 95% CI. Generated {date} by:",
        "",
        "```bash",
        command,
        "```",
        "",
        "| model | " + ("input | " if several else "") + "trained on | steps × batch | wall | "
        "5-way 1-shot | 5-way 5-shot | 20-way 1-shot | 20-way 5-shot |",
        "|---|" + ("---|" if several else "") + "---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [f"{row['results'][f'{w}w{s}s']['accuracy']:.2f} ± "
                 f"{row['results'][f'{w}w{s}s']['ci95']:.2f}" for w, s in SETTINGS]
        route = [ROUTES[row.get("input", "pages")][0]] if several else []
        lines.append(f"| {row['name']} | " + " | ".join(route + _run_cells(row) + cells) + " |")
    return "\n".join(lines)


def replace_block(path: str, block: str, begin: str = BEGIN, end: str = END) -> None:
    """Replaces the text between the ``begin`` and ``end`` markers of a file with ``block``."""
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        raise ValueError(f"{path}: no {begin} ... {end} block to replace")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{block}\n{end}{tail}")

"""The README's results table: few-shot rows from training workdirs, as Markdown.

Used by ``tools/results_table.py`` (the command line). :func:`evaluate_rows` runs the
project's few-shot evaluator on the Omniglot background set for each workdir (plus an
optional Random CNN row); :func:`markdown` renders the rows; :func:`replace_block`
swaps the table into a file between ``BEGIN`` and ``END`` markers.

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

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
SETTINGS = ((5, 1), (5, 5), (20, 1), (20, 5))


def _train_info(workdir: str) -> dict:
    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    info = dict(dataset=config["dataset"]["name"], preset=config["model"]["preset"],
                kind=config["model"].get("kind", "sketchembednet"),
                batch=config["train"]["batch_size"])
    result_path = os.path.join(workdir, "train_result.json")
    if os.path.exists(result_path):
        with open(result_path) as f:
            result = json.load(f)
        info.update(steps=result.get("train/step"),
                    wall_minutes=round(result.get("total_wall_seconds", 0) / 60, 1))
    return info


def evaluate_rows(runs: list[tuple[str, str]], random_preset: str, episodes: int, seed: int,
                  data_path: str | None) -> list[dict]:
    from sketchembednet.evaluation import datasets
    from sketchembednet.evaluation import fewshot
    from sketchembednet.evaluation import loading

    shared = os.environ.get("SKETCHEMBEDNET_SHARED_DATA", "../shared/data")
    data = datasets.load("omniglot_background",
                         data_path=data_path or os.path.join(shared, datasets.SHARED_NPZ),
                         image_size=28, channels=1)
    models = [(name, workdir, loading.embed_fn_from_workdir(workdir)) for name, workdir in runs]
    if random_preset:
        models.append((f"Random CNN (`{random_preset}`, untrained)", None,
                       loading.random_encoder_embed_fn(random_preset, data.image_shape, seed)))
    rows = []
    for name, workdir, embed_fn in models:
        embeddings = fewshot.compute_embeddings(embed_fn, data.images)
        results = {}
        for ways, shots in SETTINGS:
            r = fewshot.evaluate_embeddings(embeddings, data.labels, ways, shots, episodes,
                                            None, seed, progress=True)
            results[f"{ways}w{shots}s"] = dict(accuracy=100 * r["accuracy"], ci95=100 * r["ci95"])
        row = dict(name=name, workdir=workdir, results=results)
        if workdir:
            row.update(_train_info(workdir), checkpoint=embed_fn.source)
        rows.append(row)
    return rows


def markdown(rows: list[dict], episodes: int, command: str) -> str:
    date = datetime.date.today().isoformat()
    lines = [
        f"Few-shot accuracy (%) on the Omniglot **background** set (964 classes; 20 images "
        f"each at 28×28), {episodes} episodes per setting, logistic regression on "
        f"L2-normalised μ, mean ± 95% CI. Generated {date} by:",
        "",
        "```bash",
        command,
        "```",
        "",
        "| model | trained on | steps × batch | wall | 5-way 1-shot | 5-way 5-shot | "
        "20-way 1-shot | 20-way 5-shot |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [f"{row['results'][f'{w}w{s}s']['accuracy']:.2f} ± "
                 f"{row['results'][f'{w}w{s}s']['ci95']:.2f}" for w, s in SETTINGS]
        if row.get("workdir"):
            trained = f"`{row['dataset']}`, `{row['preset']}` encoder"
            steps = f"{row.get('steps', '?')} × {row['batch']}"
            wall = f"{row['wall_minutes']} min" if row.get("wall_minutes") else "?"
        else:
            trained, steps, wall = "nothing", "0", "0"
        lines.append(f"| {row['name']} | {trained} | {steps} | {wall} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_block(path: str, block: str) -> None:
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path}: no {BEGIN} ... {END} block to replace")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(f"{head}{BEGIN}\n{block}\n{END}{tail}")

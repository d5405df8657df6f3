r"""Regenerates the README's results table from real training runs (issue 7).

    python tools/results_table.py --run=SketchEmbedNet=runs/kanjivg-cpu \
        --run=Conv-VAE=runs/kanjivg-cpu-conv_vae --run=Contrastive=runs/kanjivg-cpu-contrastive \
        --random=cpu --episodes=1000 --readme=README.md \
        --json=docs/results/omniglot_background.json

For every run (a training workdir) it reads ``config.json`` and ``train_result.json``
(dataset, model, steps, wall time), embeds the Omniglot *background* set once with
the run's latest checkpoint and runs the project's few-shot evaluator: 5- and 20-way,
1- and 5-shot, ``--episodes`` episodes, logistic regression on L2-normalised mu,
mean ± 95% CI. ``--random`` adds the Random CNN baseline (an untrained encoder of that
preset). The Markdown table replaces the text between ``<!-- results:begin -->`` and
``<!-- results:end -->`` in ``--readme``; the numbers also go to ``--json``. Nothing
here is tuned: every row is what its run gives.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import sys

from absl import app
from absl import flags

_RUNS = flags.DEFINE_multi_string("run", [], "name=workdir, once per run, in table order.")
_RANDOM = flags.DEFINE_string("random", "cpu", "Preset of the Random CNN row ('' for none).")
_EPISODES = flags.DEFINE_integer("episodes", 1000, "Episodes per setting.")
_SEED = flags.DEFINE_integer("seed", 0, "Episode seed.")
_DATA_PATH = flags.DEFINE_string("data_path", None, "omniglot_background npz (default: shared).")
_README = flags.DEFINE_string("readme", None, "Markdown file whose results block is replaced.")
_JSON = flags.DEFINE_string("json", None, "Write the numbers here.")

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


def main(argv):
    del argv
    runs = []
    for item in _RUNS.value:
        name, sep, workdir = item.partition("=")
        if not sep:
            raise app.UsageError(f"--run takes name=workdir, got {item!r}")
        runs.append((name, workdir))
    rows = evaluate_rows(runs, _RANDOM.value, _EPISODES.value, _SEED.value, _DATA_PATH.value)
    command = "python tools/results_table.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    block = markdown(rows, _EPISODES.value, command)
    print(block)
    if _README.value:
        replace_block(_README.value, block)
    if _JSON.value:
        os.makedirs(os.path.dirname(os.path.abspath(_JSON.value)), exist_ok=True)
        with open(_JSON.value, "w") as f:
            json.dump(dict(episodes=_EPISODES.value, command=command, rows=rows), f, indent=2)


if __name__ == "__main__":
    app.run(main)

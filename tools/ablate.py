r"""The shipped encoder's ablation at equal wall-clock time (issue 21).

    python tools/shared_quickdraw.py --out=/tmp/quickdraw_shared
    SKETCHEMBEDNET_QUICKDRAW_DIR=/tmp/quickdraw_shared \
        python tools/ablate.py --minutes=25 --root=runs/ablate \
        --docs=docs/results.md --json=docs/results/ablation.json

Every row is an ordinary training run of ``--config=ablation:<changes>`` through
``python -m sketchembednet.train`` (so it resumes where it stopped if the tool is
interrupted and re-run), given the same wall-clock budget:

1. a 300-step probe run measures the row's steady steps/s on this machine (the
   median logged rate of its second half);
2. the run's length is set to what fits ``--minutes`` at that speed, times
   ``--headroom`` (the α and learning-rate schedules follow it,
   ``configs/ablation.py``), and ``train.max_wall_minutes`` stops it at the budget in
   any case. The machine's speed drifts (by up to 30% here), so a run planned at the
   probe's rate can end on its steps well before the budget; ``--headroom=1.1`` plans
   10% more steps than fit, so that a long run ends on time (at about 91% of its
   schedule if the speed holds);
3. the trained encoder is evaluated by the project's few-shot evaluator on the
   Omniglot **background** pages framed by the input preprocessor (as the exported
   encoder frames them), split into two halves of the classes
   (``tuning.objectives.omniglot_half``): rows are *chosen* on half 0 and *reported*
   on half 1, and on the background characters rendered from their strokes
   (``omniglot_strokes/lake_small``). ``--baseline=NAME=PATH`` adds a finished run or
   an export (e.g. the shipped model) evaluated the same way.

Rows are trained and evaluated one after the other, and the table is rewritten after
each. Each row leaves ``<root>/<slug>/{probe,run}/`` and ``<root>/<slug>/eval.json``; a
row with an ``eval.json`` is not run again. The Markdown table replaces the text between
``<!-- ablation:begin -->`` and ``<!-- ablation:end -->`` in ``--docs``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

from absl import app
from absl import flags
from absl import logging

from sketchembednet import jsonio
from sketchembednet import paths

# (name, ablation config argument): the default rows, cumulative.
ROWS = (
    ("KanjiVG + Quick, Draw!", ""),
    ("+ Hershey", "hershey"),
    ("+ Hershey + hanzi", "hershey,hanzi"),
    ("+ Hershey + hanzi, augmented", "hershey,hanzi,aug"),
    ("+ ..., augmented, batch 256", "hershey,hanzi,aug,b256"),
    ("+ ..., augmented, mid decoder", "hershey,hanzi,aug,mid"),
    ("+ ..., augmented, aux contrastive", "hershey,hanzi,aug,aux"),
)
PROBE_STEPS = 300
SETTINGS = ((20, 1), (5, 1))
BEGIN, END = "<!-- ablation:begin -->", "<!-- ablation:end -->"

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The tool's flags (defined when it runs, not on import: names like --seed and
    --episodes are also flags of the package's CLIs)."""
    flags.DEFINE_float("minutes", 25.0, "Wall-clock budget of every row's training.")
    flags.DEFINE_string("root", "runs/ablate", "Folder of the rows' runs.")
    flags.DEFINE_multi_string(
        "row", None, "NAME=CHANGES (an ablation config argument); default: the ROWS table.")
    flags.DEFINE_multi_string(
        "baseline", [], "NAME=PATH: a workdir or export evaluated (not trained) beside the rows.")
    flags.DEFINE_integer("episodes", 1000, "Few-shot episodes per setting.")
    flags.DEFINE_integer("seed", 0, "Episode seed.")
    flags.DEFINE_string("data_path", None,
                        "images_background.npz (default: the shared data pack's).")
    flags.DEFINE_string("omniglot_dir", None,
                        "Omniglot zips for the strokes route (default: the shared pack's).")
    flags.DEFINE_string("tfds_dir", "runs/tfds_omniglot",
                        "TFDS data dir of omniglot_strokes (built on first use).")
    flags.DEFINE_string("docs", None, "Markdown file whose ablation block is replaced.")
    flags.DEFINE_string("json", None, "Write every row's numbers here.")
    flags.DEFINE_bool("train_only", False, "Train the rows; evaluate nothing.")
    flags.DEFINE_float("headroom", 1.0, "Plan this many times the steps that fit the budget "
                       "at the probe's rate (> 1: the run ends on time, not on steps).",
                       lower_bound=1.0)


def slug(name: str) -> str:
    """A folder name for a row: ``"+ Hershey + hanzi"`` -> ``"hershey_hanzi"``.

    Example:
      >>> slug("+ Hershey + hanzi, augmented")
      'hershey_hanzi_augmented'
    """
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "base"


def parse_pairs(values, what: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` flags as pairs.

    Raises:
      app.UsageError: naming the flag value without ``=``.
    """
    pairs = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise app.UsageError(f"--{what} takes NAME=VALUE, got {value!r}")
        pairs.append((name, rest))
    return pairs


def _train(changes: str, steps: int, workdir: str, extra_flags=(), capture: bool = False) -> str:
    """One ``python -m sketchembednet.train`` run (it resumes an existing workdir); returns
    its log when ``capture`` (it is also written to ``<workdir>.log``)."""
    arg = ",".join(p for p in (changes, f"steps={steps}") if p)
    command = [sys.executable, "-m", "sketchembednet.train", f"--config=ablation:{arg}",
               f"--workdir={workdir}", *extra_flags]
    logging.info("running %s", " ".join(shlex.quote(c) for c in command))
    if not capture:
        subprocess.run(command, check=True)
        return ""
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    with open(workdir + ".log", "w") as f:
        f.write(done.stderr)
    return done.stderr


def steady_rate(log: str) -> float:
    """The median of a training log's logged steps/s over its second half (the first
    loops compile a graph per length bucket).

    Example:
      >>> log = " ".join(f"{{'train/steps_per_sec': {r}}}" for r in (1.0, 3.0, 3.5))
      >>> steady_rate(log)
      3.25
    """
    rates = [float(r) for r in re.findall(r"'train/steps_per_sec': ([0-9.]+)", log)]
    if not rates:
        raise ValueError("no 'train/steps_per_sec' in the probe run's log")
    late = sorted(rates[len(rates) // 2:])
    middle = len(late) // 2
    return late[middle] if len(late) % 2 else (late[middle - 1] + late[middle]) / 2


def planned_steps(rate: float, minutes: float, headroom: float = 1.0) -> int:
    """The steps a run plans: those that fit ``minutes`` at ``rate`` steps/s, times
    ``headroom``, and at least the probe's.

    Example:
      >>> planned_steps(4.0, 120.0), planned_steps(4.0, 120.0, headroom=1.1)
      (28800, 31680)
    """
    if headroom < 1.0:
        raise ValueError(f"--headroom={headroom}: must be at least 1 (the wall-time stop "
                         "ends a run at the budget; fewer steps would waste it)")
    return max(int(round(minutes * 60 * rate * headroom)), PROBE_STEPS)


def steps_for_budget(changes: str, row_dir: str, minutes: float,
                     headroom: float = 1.0) -> dict:
    """Measures the row's steady steps/s with a short probe run; the steps that fit
    ``minutes`` at that rate times ``headroom`` (the wall-time stop ends the run at the
    budget in any case). The plan is kept in ``<row_dir>/budget.json``, so a resumed row
    keeps its schedule."""
    path = os.path.join(row_dir, "budget.json")
    known = jsonio.read_json(path)
    if known:
        return known
    rate = steady_rate(_train(changes, PROBE_STEPS, os.path.join(row_dir, "probe"),
                              capture=True))
    budget = dict(steps_per_sec=rate, minutes=minutes, headroom=headroom,
                  steps=planned_steps(rate, minutes, headroom))
    jsonio.write_json(path, budget)
    return budget


def train_row(name: str, changes: str, minutes: float) -> str:
    """Trains one row within the budget (or resumes it); returns its workdir."""
    row_dir = os.path.join(FLAGS.root, slug(name))
    os.makedirs(row_dir, exist_ok=True)
    budget = steps_for_budget(changes, row_dir, minutes, FLAGS.headroom)
    workdir = os.path.join(row_dir, "run")
    _train(changes, budget["steps"], workdir, [f"--config.train.max_wall_minutes={minutes}"])
    return workdir


def evaluation_sets() -> dict:
    """The three evaluation sets: background half 0 (selection), half 1 and strokes."""
    from sketchembednet.evaluation import datasets
    from sketchembednet.evaluation import results
    from sketchembednet.tuning import objectives

    npz = FLAGS.data_path or paths.shared_data_dir(datasets.SHARED_NPZ)
    return {"half 0": objectives.omniglot_half(npz, half=0),
            "half 1": objectives.omniglot_half(npz, half=1),
            "strokes": results.load_route("strokes", manual_dir=FLAGS.omniglot_dir,
                                          data_dir=FLAGS.tfds_dir)}


def evaluate(path: str, sets: dict) -> dict:
    """Few-shot accuracy (%) of a workdir's or an export's encoder on every set."""
    from sketchembednet.evaluation import fewshot
    from sketchembednet.evaluation import loading
    from sketchembednet.models import exported

    embed_fn = (loading.embed_fn_from_export(path) if exported.is_export(path)
                else loading.embed_fn_from_workdir(path))
    out = {}
    for set_name, data in sets.items():
        embeddings = fewshot.compute_embeddings(embed_fn, data.images)
        for ways, shots in SETTINGS:
            r = fewshot.evaluate_embeddings(embeddings, data.labels, ways, shots,
                                            FLAGS.episodes, None, FLAGS.seed, progress=True)
            out[f"{set_name} {ways}w{shots}s"] = dict(accuracy=100 * r["accuracy"],
                                                      ci95=100 * r["ci95"])
    return out


def run_facts(path: str) -> dict:
    """Steps, batch, wall minutes and whether the budget stopped it, of a run or export."""
    from sketchembednet.models import exported

    if exported.is_export(path):
        config = exported.read_export_config(path)
        wall, steps = config["export"].get("total_wall_seconds"), config["export"]["final_step"]
    else:
        config = jsonio.read_json(os.path.join(path, "config.json"))
        result = jsonio.read_json(os.path.join(path, "train_result.json")) or {}
        wall, steps = result.get("total_wall_seconds"), result.get("train/step")
    return dict(steps=steps, batch=config["train"]["batch_size"],
                minutes=None if wall is None else wall / 60,
                sources=[config["dataset"]["name"]] + [s["name"] for s in
                                                       config["dataset"].get("mix", ())])


def markdown(rows: list[dict], minutes: float, episodes: int, command: str) -> str:
    """The ablation table (rows in order; the best half-0 20-way 1-shot in bold)."""
    keys = [f"{s} {w}w{k}s" for s in ("half 0", "half 1", "strokes") for w, k in SETTINGS]
    best = max((r for r in rows if r.get("trained")), default=None,
               key=lambda r: r["results"]["half 0 20w1s"]["accuracy"])
    lines = [
        f"Few-shot accuracy (%) at equal wall-clock time ({minutes:g} min of training per "
        f"row), {episodes} episodes per setting, mean ± 95% CI. Rows are chosen on "
        "background half 0 and reported on half 1 and the stroke-rendered background set.",
        "", "```bash", command, "```", "",
        "| row | sources | steps × batch | wall (steps/s) | " + " | ".join(keys) + " |",
        "|---" * (4 + len(keys)) + "|"]
    for row in rows:
        facts = row["facts"]
        cells = [f"{r['accuracy']:.2f} ± {r['ci95']:.2f}" for r in
                 (row["results"][k] for k in keys)]
        if row is best:
            cells[0] = f"**{cells[0]}**"
        wall = ("n/a" if not facts["minutes"] else
                f"{facts['minutes']:.1f} min ({facts['steps'] / facts['minutes'] / 60:.2f})")
        lines.append(f"| {row['name']} | {', '.join(facts['sources'])} | "
                     f"{facts['steps']} × {facts['batch']} | {wall} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_block(path: str, block: str) -> None:
    """Replaces the text between the ablation markers of ``path`` (appends them if absent)."""
    with open(path) as f:
        text = f.read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + BEGIN + "\n" + block + "\n" + END + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{block}\n{END}\n"
    with open(path, "w") as f:
        f.write(text)


def evaluated(name: str, changes: str | None, path: str, sets: dict) -> dict:
    """A row's record (``<root>/<slug>/eval.json``), evaluating it the first time.

    ``sets`` caches :func:`evaluation_sets` (loaded on the first evaluation).
    """
    eval_path = os.path.join(FLAGS.root, slug(name), "eval.json")
    record = jsonio.read_json(eval_path)
    if record is None:
        if not sets:
            sets.update(evaluation_sets())
        record = dict(name=name, changes=changes, path=path, trained=changes is not None,
                      facts=run_facts(path), results=evaluate(path, sets))
        os.makedirs(os.path.dirname(eval_path), exist_ok=True)
        jsonio.write_json(eval_path, record)
    return record


def report(table: list[dict], minutes: float) -> None:
    """Prints the table so far and writes it to ``--docs`` and ``--json``."""
    command = "python tools/ablate.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    block = markdown(table, minutes, FLAGS.episodes, command)
    print(block, flush=True)
    if FLAGS.docs:
        replace_block(FLAGS.docs, block)
    if FLAGS.json:
        jsonio.write_json(FLAGS.json, dict(minutes=minutes, episodes=FLAGS.episodes,
                                            rows=table, command=command))


def main(argv):
    del argv
    rows = parse_pairs(FLAGS.row, "row") if FLAGS.row else list(ROWS)
    minutes, sets, table = FLAGS.minutes, {}, []
    if not FLAGS.train_only:
        table = [evaluated(name, None, path, sets)
                 for name, path in parse_pairs(FLAGS.baseline, "baseline")]
    for name, changes in rows:  # Row by row: each is reported as soon as it is done.
        done = os.path.exists(os.path.join(FLAGS.root, slug(name), "eval.json"))
        path = os.path.join(FLAGS.root, slug(name), "run") if done else train_row(
            name, changes, minutes)
        if not FLAGS.train_only:
            table.append(evaluated(name, changes, path, sets))
            report(table, minutes)


if __name__ == "__main__":
    define_flags()
    app.run(main)

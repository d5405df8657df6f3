r"""Compares finished α searches (``sketchembednet.tune`` directories): a table and a plot.

Typical use: the same search run with two training seeds, to see whether the
differences between α_max values exceed the seed-to-seed noise.

    python tools/compare_searches.py \
        --search="seed 0=runs/tune_alpha" --search="seed 1=runs/tune_alpha_seed1" \
        --mean_of="seed 0,seed 1" --out=runs/alpha_seeds.png

Prints the Markdown table (one row per α_max, one column per search, and the mean)
and writes the plot to ``--out``. Library: :mod:`sketchembednet.tuning.compare`.
"""

from __future__ import annotations

import sys

from absl import app, flags

from sketchembednet.tuning import compare

flags.DEFINE_multi_string("search", [], "LABEL=PATH: a search directory (or its summary.json) "
                          "and its label; repeat for each search.")
flags.DEFINE_list("mean_of", [],
                  "labels (without commas) whose objectives are averaged per α_max.")
flags.DEFINE_string("out", None, "the plot (PNG); none if empty.")
flags.DEFINE_string("title", None, "plot title.")
FLAGS = flags.FLAGS


def parse_search(value: str) -> tuple[str, str]:
    """``"seed 0=runs/a"`` -> ``("seed 0", "runs/a")``.

    Example:
      >>> parse_search("seed 0=runs/tune_alpha")
      ('seed 0', 'runs/tune_alpha')
    """
    label, sep, path = value.partition("=")
    if not sep or not label.strip() or not path.strip():
        raise ValueError(f"--search={value!r}: expected LABEL=PATH")
    return label.strip(), path.strip()


def main(argv):
    del argv
    if not FLAGS.search:
        raise app.UsageError("give at least one --search=LABEL=PATH")
    try:
        searches = [(label, compare.load_summary(path))
                    for label, path in map(parse_search, FLAGS.search)]
        table = compare.alpha_table(searches, FLAGS.mean_of or None)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f"compare_searches: {e}")
    print(compare.markdown_table(table))
    if FLAGS.out:
        print("plot:", compare.plot_table(FLAGS.out, table, FLAGS.title))


if __name__ == "__main__":
    app.run(main)

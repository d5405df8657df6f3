r"""Derives ``excluded_wnids.tsv``: Sketchy photo wnids that overlap mini-ImageNet's test classes.

SketchEmbedNet trains on Sketchy and evaluates few-shot on mini-ImageNet's 20 test
classes, so Sketchy photos of those concepts are removed from training. The
authors asked image-net.org's (now dead) API for the full hyponym set of every
wnid and removed a photo when the hyponym set of its wnid intersected the union
of the test classes' hyponym sets (``datasets/sketchy.py``). This script
reproduces that offline: ImageNet wnids are WordNet 3.0 noun offsets
(``n01930112`` = offset ``01930112`` of ``data.noun``), and ImageNet's hyponym
structure is WordNet's hyponym relation (pointer ``~``). A wnid is excluded when
``{w} + hyponyms*(w)`` meets ``{t} + hyponyms*(t)`` for a test wnid ``t``: w is
a test class, a hyponym of one, or a hypernym of one.

Needs Debian's ``wordnet-base`` (WordNet 3.0: ``apt-get install wordnet-base``).
Run from the repository root:

    python tfds_builders/sketchy/derive_excluded_wnids.py \
        [--data_noun=/usr/share/wordnet/data.noun] [--out=excluded_wnids.tsv]
"""

import argparse
import collections
import csv
import pathlib

HERE = pathlib.Path(__file__).resolve().parent


def read_hyponyms(data_noun: pathlib.Path) -> tuple[dict, dict]:
    """``({wnid: [hyponym wnids]}, {wnid: first lemma})`` of WordNet's noun database."""
    children, lemma = collections.defaultdict(list), {}
    for line in data_noun.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):  # Licence header.
            continue
        fields = line.split(" | ")[0].split()
        wnid = "n" + fields[0]
        words = int(fields[3], 16)
        lemma[wnid] = fields[4]
        pos = 4 + 2 * words
        for i in range(int(fields[pos])):
            symbol, offset, part = fields[pos + 1 + 4 * i : pos + 4 + 4 * i]
            if symbol == "~" and part == "n":
                children[wnid].append("n" + offset)
    return children, lemma


def closure(wnid: str, children: dict) -> set:
    """The wnid and all its (transitive) hyponyms."""
    seen, stack = set(), [wnid]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children.get(node, ()))
    return seen


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_noun", default="/usr/share/wordnet/data.noun")
    parser.add_argument("--out", default=str(HERE / "excluded_wnids.tsv"))
    args = parser.parse_args(argv)
    children, lemma = read_hyponyms(pathlib.Path(args.data_noun))
    tests = (HERE / "miniimagenet_test_wnids.txt").read_text().split()
    with open(HERE / "sketchy_class_wnids.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for wnid in tests + [w for row in rows for w in row["wnids"].split(",")]:
        if wnid not in lemma:
            raise SystemExit(f"{wnid} is not a WordNet 3.0 noun synset in {args.data_noun}")
    test_sets = {t: closure(t, children) for t in tests}
    out = []
    for row in rows:
        for wnid in row["wnids"].split(","):
            mine = closure(wnid, children)
            hits = [t for t in tests if mine & test_sets[t]]
            if hits:
                how = ["same" if t == wnid else "hypernym" if t in mine else
                       "hyponym" if wnid in test_sets[t] else "shared hyponym" for t in hits]
                out.append((wnid, lemma[wnid], row["class"], ",".join(hits),
                            ",".join(f"{lemma[t]} ({h})" for t, h in zip(hits, how))))
    lines = [
        "# Sketchy photo wnids excluded from training: their WordNet 3.0 hyponym closure meets",
        "# that of a mini-ImageNet test class. Written by derive_excluded_wnids.py (WordNet 3.0,",
        "# Debian wordnet-base 1:3.0-37); do not edit by hand.",
        "wnid\tlemma\tsketchy_class\tminiimagenet_test_wnids\trelation (test lemma: wnid is ...)",
    ] + ["\t".join(row) for row in sorted(out)]
    pathlib.Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(out)} excluded wnids of {sum(len(r['wnids'].split(',')) for r in rows)}")


if __name__ == "__main__":
    main()

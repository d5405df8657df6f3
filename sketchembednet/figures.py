r"""Generation and emergent-structure figures of a trained model, as PNGs and an index page.

    python tools/shared_quickdraw.py --out=/tmp/quickdraw_shared
    python -m sketchembednet.figures --workdir=runs/quickdraw_shared \
        --quickdraw_dir=/tmp/quickdraw_shared --out=docs/figures

``--quickdraw_dir`` is a folder of Quick, Draw! simplified ``<class>.ndjson`` files
(the paper's class lists decide what is "seen" and "unseen"; missing classes are
skipped). It writes into ``--out``:

* ``samples_*.png`` / ``one_shot_*.png``: inputs beside the model's sketches, for
  seen classes (held-out drawings: the validation and test splits by key hash, never
  trained on), unseen classes (the paper's 45 held-out classes) and an unseen
  dataset (the Omniglot background set, ``--omniglot_npz``, default from
  ``$SKETCHEMBEDNET_SHARED_DATA``); one-shot generation draws several sketches
  from one example (``sketchembednet.evaluation.generation``);
* ``recognisability_*.png``: the paper's Table 5 protocol scaled to CPU: a small
  CNN is trained on real drawings of a class set and scores sketches generated
  from held-out drawings, beside its accuracy on the real held-out drawings and on
  sketches of an untrained copy of the model
  (``sketchembednet.evaluation.generation_readouts``);
* ``umap_*.png``, ``arithmetic.png``: UMAP of embeddings of composites of real
  drawings (numerosity, placement, containment, distance/angle/size) with linear
  readouts, and embedding arithmetic (snowman - circle + square), decoded
  (``sketchembednet.evaluation.structure``);
* ``omniglot_map.png``: UMAP of unseen Omniglot alphabets (``--alphabets``), coloured by
  character, with each character's nearest-neighbour accuracy in the embedding
  (``sketchembednet.evaluation.omniglot_map``; needs the Omniglot npz);
* ``results.json`` (every number) and ``index.md`` (the pictures with their numbers).

The models are trained on Quick, Draw! for these figures to mean what the paper's do
(``--config=quickdraw_shared``); any SketchEmbedNet workdir works, and so does an export
folder (``--workdir=exported/<name>``: the model rebuilt with the exported weights).
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import sys

from absl import app
from absl import flags
from absl import logging

from sketchembednet import cli
from sketchembednet import paths

SECTIONS = ("generation", "recognisability", "structure", "omniglot_map")
HELD_OUT = ("validation", "test")


def _class_files(folder: str, classes) -> dict:
    files = {c: os.path.join(folder, f"{c}.ndjson") for c in classes}
    return {c: path for c, path in files.items() if os.path.exists(path)}


def _quickdraw_sets(folder: str, image_size: int, min_seen: int) -> dict:
    """Seen (held-out drawings) and unseen Quickdraw classes as LabelledImages, plus the
    training drawings of the seen classes (the recognisability classifier's)."""
    from sketchembednet.evaluation.generation_sets import quickdraw_images
    from tfds_builders.quickdraw import quickdraw_dataset_builder as qd

    seen_files = _class_files(folder, qd.TRAIN_300)
    unseen_files = _class_files(folder, qd.HELDOUT_45)
    if not seen_files or not unseen_files:
        raise FileNotFoundError(f"{folder}: holds {len(seen_files)} of the paper's 300 training "
                                f"and {len(unseen_files)} of its 45 held-out classes as "
                                "<class>.ndjson; it needs some of each")
    seen = quickdraw_images(seen_files, image_size, splits=HELD_OUT, min_per_class=min_seen)
    big_files = {c: seen_files[c] for c in seen.class_names}
    return {
        "seen": seen,
        "seen_train": quickdraw_images(big_files, image_size, splits=("train",)),
        "unseen": quickdraw_images(unseen_files, image_size, min_per_class=5),
    }


def _omniglot(path: str | None, image_size: int):
    from sketchembednet.evaluation import datasets

    if not path:
        path = paths.shared_data_dir(datasets.SHARED_NPZ)
        if not os.path.exists(path):
            return None
    return datasets.omniglot_background(path, image_size)


def _percent(value) -> str:
    return f"{100 * value:.1f}%"


def _shown(path: str) -> str:
    """``path`` relative to the current folder when inside it (no machine's root in pages).

    Example:
      >>> _shown(os.path.join(os.getcwd(), "runs", "ckpt-9")), _shown("/elsewhere/ckpt-9")
      ('runs/ckpt-9', '/elsewhere/ckpt-9')
    """
    here = os.getcwd()
    inside = os.path.isabs(path) and os.path.commonpath([here, path]) == here
    return os.path.relpath(path, here) if inside else path


def index_markdown(result: dict, command: str) -> str:
    """The index page: every figure, with its numbers, in reading order.

    Example:
      >>> page = index_markdown({"workdir": "w", "checkpoint": "c", "generation": None,
      ...                        "recognisability": {}, "structure": None}, "cmd")
      >>> page.splitlines()[0]
      '# Figures of w'
    """
    lines = [f"# Figures of {result['workdir']}", "",
             f"Checkpoint `{_shown(result['checkpoint'])}`; generated "
             f"{datetime.date.today().isoformat()} by", "", "```bash", command, "```", ""]
    gen = result.get("generation")
    if gen:
        lines += ["## Sketches of seen classes, unseen classes and an unseen dataset", "",
                  f"Grids at temperature {gen['temperature']}, one-shot generation at "
                  f"{gen['one_shot_temperature']} (each row: one example, then samples).", ""]
        for name, info in gen["sets"].items():
            lines += [f"### {name} ({info['images']} images, {info['classes']} classes)", "",
                      f"![{name}]({info['grid']['file']})", "",
                      f"![{name}, one-shot]({info['one_shot']['file']})", ""]
    rec = result.get("recognisability") or {}
    if rec:
        lines += ["## Recognisability (Table 5 protocol, CPU-sized)", "",
                  "A small CNN trained on real drawings of a class set classifies sketches "
                  "generated from held-out drawings. References: the real held-out drawings "
                  "(ceiling), sketches of an untrained copy of the model, and a blank canvas.",
                  "", "| classes | classifier train / test images | real | samples | "
                  "untrained model's samples | blank canvas |", "|---|---|---|---|---|---|"]
        for name, r in rec.items():
            lines.append(f"| {name} ({r['classes']}) | {r['train_images']} / {r['test_images']} | "
                         f"{_percent(r['real']['accuracy'])} | {_percent(r['samples']['accuracy'])}"
                         f" | {_percent(r['reference']['accuracy'])} | "
                         f"{_percent(r['blank_canvas']['accuracy'])} |")
        lines.append("")
        lines += [f"![{name}]({r['examples']['file']})" for name, r in rec.items()
                  if r.get("examples")]
        lines.append("")
    lines += _structure_lines(result.get("structure"))
    lines += _omniglot_map_lines(result.get("omniglot_map"))
    return "\n".join(lines)


def _omniglot_map_lines(info) -> list:
    if not info:
        return []
    lines = ["## Unseen Omniglot alphabets", "",
             f"{info['method'].upper()} of μ per alphabet, coloured by character (one drawing "
             "of each at the median of its points). Leave-one-out nearest-neighbour accuracy "
             "of the characters in the embedding (cosine):", "",
             f"![Omniglot alphabets]({info['figure']})", "",
             "| alphabet | characters x drawers | 1-NN accuracy | chance |", "|---|---|---|---|"]
    for name, a in info["alphabets"].items():
        lines.append(f"| {name} | {a['characters']} x {a['drawings'] // a['characters']} | "
                     f"{_percent(a['nn_accuracy'])} | {_percent(a['chance'])} |")
    return lines + [""]


def _structure_lines(structure) -> list:
    if not structure:
        return []
    lines = ["## Emergent structure", "",
             "UMAP of μ for composites of real drawings, and linear readouts on L2-normalised "
             "μ beside the same readouts on raw pixels (accuracy for categories, test R² for "
             "distance, angle, size).", ""]
    for name, info in structure.get("sets", {}).items():
        emb, pix = info["readout"]["embedding"], info["readout"]["pixels"]
        if "accuracy" in emb:
            numbers = (f"{emb['n_test']} test composites: accuracy μ {emb['accuracy']:.2f}, "
                       f"pixels {pix['accuracy']:.2f} (chance {emb['chance']:.2f})")
        else:
            numbers = f"{emb['n_test']} test composites: R² " + ", ".join(
                f"{target} μ {emb['r2'][target]:.2f} / pixels {pix['r2'][target]:.2f}"
                for target in ("distance", "angle", "size"))
        lines += [f"### {name}", "", f"![{name}]({info['figure']})", "", numbers, ""]
    arithmetic = structure.get("arithmetic") or {}
    if arithmetic.get("figure"):
        lines += ["### Embedding arithmetic", "", f"![arithmetic]({arithmetic['figure']})", ""]
        for eq in arithmetic.get("equations", []):
            near = ", ".join(f"{c} ({s:.2f})" for c, s in eq.get("nearest_excluding_operands",
                                                                 [])[:3])
            lines += [f"- {eq['expression']}: nearest classes other than the operands: {near}"]
        lines.append("")
    return lines


def define_flags() -> None:
    """Defines the CLI's flags (in ``run``: tests import this module beside other CLIs)."""
    from sketchembednet.evaluation import omniglot_map

    flags.DEFINE_string("workdir", None, "Training workdir or export folder of a SketchEmbedNet.",
                        required=True)
    flags.DEFINE_string("quickdraw_dir", None,
                        "Folder of Quick, Draw! simplified <class>.ndjson files (needed by "
                        "every section but omniglot_map).")
    flags.DEFINE_string("omniglot_npz", None,
                        "images_background.npz (default: the shared data pack's, if present).")
    flags.DEFINE_string("out", None, "Folder for the PNGs, results.json and index.md.",
                        required=True)
    flags.DEFINE_list("sections", list(SECTIONS), "Which experiments to run.")
    flags.DEFINE_integer("seed", 0, "Seed of every sample, split and projection.")
    flags.DEFINE_list("alphabets", list(omniglot_map.DEFAULT_ALPHABETS),
                      "Omniglot background alphabets of omniglot_map.png.")
    flags.DEFINE_integer("min_seen_per_class", 20,
                         "Seen classes need this many held-out drawings (recognisability).")


def _recognisability(model, qd: dict, out: str, seed: int) -> dict:
    """Recognisability of the seen classes (classifier: their training drawings) and of the
    unseen classes (classifier: 80 % of their drawings)."""
    from sketchembednet.evaluation import generation_readouts, generation_sets
    from sketchembednet.evaluation import image_classifier

    classifier = image_classifier.train_image_classifier(qd["seen_train"], seed=seed,
                                                          progress=True)
    out_seen = generation_readouts.recognisability(
        model, classifier, qd["seen_train"], qd["seen"], seed=seed, progress=True,
        examples_path=os.path.join(out, "recognisability_seen.png"))
    train_idx, test_idx = generation_sets.split_per_class(qd["unseen"].labels, 0.2, seed)
    unseen_train = generation_sets.subset(qd["unseen"], train_idx)
    out_unseen = generation_readouts.recognisability(
        model, None, unseen_train, generation_sets.subset(qd["unseen"], test_idx), seed=seed,
        progress=True, examples_path=os.path.join(out, "recognisability_unseen.png"))
    return {"seen classes": out_seen, "unseen classes": out_unseen}


def _write_outputs(out: str, result: dict) -> None:
    command = "python -m sketchembednet.figures " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(dict(result, command=command), f, indent=2, default=float)
    with open(os.path.join(out, "index.md"), "w") as f:
        f.write(index_markdown(result, command) + "\n")
    print(f"wrote {out}/index.md and {len(os.listdir(out))} files")


def main(argv):
    del argv
    from sketchembednet.data import quickdraw
    from sketchembednet.evaluation import generation
    from sketchembednet.evaluation import omniglot_map
    from sketchembednet.evaluation import structure
    from sketchembednet.evaluation.structure_readouts import embed_images, model_image_shape

    values = flags.FLAGS
    unknown = set(values.sections) - set(SECTIONS)
    if unknown:
        raise app.UsageError(f"--sections: unknown {sorted(unknown)}; choose from {SECTIONS}")
    if set(values.sections) - {"omniglot_map"} and not values.quickdraw_dir:
        raise app.UsageError("--quickdraw_dir is needed by the sections "
                             f"{sorted(set(values.sections) - {'omniglot_map'})}")
    known = omniglot_map.alphabet_labels()
    if "omniglot_map" in values.sections and set(values.alphabets) - set(known):
        raise app.UsageError(f"--alphabets: unknown {sorted(set(values.alphabets) - set(known))}"
                             f"; choose from {', '.join(known)}")
    model, checkpoint = _load(values.workdir)
    if not hasattr(model, "sample"):
        raise app.UsageError(f"{values.workdir}: a {type(model).__name__} cannot draw; "
                             "figures need a SketchEmbedNet workdir")
    image_size = model_image_shape(model)[0]
    out, seed = values.out, values.seed
    os.makedirs(out, exist_ok=True)
    result = {"workdir": values.workdir, "checkpoint": checkpoint, "seed": seed,
              "generation": None, "recognisability": {}, "structure": None,
              "omniglot_map": None}
    qd = (_quickdraw_sets(values.quickdraw_dir, image_size, values.min_seen_per_class)
          if values.quickdraw_dir else None)
    omniglot = (_omniglot(values.omniglot_npz, image_size)
                if {"generation", "omniglot_map"} & set(values.sections) else None)
    if "generation" in values.sections:
        sets = {"seen classes (held-out drawings)": qd["seen"], "unseen classes": qd["unseen"]}
        if omniglot is not None:
            sets["Omniglot (unseen dataset)"] = omniglot
        result["generation"] = generation.run(model, sets, out, seed=seed)
    if "recognisability" in values.sections:
        result["recognisability"] = _recognisability(model, qd, out, seed)
    if "structure" in values.sections:
        drawings = quickdraw.read_simplified_folder(values.quickdraw_dir, None)
        result["structure"] = structure.run(model, drawings, out, seed=seed)
    if "omniglot_map" in values.sections:
        if omniglot is None:
            logging.warning("omniglot_map skipped: no --omniglot_npz and no shared %s",
                            "images_background.npz")
        else:
            result["omniglot_map"] = omniglot_map.run(
                lambda images: embed_images(model, images), omniglot,
                os.path.join(out, "omniglot_map.png"), alphabets=values.alphabets, seed=seed)
    _write_outputs(out, result)


def _load(path: str):
    """``(model, checkpoint)`` of a training workdir or of an export folder."""
    from sketchembednet.evaluation import loading
    from sketchembednet.models import exported

    if exported.is_export(path):
        info = exported.read_export_config(path)["export"]
        return exported.load_for_finetuning(path), info.get("checkpoint") or path
    model, _, checkpoint = loading.model_from_workdir(path)
    return model, checkpoint


def run():
    """Entry point: defines the flags, then runs :func:`main`."""
    define_flags()
    app.run(cli.one_line_errors(main))


if __name__ == "__main__":
    run()

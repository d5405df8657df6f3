"""The model card (``README.md``) of an export: data, licences, command, evaluation, use."""

from __future__ import annotations

import os
import re

from sketchembednet import jsonio
from sketchembednet.data import framing as framing_lib
from sketchembednet.evaluation import results as results_lib

_KIND_NAMES = {"sketchembednet": "SketchEmbedNet", "conv_vae": "Conv-VAE baseline",
               "contrastive": "Contrastive baseline"}

_LICENCES = (  # (dataset name prefix, training data and licence)
    ("kanjivg", "KanjiVG (Ulrich Apel and contributors, https://kanjivg.tagaini.net), "
                "licensed under CC BY-SA 3.0"),
    ("quickdraw", "The Quick, Draw! dataset (Google, https://quickdraw.withgoogle.com/data), "
                  "licensed under CC BY 4.0"),
    ("hershey", "The Hershey fonts (Dr. A. V. Hershey, U.S. National Bureau of Standards; "
                "`.jhf` format by James Hurt, Cognition, Inc.), via the `Hershey-Fonts` "
                "package (MIT): free for any use with this acknowledgement"),
    ("hanzi_medians", "Make Me a Hanzi stroke medians (`hanzi-writer-data`, derived from "
                      "Arphic fonts), licensed under the Arphic Public License"),
    ("omniglot", "Omniglot (Lake, Salakhutdinov & Tenenbaum 2015), MIT licence"),
    ("sketchy", "The Sketchy database (Sangkloy et al. 2016); this project records no "
                "licence for it: check the dataset's own terms before redistributing"),
)


def _licence(dataset_name: str) -> str:
    for prefix, text in _LICENCES:
        if dataset_name.startswith(prefix):
            return text
    return (f"`{dataset_name}`: this project records no licence for it; check the dataset's "
            "own terms")


def _words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: an English list for the card's prose."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sources(dataset: dict) -> list[tuple[str, str]]:
    """``(name, split)`` of every training source: the dataset and its ``mix``."""
    sources = [(dataset["name"], dataset.get("train_split", "?"))]
    return sources + [(m["name"], m.get("split") or "train") for m in dataset.get("mix") or ()]


def evaluation_rows(results_json: str | None, workdir: str):
    """``(rows, meta)`` of a results file (``tools/results_table.py --json``): every row,
    with ``this_model`` set on the rows of ``workdir``."""
    if not results_json:
        return [], None
    results = jsonio.read_json(results_json)
    if results is None:
        raise FileNotFoundError(f"--results_json={results_json}: not found")
    here = os.path.realpath(workdir)
    rows = [dict(r, this_model=bool(r.get("workdir"))
                 and os.path.realpath(r["workdir"]) == here) for r in results.get("rows", [])]
    note = None if any(r["this_model"] for r in rows) else (
        f"No evaluation of this model was recorded: no row of `{os.path.basename(results_json)}`"
        " names its workdir. The file's rows (other models) are shown for comparison only.")
    return rows, dict(note=note, episodes=results.get("episodes"),
                      command=results.get("command"), source=results_json,
                      dataset=results.get("dataset"), routes=results.get("routes"))


def evaluation_markdown(rows, meta) -> str:
    """The card's evaluation section: a table of a results file's rows, this model's in bold."""
    if not rows:
        return "No evaluation was recorded for this export (no `--results_json` given).\n"
    lines = [] if not meta.get("note") else [meta["note"], ""]
    routes = list(dict.fromkeys(row.get("input", "pages") for row in rows))
    several = len(routes) > 1
    described = meta.get("dataset") or "the Omniglot background set"
    if meta.get("routes"):
        described = "; ".join(
            (f"**{results_lib.ROUTES[r][0]}**: " if several else "") + text
            for r, text in meta["routes"].items() if r in results_lib.ROUTES)
    lines += [f"Few-shot accuracy (%) on {described}; {meta.get('episodes') or '?'} episodes "
              f"per setting, mean ± 95% CI (from `{os.path.basename(meta['source'])}`)."]
    if meta.get("command"):
        lines += ["", "```bash", meta["command"], "```"]
    settings = results_lib.SETTINGS
    header = " | ".join(f"{w}-way {s}-shot" for w, s in settings)
    lines += ["", f"| model | {'input | ' if several else ''}{header} |",
              "|---" * (len(settings) + 1 + several) + "|"]
    for row in rows:
        cells = [results_lib.ROUTES[row.get("input", "pages")][0]] if several else []
        for w, s in settings:
            r = row.get("results", {}).get(f"{w}w{s}s")
            cells.append(f"{r['accuracy']:.2f} ± {r['ci95']:.2f}" if r else "–")
        name = f"**{row.get('name', '?')} (this model)**" if row.get("this_model") else \
            row.get("name", "?")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_CARD = """# {title}: `{preset}` preset trained on `{dataset}`

Exported {exported} by sketchembednet {version} from `{workdir}`. Contents: {parts};
`config.json` (the training config plus an `export` section).

## Model

- Export format {format_version}. {format_note}
- Kind `{kind}`, preset `{preset}`: `{encoder}` encoder, embedding dimension {dim}{decoder}.
- Input (export format {format_version}): your images as they are: uint8 `[n, H, W, C]`
  (`serving_default`; `serving_float` takes float32 on the 0..255 scale), any size, C in
  {{1, 3, 4}}. Inside the module the preprocessor {framing_text}
  Output: the embedding mu `[n, D]` float32 (`embedding`).
- Reference: Wang, Lucas, Zemel et al., "SketchEmbedNet: Learning Novel Concepts by
  Imitating Drawings", ICML 2021, arXiv:2009.04806.

## Training

- Data: {data} (sketches of at most {max_len} stroke-3 rows), as {size} images.
- Steps: {step} (checkpoint `{checkpoint}`); {steps_run} steps run in total, {wall} wall
  time (batch {batch}, {replicas} replica(s)).
- Command: {command}

## Training data licence

{licence}. Weights trained on it may be subject to these terms.

## Intended use

- Embeddings of sketch-like images (drawings, characters, line art: dark ink on a light
  background) for few-shot classification, retrieval or clustering, e.g. logistic
  regression on L2-normalised embeddings as in the paper's evaluation.
- {use}

## Limitations

- Trained only on {names}; other domains (natural photos, text documents) are out of
  distribution: embeddings there are not meaningful without fine-tuning.
- Inputs are reduced to {size}: fine detail is lost. {framing_limits}
- Not evaluated for fairness, robustness or safety-critical use.
{decoder_limits}
## Evaluation

{evaluation}{notes}
## Usage

```python
import tensorflow_hub as hub
encoder = hub.load("<this folder>/encoder")
mu = encoder(images_uint8)  # [n, H, W, C] -> [n, D]; any size, 1, 3 or 4 channels
```

A classifier head on the frozen encoder in Keras 3:
`keras.layers.TFSMLayer("<this folder>/encoder", call_endpoint="serving_default",
trainable=False)` + `keras.layers.Dense` trains with `model.fit`. To fine-tune the encoder
too, use `hub.KerasLayer("<this folder>/encoder", trainable=True)` in a tf_keras model, or
`sketchembednet.export.load_for_finetuning("<this folder>")`, which rebuilds the Keras
model from `config.json` and loads these weights. (Keras 3.15's `TFSMLayer` names its
weights after the SavedModel's `...:0` variable names, which Keras' optimizers then
reject as slot-variable scope names, so `trainable=True` fails in `fit`.)
"""


FORMAT_NOTES = {
    1: "The encoder module converted channels and area-resized the whole image.",
    2: ("Changed from format 1: the encoder module now runs the image preprocessor "
        "(`sketchembednet.data.preprocessing`), so a page, scan or canvas is framed like "
        "the training renders before it is embedded; format 1 only converted channels and "
        "area-resized the whole image, so drawings arrived small, off-centre and pure "
        "black. The weights are unchanged by the format."),
}

_FRAMING_TEXT = {
    "fit_ink": ("composites alpha on white, converts to grey, inverts light-on-dark "
                "images, crops each image to its ink and fits it to {size} as the training "
                "renders are (longer side of the ink {extent:.1f} px, centred, grey ink on "
                "white); `serving_unframed` skips the crop (for images already framed so)."),
    "none": ("converts the channels and area-resizes the whole image to {size} (photos "
             "are not cropped)."),
}
_FRAMING_LIMITS = {
    "fit_ink": ("One drawing per image: everything inked on the page (text, a frame, "
                "specks) counts as part of it."),
    "none": "Non-square images are stretched: pad them to square first.",
}


_LINK_TARGET = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)")
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)")


def rebase_links(markdown: str, source_dir: str, card_dir: str) -> str:
    """Notes written in ``source_dir`` with relative links, made to work in ``card_dir``.

    A notes file (``export --notes``) lives somewhere in the repository and becomes part
    of the card in the export folder: each relative link or image target is rewritten
    to point at the same file from the card. Web links, ``#anchors``, absolute paths and
    anything in code (fenced blocks, inline code) are left alone.

    Example:
      >>> rebase_links("![map](../../exported/m/figures/map.png), [x](https://x.org)",
      ...              "/repo/docs/results", "/repo/exported/m")
      '![map](figures/map.png), [x](https://x.org)'
    """
    def rebase(match, code_spans):
        target = match.group(2)
        if (any(a <= match.start() < b for a, b in code_spans)
                or re.match(r"[a-z][a-z0-9+.-]*:|#|/", target, re.I)):
            return match.group(0)
        path, hash_, fragment = target.partition("#")
        moved = os.path.relpath(os.path.join(source_dir, path), card_dir)
        return match.group(1) + moved + hash_ + fragment

    lines, fenced = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            spans = [m.span() for m in _CODE_SPAN.finditer(line)]
            line = _LINK_TARGET.sub(lambda m: rebase(m, spans), line)
        lines.append(line)
    return "\n".join(lines)


def model_card(config: dict, info: dict, evaluation: str, notes: str = "") -> str:
    """The Markdown model card of an export (``info``: the config's ``export`` section)."""
    model, dataset = config["model"], config["dataset"]
    sources = _sources(dataset)
    if len(sources) > 1:
        weights = dataset.get("mix_weights") or ()
        mixing = (f"mixed with weights {list(weights)}" if weights else
                  "mixed in proportion to their sizes")
    else:
        mixing = ""
    data = " + ".join(f"`{n}` (split `{sp}`)" for n, sp in sources) + (
        f", {mixing}" if mixing else "")
    kind, scale = info["kind"], info.get("stroke_scale")
    wall = info.get("total_wall_seconds")
    drawer = kind == "sketchembednet"
    units = (f"multiply `dx, dy` by `stroke_scale` = {scale:.6g} (`config.json` -> "
             "`export.stroke_scale`) for the dataset's units" if scale is not None else
             "the dataset's offsets divided by its `stroke_scale`, unknown at export time")
    scales = info.get("source_stroke_scales") or []
    if len(scales) > 1:
        units += ("; each training source was divided by its own scale (" + ", ".join(
            f"`{s['name']}` {s['stroke_scale']:.6g}" if s.get("stroke_scale") is not None
            else f"`{s['name']}` unknown" for s in scales) + "; `export.source_stroke_scales`)")
    return _CARD.format(
        title=_KIND_NAMES.get(kind, kind), preset=model.get("preset"),
        dataset=" + ".join(n for n, _ in sources), data=data,
        names=_words([f"`{n}`" for n, _ in sources]),
        exported=info["exported"], version=info["sketchembednet_version"],
        workdir=info["workdir"], kind=kind, encoder=model.get("encoder"),
        dim=info["embedding_dim"], size="x".join(str(d) for d in info["image_shape"]),
        parts=("`encoder/` (images -> embedding) and `decoder/` (embedding -> stroke-5 "
               "sketch; a renderer)") if drawer else (
            f"`encoder/` only (a `{kind}` baseline has no sketch decoder)"),
        decoder=(f"; HyperLSTM decoder {model.get('rnn_units')} / hyper "
                 f"{model.get('hyper_units')}, {model.get('num_mixtures')} mixtures, up to "
                 f"T = {info['max_len']} steps") if drawer else "",
        max_len=dataset.get("max_len"),
        step=info.get("checkpoint_step", "?"), checkpoint=os.path.basename(info["checkpoint"]),
        steps_run=info.get("total_steps_run", "?"),
        wall="?" if wall is None else f"{wall / 60:.1f} min",
        batch=config.get("train", {}).get("batch_size", "?"), replicas=info.get("replicas", "?"),
        command=(f"`{info['train_command']}`" if info.get("train_command") else
                 "not recorded in the workdir (the resolved config is `config.json`)."),
        licence="; ".join(dict.fromkeys(_licence(n) for n, _ in sources)),
        use=("Research on learning by drawing; conditional sketch generation (`decoder/`)."
             if drawer else "A research baseline for SketchEmbedNet."),
        decoder_limits=(f"- Decoder offsets are in normalised units: {units}.\n- Sampled "
                        "sketches are plausible drawings of the embedding, not faithful "
                        "vectorisations of the input.\n") if drawer else "",
        format_version=info.get("format_version"),
        format_note=FORMAT_NOTES.get(info.get("format_version"), ""),
        framing_text=_FRAMING_TEXT[info.get("framing", "none")].format(
            size="x".join(str(d) for d in info["image_shape"][:2]),
            extent=framing_lib.ink_extent(int(info["image_shape"][0]))),
        framing_limits=_FRAMING_LIMITS[info.get("framing", "none")],
        evaluation=evaluation, notes=f"\n## Notes\n\n{notes.strip()}\n" if notes.strip() else "",
    )



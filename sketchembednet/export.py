r"""Exports a training workdir as SavedModels that are TF Hub modules, with a model card.

    python -m sketchembednet.export --workdir=runs/kanjivg-cpu --out=exported/kanjivg-cpu \
        [--checkpoint=runs/kanjivg-cpu/checkpoints/ckpt-2000] \
        [--results_json=docs/results/omniglot_background.json] [--overwrite]

writes (see :func:`export`)::

    <out>/encoder/     SavedModel: images -> embedding mu [n, D]
    <out>/decoder/     SavedModel: sample(z, ...) -> stroke-5, render(stroke5, size) -> images
                       (SketchEmbedNet only: the baselines' decoders draw no sketches)
    <out>/config.json  the workdir's resolved training config plus an "export" section
    <out>/README.md    a model card

**Encoder input contract.** ``images``: uint8 ``[n, H, W, C]``, white background (255),
black ink, any ``H`` and ``W`` and ``C`` in {1, 3}. Inside the module the channels are
converted to the model's (``tf.image.rgb_to_grayscale`` or gray -> RGB), the images are
resized to the model's ``S x S`` with ``tf.image.resize(method="area")`` (skipped when
already ``S x S``; non-square images are stretched) and fed to the encoder as float
0..255, exactly as the evaluator does (the encoders normalise raw pixels themselves).
Signatures: ``serving_default`` (uint8, output ``embedding``) and ``serving_float``
(float32 0..255); ``__call__(images)`` is the uint8 one. The embedding is the encoder
mean mu in inference mode (BatchNorm moving statistics).

**Decoder.** ``sample(z [n, D] float32, temperature float32 [], max_len int32 [],
greedy bool [], seed int32 [])`` returns ``stroke5`` float32 ``[n, max_len + 1, 5]`` (row
0 is the start token ``(0, 0, 1, 0, 0)``; rows after a sketch's end are end tokens
``(0, 0, 0, 0, 1)``) and ``lengths`` int32 ``[n]`` (rows before the end token), as
``SketchEmbedNet.sample``; ``1 <= max_len <=`` the trained T. Offsets ``(dx, dy)`` are in
the model's normalised units: multiply by ``stroke_scale`` (``config.json`` ->
``export.stroke_scale``) for the dataset's units. ``render(stroke5 [n, L, 5],
canvas_size int32 [])`` returns ``images`` uint8 ``[n, S', S', 1]`` (as
``rasterize.render_images``) and ``intensity`` float32 (ink in 0..1); sketches are fitted
to the canvas, so the units do not matter. ``__call__(z)`` is a greedy full-length sample.

Both SavedModels are reusable in the TF Hub sense: the saved object has ``variables``,
``trainable_variables``, ``regularization_losses`` (empty) and ``__call__``, so
``hub.load``, ``hub.KerasLayer`` (tf_keras) and ``keras.layers.TFSMLayer`` (Keras 3,
``call_endpoint="serving_default"``) work without sketchembednet installed. Only the
encoder's variables are in ``encoder/`` and only the decoder's in ``decoder/``; no
optimizer state. Fine-tune by rebuilding the model from code: :func:`load_for_finetuning`.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile

import tensorflow as tf
from absl import logging

ENCODER = "encoder"
DECODER = "decoder"
FORMAT_VERSION = 1  # of config.json's "export" section

_KIND_NAMES = {"sketchembednet": "SketchEmbedNet", "conv_vae": "Conv-VAE baseline",
               "contrastive": "Contrastive baseline"}

_LICENCES = (  # (dataset name prefix, training data and licence)
    ("kanjivg", "KanjiVG (Ulrich Apel and contributors, https://kanjivg.tagaini.net), "
                "licensed under CC BY-SA 3.0"),
    ("quickdraw", "The Quick, Draw! dataset (Google, https://quickdraw.withgoogle.com/data), "
                  "licensed under CC BY 4.0"),
    ("omniglot", "Omniglot (Lake, Salakhutdinov & Tenenbaum 2015), MIT licence"),
    ("sketchy", "The Sketchy database (Sangkloy et al. 2016); this project records no "
                "licence for it: check the dataset's own terms before redistributing"),
)


# ------ Preprocessing (runs inside the encoder module; usable from Python too)
def preprocess_images(images, image_shape) -> tf.Tensor:
    """Images as the exported encoder feeds them to the model: float32 ``[n, S, S, C]``.

    Args:
      images: uint8 or float (0..255) ``[n, H, W, C]``, ``C`` in {1, 3}, white background.
      image_shape: the model's ``(S, S, C)``.

    Returns:
      Channels converted to ``C`` (``rgb_to_grayscale`` / gray -> RGB), area-resized to
      ``S x S`` (unchanged, only cast, when already that size), float32 0..255.

    Raises:
      ValueError (static shapes) or ``tf.errors.InvalidArgumentError`` (at run time):
        for images that are not rank 4 or have a channel count other than 1 or 3.

    Example:
      >>> preprocess_images(tf.fill([2, 105, 105, 3], tf.constant(255, tf.uint8)),
      ...                   (28, 28, 1)).shape
      TensorShape([2, 28, 28, 1])
    """
    size, channels = int(image_shape[0]), int(image_shape[-1])
    images = tf.convert_to_tensor(images)
    if images.shape.rank is not None and images.shape.rank != 4:
        raise ValueError(f"images must be [n, H, W, C], got shape {images.shape}")
    images = tf.ensure_shape(images, [None, None, None, None])

    def convert(c_in):  # c_in: the input's channel count (a Python int)
        x = tf.ensure_shape(images, [None, None, None, c_in])
        if c_in == channels:
            return x
        return tf.image.rgb_to_grayscale(x) if channels == 1 else tf.image.grayscale_to_rgb(x)

    static_c = images.shape[-1]
    if static_c is not None:
        if static_c not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels, got shape {images.shape}")
        images = convert(static_c)
    else:
        c_in = tf.shape(images)[-1]
        check = tf.debugging.Assert(tf.logical_or(tf.equal(c_in, 1), tf.equal(c_in, 3)),
                                    ["images must have 1 or 3 channels; got", c_in])
        with tf.control_dependencies([check]):
            c_in = tf.identity(c_in)
        images = tf.cond(tf.equal(c_in, 1), lambda: convert(1), lambda: convert(3))
    images = tf.ensure_shape(images, [None, None, None, channels])
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    images = tf.cond(
        tf.logical_and(tf.equal(height, size), tf.equal(width, size)),
        lambda: tf.cast(images, tf.float32),
        lambda: tf.image.resize(images, [size, size], method="area"),
    )
    return tf.ensure_shape(images, [None, size, size, channels])  # float32 0..255


def _render(stroke5, canvas_size):
    """``rasterize.render_images`` with ``canvas_size`` a tensor (images and intensity)."""
    from sketchembednet.data import rasterize

    stroke5 = tf.cast(stroke5, tf.float32)  # [n, L, 5]
    size = tf.cast(canvas_size, tf.float32)
    padding = 2.0 * tf.round(size / 10.0)  # rasterize.default_padding (round half to even)
    points, segment_mask, point_mask = rasterize.stroke5_to_points(stroke5)
    scale, offset = rasterize.bbox_transform(points, point_mask, size, padding)
    intensity = rasterize.rasterize(points * scale + offset, segment_mask, canvas_size)
    images = tf.cast(tf.round(255.0 * (1.0 - intensity)), tf.uint8)  # [n, S', S', 1]
    return {"images": images, "intensity": intensity}


# ------ The saved objects
def _exported_variables(keras_variables) -> list:
    """The variables worth exporting: all but RNG states (unused in inference)."""
    return [v for v in keras_variables if "seed_generator" not in v.path]


def _relative_path(variable) -> str:
    """``block0/conv/kernel`` of ``sketch_embed_net/conv4_encoder/block0/conv/kernel``:
    the path below the model and sub-model names (those get process-dependent suffixes)."""
    return "/".join(variable.path.split("/")[2:])


class _ReusableModule(tf.Module):
    """A TF Hub "reusable SavedModel": ``variables``, ``trainable_variables``,
    ``regularization_losses`` and a ``__call__`` tf.function, all saved attributes."""

    # Plain class attributes, so instances can set these names (tf.Module defines them as
    # read-only properties); the instance values are saved as tracked lists.
    variables = None
    trainable_variables = None
    regularization_losses = None

    def __init__(self, name, keras_variables, unused=()):
        super().__init__(name=name)
        exported = _exported_variables(keras_variables)
        self.variables = [v.value for v in exported]  # the tf.Variables the functions read
        # Weights the functions never read (``unused`` path parts) are saved but not
        # trainable here: fine-tuning through the module could not change them.
        self.trainable_variables = [v.value for v in exported if v.trainable
                                    and not any(part in v.path for part in unused)]
        self.regularization_losses = []


class _EncoderModule(_ReusableModule):
    """Saved as ``encoder/``: images (any size, 1 or 3 channels) -> mu ``[n, D]``."""

    def __init__(self, model, image_shape):
        # mu only: the log-variance head is unused (kept for load_for_finetuning).
        super().__init__("sketchembednet_encoder", model.encoder.variables,
                         unused=("/embedding/logvar/",))
        image_shape = tuple(int(d) for d in image_shape)

        def embed(images):
            return model.embed(preprocess_images(images, image_shape))  # [n, D]

        uint8 = tf.TensorSpec([None, None, None, None], tf.uint8, name="images")
        float32 = tf.TensorSpec([None, None, None, None], tf.float32, name="images")
        self.__call__ = tf.function(embed, input_signature=[uint8])
        self.embed_float = tf.function(embed, input_signature=[float32])
        # Not an attribute: a tracked dict would save these functions a second time.
        self._signature_fns = lambda: {
            "serving_default": tf.function(lambda images: {"embedding": embed(images)},
                                           input_signature=[uint8]),
            "serving_float": tf.function(lambda images: {"embedding": embed(images)},
                                         input_signature=[float32]),
        }


class _DecoderModule(_ReusableModule):
    """Saved as ``decoder/``: ``sample`` embeddings into stroke-5, ``render`` stroke-5."""

    def __init__(self, model):
        from sketchembednet import sampling

        super().__init__("sketchembednet_decoder", model.decoder.variables)
        decoder = model.decoder
        max_steps = int(model.max_seq_len)
        z_spec = tf.TensorSpec([None, model.encoder.embedding_dim], tf.float32, name="z")

        def sample(z, temperature, max_len, greedy, seed):
            checks = [
                tf.debugging.assert_less_equal(
                    max_len, max_steps, message=f"max_len must be <= the trained T={max_steps}"),
                tf.debugging.assert_positive(max_len, message="max_len must be >= 1"),
            ]
            with tf.control_dependencies(checks):
                max_len = tf.identity(max_len)
            stroke5, lengths = tf.cond(
                greedy,
                lambda: sampling.sample(decoder, z, max_len, temperature, True, seed),
                lambda: sampling.sample(decoder, z, max_len, temperature, False, seed),
            )
            return {"stroke5": stroke5, "lengths": lengths}  # [n, max_len + 1, 5], [n]

        sample_specs = [
            z_spec,
            tf.TensorSpec([], tf.float32, name="temperature"),
            tf.TensorSpec([], tf.int32, name="max_len"),
            tf.TensorSpec([], tf.bool, name="greedy"),
            tf.TensorSpec([], tf.int32, name="seed"),
        ]
        render_specs = [
            tf.TensorSpec([None, None, 5], tf.float32, name="stroke5"),
            tf.TensorSpec([], tf.int32, name="canvas_size"),
        ]

        def render(stroke5, canvas_size):
            check = tf.debugging.assert_positive(canvas_size, message="canvas_size must be >= 1")
            with tf.control_dependencies([check]):
                return _render(stroke5, tf.identity(canvas_size))

        def greedy_sketch(z):
            return sampling.sample(decoder, z, max_steps, 1.0, True, 0)[0]  # [n, T + 1, 5]

        self.sample = tf.function(sample, input_signature=sample_specs)
        self.render = tf.function(render, input_signature=render_specs)
        self.__call__ = tf.function(greedy_sketch, input_signature=[z_spec])
        self._signature_fns = lambda: {"serving_default": self.sample, "sample": self.sample,
                                       "render": self.render}


# ------ Workdir facts
def _read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _stroke_scale(config: dict):
    """The dataset's ``stroke_scale`` from its prepared TFDS info; None if not available."""
    try:
        import tensorflow_datasets as tfds

        import tfds_builders  # noqa: F401  (registers the project's builders)

        dataset = config["dataset"]
        builder = tfds.builder(dataset["name"], data_dir=dataset.get("data_dir") or None)
        scale = (builder.info.metadata or {}).get("stroke_scale")
        return None if scale is None else float(scale)
    except Exception as e:  # noqa: BLE001  (a missing dataset must not stop an export)
        logging.warning("stroke_scale unknown: %s", e)
        return None


def _licence(dataset_name: str) -> str:
    for prefix, text in _LICENCES:
        if dataset_name.startswith(prefix):
            return text
    return (f"`{dataset_name}`: this project records no licence for it; check the dataset's "
            "own terms")


def _sources(dataset: dict) -> list[tuple[str, str]]:
    """``(name, split)`` of every training source: the dataset and its ``mix``."""
    sources = [(dataset["name"], dataset.get("train_split", "?"))]
    return sources + [(m["name"], m.get("split") or "train") for m in dataset.get("mix") or ()]


def _evaluation_rows(results_json: str | None, workdir: str):
    """``(rows, meta)`` of a results file (``tools/results_table.py --json``): every row,
    with ``this_model`` set on the rows of ``workdir``."""
    if not results_json:
        return [], None
    results = _read_json(results_json)
    if results is None:
        raise FileNotFoundError(f"--results_json={results_json}: not found")
    here = os.path.realpath(workdir)
    rows = [dict(r, this_model=bool(r.get("workdir"))
                 and os.path.realpath(r["workdir"]) == here) for r in results.get("rows", [])]
    note = None if any(r["this_model"] for r in rows) else (
        f"No evaluation of this model was recorded: no row of `{os.path.basename(results_json)}`"
        " names its workdir. The file's rows (other models) are shown for comparison only.")
    return rows, dict(note=note, episodes=results.get("episodes"),
                      command=results.get("command"), source=results_json)


def _evaluation_markdown(rows, meta) -> str:
    from sketchembednet.evaluation import results as results_lib

    if not rows:
        return "No evaluation was recorded for this export (no `--results_json` given).\n"
    lines = [] if not meta.get("note") else [meta["note"], ""]
    lines += [f"Few-shot accuracy (%) on the Omniglot background set, "
             f"{meta.get('episodes') or '?'} episodes per setting, mean ± 95% CI "
             f"(from `{os.path.basename(meta['source'])}`)."]
    if meta.get("command"):
        lines += ["", "```bash", meta["command"], "```"]
    settings = results_lib.SETTINGS
    header = " | ".join(f"{w}-way {s}-shot" for w, s in settings)
    lines += ["", f"| model | {header} |", "|---" * (len(settings) + 1) + "|"]
    for row in rows:
        cells = []
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

- Kind `{kind}`, preset `{preset}`: `{encoder}` encoder, embedding dimension {dim}{decoder}.
- Input: uint8 `[n, H, W, C]`, white background (255), black ink, any size, C in {{1, 3}};
  converted to {size} inside the module (channels, then area resize). Output: the
  embedding mu `[n, D]` float32 (`embedding`).
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

- Trained only on {names}; other domains (natural photos, inverted colours, text
  documents) are out of distribution: embeddings there are not meaningful without
  fine-tuning.
- Inputs are resized to {size}: fine detail is lost and non-square images are stretched
  (pad them to square first).
- Not evaluated for fairness, robustness or safety-critical use.
{decoder_limits}
## Evaluation

{evaluation}{notes}
## Usage

```python
import tensorflow_hub as hub
encoder = hub.load("<this folder>/encoder")
mu = encoder(images_uint8)  # [n, H, W, C] -> [n, D]
```

Also `hub.KerasLayer("<this folder>/encoder")` (tf_keras) and
`keras.layers.TFSMLayer("<this folder>/encoder", call_endpoint="serving_default")` (Keras 3).
Fine-tuning: `sketchembednet.export.load_for_finetuning("<this folder>")` rebuilds the Keras
model from `config.json` and loads these weights.
"""


def _model_card(config: dict, info: dict, evaluation: str, notes: str = "") -> str:
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
    return _CARD.format(
        title=_KIND_NAMES.get(kind, kind), preset=model.get("preset"),
        dataset=" + ".join(n for n, _ in sources), data=data,
        names=" and ".join(f"`{n}`" for n, _ in sources),
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
        evaluation=evaluation, notes=f"\n## Notes\n\n{notes.strip()}\n" if notes.strip() else "",
    )


# ------ Export
def _export_info(model, config, image_shape, workdir, source, train_command) -> dict:
    """The ``export`` section of the exported config.json."""
    import sketchembednet

    kind = config["model"].get("kind", "sketchembednet")
    result = _read_json(os.path.join(workdir, "train_result.json")) or {}
    suffix = source.rsplit("-", 1)[-1]
    return dict(
        format_version=FORMAT_VERSION,
        sketchembednet_version=sketchembednet.__version__,
        exported=datetime.date.today().isoformat(),
        kind=kind,
        image_shape=list(image_shape),
        embedding_dim=int(model.encoder.embedding_dim),
        max_len=int(config["dataset"]["max_len"]),
        stroke_scale=_stroke_scale(config),
        workdir=os.path.abspath(workdir),
        checkpoint=os.path.abspath(source),
        checkpoint_step=int(suffix) if suffix.isdigit() else None,
        total_steps_run=result.get("total_steps_run"),
        total_wall_seconds=result.get("total_wall_seconds"),
        final_step=result.get("train/step"),
        replicas=result.get("replicas"),
        train_command=train_command,
        encoder_variables=[_relative_path(v) for v in _exported_variables(
            model.encoder.variables)],
        decoder_variables=[_relative_path(v) for v in _exported_variables(
            model.decoder.variables)] if kind == "sketchembednet" else None,
    )


def _prepare_out(out: str, overwrite: bool) -> None:
    if os.path.exists(out) and os.listdir(out):
        if not overwrite:
            raise FileExistsError(f"{out}: exists and is not empty; pass overwrite=True "
                                  "(--overwrite) to replace an earlier export")
        if not os.path.exists(os.path.join(out, "config.json")) or not os.path.isdir(
                os.path.join(out, ENCODER)):
            raise FileExistsError(f"{out}: not an earlier export (no config.json and "
                                  f"{ENCODER}/); refusing to replace it")


def export(workdir: str, out: str, checkpoint: str | None = None,
           results_json: str | None = None, overwrite: bool = False,
           train_command: str | None = None, notes: str | None = None) -> dict:
    """Exports a training workdir's model as SavedModels / TF Hub modules and a model card.

    Args:
      workdir: a ``sketchembednet.trainer`` workdir (``config.json``, ``checkpoints/``).
      out: the export folder (created; see the module docstring for its layout).
      checkpoint: a checkpoint prefix to export instead of the latest one.
      results_json: optional few-shot results (``tools/results_table.py --json``, as
        ``docs/results/omniglot_background.json``) for the model card: every row, this
        workdir's marked (a note says so if none is). Without it the card says that no
        evaluation was recorded.
      overwrite: replace an earlier export in ``out`` (other non-empty folders are refused).
      train_command: the training command, for the model card (``train --export`` passes it).
      notes: Markdown appended to the model card as a "Notes" section (e.g. how the
        configuration was chosen).

    Returns:
      dict of paths: ``out``, ``encoder``, ``decoder`` (None for the ``conv_vae`` and
      ``contrastive`` baselines: they have no sketch decoder), ``config`` and ``readme``.

    Raises:
      FileNotFoundError: naming the workdir if it has no config.json or no checkpoint,
        or a missing ``results_json``.
      FileExistsError: if ``out`` is not empty and not replaceable (see ``overwrite``).

    Example:
      >>> paths = export("runs/kanjivg-cpu", "exported/kanjivg-cpu")  # doctest: +SKIP
      >>> import tensorflow_hub as hub  # doctest: +SKIP
      >>> hub.load(paths["encoder"])(images_uint8).shape  # doctest: +SKIP
      TensorShape([8, 256])
    """
    from sketchembednet.evaluation import loading

    out = os.path.abspath(out)
    _prepare_out(out, overwrite)
    model, config, source = loading.model_from_workdir(workdir, checkpoint)
    image_shape = tuple(int(d) for d in loading.dataset_image_shape(config))
    kind = config["model"].get("kind", "sketchembednet")
    rows, meta = _evaluation_rows(results_json, workdir)
    info = _export_info(model, config, image_shape, workdir, source, train_command)
    info["evaluation"] = dict(meta, rows=rows) if rows else None

    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(out) + ".tmp-", dir=parent)
    try:
        encoder = _EncoderModule(model, image_shape)
        tf.saved_model.save(encoder, os.path.join(tmp, ENCODER),
                            signatures=encoder._signature_fns())
        if kind == "sketchembednet":
            decoder = _DecoderModule(model)
            tf.saved_model.save(decoder, os.path.join(tmp, DECODER),
                                signatures=decoder._signature_fns())
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(dict(config, export=info), f, indent=2, sort_keys=True)
        with open(os.path.join(tmp, "README.md"), "w") as f:
            f.write(_model_card(config, info, _evaluation_markdown(rows, meta), notes or ""))
        if os.path.exists(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logging.info("exported %s (%s) to %s", source, kind, out)
    has_decoder = kind == "sketchembednet"
    return dict(out=out, encoder=os.path.join(out, ENCODER),
                decoder=os.path.join(out, DECODER) if has_decoder else None,
                config=os.path.join(out, "config.json"), readme=os.path.join(out, "README.md"))


# ------ Fine-tuning
def _load_into(saved_model_dir: str, keras_variables, expected_paths) -> None:
    """Reads a module's saved ``variables`` (in order) into the matching Keras variables."""
    targets = _exported_variables(keras_variables)
    paths = [_relative_path(v) for v in targets]
    if expected_paths is not None and paths != list(expected_paths):
        mismatch = next((f"{a!r} != {b!r}" for a, b in zip(paths, expected_paths) if a != b),
                        f"{len(paths)} != {len(expected_paths)} variables")
        raise ValueError(f"{saved_model_dir}: the model rebuilt from config.json does not match "
                         f"the exported variables ({mismatch}); use the sketchembednet version "
                         "that exported it")
    checkpoint = tf.train.Checkpoint(variables=[v.value for v in targets])
    prefix = os.path.join(saved_model_dir, "variables", "variables")
    checkpoint.read(prefix).assert_existing_objects_matched()


def load_for_finetuning(export_dir: str):
    """The Keras model of an export, rebuilt from code, with the exported weights.

    The supported way to fine-tune (SavedModels carry functions, not Keras layers):
    ``trainer.build_model`` on the exported ``config.json`` and the export's image shape,
    then the encoder's variables are read from ``encoder/`` and, for SketchEmbedNet, the
    decoder's from ``decoder/``. The baselines' other parts (the Conv-VAE's pixel
    decoder, the contrastive sketch LSTM) are not exported and keep their fresh
    initialisation. The model takes images at its own size, float 0..255
    (:func:`preprocess_images` converts others as the export does).

    Args:
      export_dir: a folder written by :func:`export`.

    Returns:
      The built Keras model (``SketchEmbedNet``, ``ConvVAE`` or ``ContrastiveEmbedNet``):
      ``model.embed(images)`` is the exported encoder's embedding; ``model.encoder`` the
      encoder alone; ``model.compute_losses`` for training.

    Raises:
      FileNotFoundError: if ``export_dir`` has no config.json.
      ValueError: if the rebuilt model's variables do not match the exported ones.

    Example:
      >>> model = load_for_finetuning("exported/kanjivg-cpu")  # doctest: +SKIP
      >>> with tf.GradientTape() as tape:  # doctest: +SKIP
      ...     loss = model.compute_losses(images, stroke5, alpha=0.5, training=True)["loss"]
    """
    from sketchembednet import trainer

    config = _read_json(os.path.join(export_dir, "config.json"))
    if config is None or "export" not in config:
        raise FileNotFoundError(f"{export_dir}: no config.json of an export")
    info = config["export"]
    model = trainer.build_model(config, tuple(info["image_shape"]))
    _load_into(os.path.join(export_dir, ENCODER), model.encoder.variables,
               info.get("encoder_variables"))
    if info["kind"] == "sketchembednet":
        _load_into(os.path.join(export_dir, DECODER), model.decoder.variables,
                   info.get("decoder_variables"))
    else:
        logging.info("%s: a %s model; only its encoder is exported (the rest is freshly "
                     "initialised)", export_dir, info["kind"])
    return model


# ------ Command line
def main(argv):
    from absl import app
    from absl import flags

    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    values = flags.FLAGS
    notes = None
    if values.notes:
        with open(values.notes) as f:
            notes = f.read()
    paths = export(values.workdir, values.out, values.checkpoint or None,
                   values.results_json or None, values.overwrite,
                   values.train_command or None, notes)
    print(f"exported {values.workdir} to {paths['out']}")


def run():
    """Entry point; the flags are defined here so that importing this module (as
    ``train --export`` does) defines none."""
    from absl import app
    from absl import flags

    flags.DEFINE_string("workdir", None, "Training workdir to export.", required=True)
    flags.DEFINE_string("out", None, "Export folder, e.g. exported/<name>.", required=True)
    flags.DEFINE_string("checkpoint", "", "Checkpoint prefix (default: the latest).")
    flags.DEFINE_string("results_json", "",
                        "Few-shot results (tools/results_table.py --json) for the model card.")
    flags.DEFINE_bool("overwrite", False, "Replace an earlier export in --out.")
    flags.DEFINE_string("train_command", "", "The command that trained the workdir (model card).")
    flags.DEFINE_string("notes", "", "A Markdown file appended to the model card as Notes.")
    app.run(main)


if __name__ == "__main__":
    run()

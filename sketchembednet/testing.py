"""Reusable keras-hub-style checks for sketchembednet layers and models.

Importable from every test (``from sketchembednet import testing``):

* :func:`assert_config_round_trip`: ``get_config`` -> JSON -> ``from_config`` gives an
  object of the same class with the same config.
* :func:`assert_save_load_equal`: a ``.keras`` save and load gives identical outputs
  and weights (layers are wrapped in a small registered model for this).
* :func:`assert_gradients_reach_all_weights`: every variable gets a finite, non-zero
  gradient from a loss.
* :func:`run_layer_test`: all of the above plus eager == ``tf.function`` for a layer.
* :func:`random_stroke5`: random stroke-5 sketches of random lengths, for model tests.
* :func:`make_fake_workdir`: a training workdir of a ``demo:tiny`` model with random
  weights, written as training writes it, without training or data.
* :func:`draw_page`: polylines drawn as a user's page (PIL lines, not this project's
  renderer) at a given size, line width, position and polarity.
* :func:`photographed_page`: polylines on a page as a phone or scanner saves it (RGB,
  uneven light, noise, JPEG).
* :func:`shared_quickdraw_stroke3`: real drawings of the shared data pack;
  :func:`kanjivg_stroke3`: KanjiVG characters of the installed ``kanjivg`` package.
* :func:`training_batch`: drawings as the training pipeline renders and scales them.

Example:
  >>> from sketchembednet.layers.mixture_density_head import MixtureDensityHead
  >>> _ = assert_config_round_trip(MixtureDensityHead(num_mixtures=2))
"""

import json
import os
import pathlib
import tempfile

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="sketchembednet_testing")
class _LayerModel(keras.Model):
    """Wraps one layer as a model so it can go through a ``.keras`` file.

    ``call(args)`` returns ``layer(*args, **call_kwargs)``; ``build`` builds the layer
    with the shape of its first argument.
    """

    def __init__(self, layer, call_kwargs=None, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer
        self.call_kwargs = dict(call_kwargs or {})

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(tuple(input_shape[0]))

    def call(self, args):
        return self.layer(*args, **self.call_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(
            layer=keras.saving.serialize_keras_object(self.layer), call_kwargs=self.call_kwargs
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        return cls(**config)


def _normalise(config):
    return json.loads(json.dumps(config, sort_keys=True))


def assert_config_round_trip(obj):
    """Checks that ``obj``'s config survives JSON and rebuilds the same class.

    Returns:
      The restored object.

    Raises:
      AssertionError: naming the first difference.
    """
    serialized = keras.saving.serialize_keras_object(obj)
    text = json.dumps(serialized)  # Fails loudly if the config is not JSON-serialisable.
    restored = keras.saving.deserialize_keras_object(json.loads(text))
    if type(restored) is not type(obj):
        raise AssertionError(f"restored {type(restored).__name__}, expected {type(obj).__name__}")
    before, after = _normalise(obj.get_config()), _normalise(restored.get_config())
    if before != after:
        diff = {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
                if before.get(k) != after.get(k)}
        raise AssertionError(f"{type(obj).__name__} config changed in the round trip: {diff}")
    return restored


def _assert_trees_equal(expected, actual, atol, what):
    expected_flat, actual_flat = keras.tree.flatten(expected), keras.tree.flatten(actual)
    if len(expected_flat) != len(actual_flat):
        raise AssertionError(
            f"{what}: {len(expected_flat)} tensors before, {len(actual_flat)} after"
        )
    for i, (a, b) in enumerate(zip(expected_flat, actual_flat)):
        np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=0, atol=atol, err_msg=f"{what}: tensor {i} differs"
        )


def assert_save_load_equal(obj, args, call_kwargs=None, atol=0.0, directory=None):
    """Saves ``obj`` (a model, or a layer) as ``.keras``, reloads it, compares outputs.

    Args:
      obj: a built or unbuilt ``keras.Model`` / ``keras.layers.Layer``.
      args: list of positional call arguments (a model gets ``args[0]``).
      call_kwargs: extra call keyword arguments (e.g. ``{"training": False}``).
      atol: tolerance (0: identical).
      directory: where to write the file (a temporary directory if None).

    Returns:
      The reloaded model.
    """
    call_kwargs = dict(call_kwargs or {})
    if isinstance(obj, keras.Model):
        model, run = obj, lambda m: m(args[0], **call_kwargs)
    else:
        model, run = _LayerModel(obj, call_kwargs), lambda m: m(list(args))
    expected = run(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(directory or tmp) / f"{type(obj).__name__}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
    _assert_trees_equal(expected, run(loaded), atol, f"{type(obj).__name__} outputs after load")
    # Weights (not seed-generator states, which Keras does not save) compared in order.
    if len(model.weights) != len(loaded.weights):
        raise AssertionError(
            f"{len(model.weights)} weights before the save, {len(loaded.weights)} after"
        )
    for before, after in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(
            before.numpy(), after.numpy(), err_msg=f"variable {before.path} vs {after.path}"
        )
    return loaded


def perturb_weights(variables, stddev=0.01, seed=0):
    """Adds N(0, stddev) noise to each variable, so zero-initialised factors (e.g. a
    HyperNorm's beta projection) do not block the gradient of their partners."""
    rng = np.random.default_rng(seed)
    for v in variables:
        v.assign(v.numpy() + rng.normal(0.0, stddev, v.shape).astype(v.dtype))


def assert_gradients_reach_all_weights(loss_fn, variables, what="loss"):
    """Checks that every variable gets a finite, non-zero gradient from ``loss_fn()``.

    Raises:
      AssertionError: listing the variables without a gradient, with a non-finite one,
        or with an all-zero one.
    """
    with tf.GradientTape() as tape:
        loss = loss_fn()
    grads = tape.gradient(loss, variables)
    missing, bad, zero = [], [], []
    for v, g in zip(variables, grads):
        if g is None:
            missing.append(v.path)
            continue
        g = tf.convert_to_tensor(g).numpy()
        if not np.all(np.isfinite(g)):
            bad.append(v.path)
        elif not np.any(g != 0):
            zero.append(v.path)
    if missing or bad or zero:
        raise AssertionError(
            f"{what}: no gradient for {missing}; non-finite for {bad}; all-zero for {zero}"
        )


def run_layer_test(layer_cls, init_kwargs, args, call_kwargs=None, expected_output_shape=None):
    """The standard layer harness: config round trip, eager == graph, ``.keras`` reload.

    Args:
      layer_cls: the layer class.
      init_kwargs: constructor arguments.
      args: list of positional call arguments.
      call_kwargs: extra call keyword arguments.
      expected_output_shape: optional shape of the (first) output.

    Returns:
      The layer, built and called once.
    """
    call_kwargs = dict(call_kwargs or {})
    layer = layer_cls(**init_kwargs)
    assert_config_round_trip(layer)
    eager = layer(*args, **call_kwargs)
    graph = tf.function(lambda *a: layer(*a, **call_kwargs))(*args)
    _assert_trees_equal(eager, graph, 1e-5, f"{layer_cls.__name__} eager vs tf.function")
    if expected_output_shape is not None:
        first = keras.tree.flatten(eager)[0]
        if tuple(first.shape) != tuple(expected_output_shape):
            raise AssertionError(
                f"output shape {tuple(first.shape)} != {tuple(expected_output_shape)}"
            )
    assert_config_round_trip(layer)  # Still round-trips once built.
    assert_save_load_equal(layer, args, call_kwargs)
    return layer


def make_fake_workdir(path, kind: str = "sketchembednet", steps: int = 20, seed: int = 0) -> str:
    """A workdir as training writes it (config.json, checkpoints/, train_result.json).

    The ``demo:tiny`` model of ``kind`` gets random (non-initial) weights; nothing is
    trained and no dataset is prepared (``config.dataset.data_dir`` is an empty
    folder under ``path``). Returns the workdir, ``path / "run"``.
    """
    from sketchembednet.configs import demo
    from sketchembednet.models import checkpoints
    from sketchembednet.models import factory

    path = pathlib.Path(path)
    config = demo.get_config("tiny")
    config.model.kind = kind
    config.dataset.data_dir = str(path / "tfds")  # Empty: no prepared dataset.
    os.makedirs(config.dataset.data_dir, exist_ok=True)
    model = factory.from_config(config, (28, 28, 1))
    rng = np.random.default_rng(seed)
    for v in model.variables:
        if v.dtype == "float32" and "alpha" not in v.path:
            noise = rng.normal(0.0, 0.1, v.shape).astype(np.float32)
            value = v.numpy() + noise
            v.assign(np.abs(value) + 0.5 if "moving_variance" in v.path else value)
    workdir = path / "run"
    manager = tf.train.CheckpointManager(checkpoints.make_checkpoint(model),
                                         str(workdir / "checkpoints"), max_to_keep=1)
    manager.save(checkpoint_number=steps)
    (workdir / "config.json").write_text(config.to_json_best_effort())
    result = {"train/step": steps, "total_steps_run": steps, "total_wall_seconds": 123.0,
              "replicas": 1}
    (workdir / "train_result.json").write_text(json.dumps(result))
    return str(workdir)


def random_stroke5(batch: int = 4, steps: int = 12, seed: int = 0, min_len: int = 4,
                   max_len: int | None = None) -> tf.Tensor:
    """Random stroke-5 sketches ``[batch, steps + 1, 5]`` of ``min_len..max_len`` real rows.

    Row 0 is the start token; each real row has a normal offset and a pen lift with
    probability 0.3 (always on the last one); the rest are end tokens.

    Example:
      >>> s5 = random_stroke5(2, steps=6, seed=1)
      >>> s5.shape, float(s5[0, 0, 2]), float(s5[0, -1, 4])
      (TensorShape([2, 7, 5]), 1.0, 1.0)
    """
    max_len = steps if max_len is None else max_len
    rng = np.random.default_rng(seed)
    s5 = np.zeros((batch, steps + 1, 5), "float32")
    s5[:, 0] = [0, 0, 1, 0, 0]
    for b in range(batch):
        length = int(rng.integers(min_len, max_len + 1))
        s5[b, 1:length + 1, :2] = rng.normal(size=(length, 2))
        lift = rng.random(length) < 0.3
        lift[-1] = True
        s5[b, 1:length + 1, 2], s5[b, 1:length + 1, 3] = 1 - lift, lift
        s5[b, length + 1:, 4] = 1
    return tf.constant(s5)


def draw_page(polylines, size=105, line_width=3, fill=0.6, position=(0.5, 0.5),
              invert=False, height=None) -> np.ndarray:
    """A page with a drawing on it, drawn by PIL (an independent renderer): uint8 ``[H, W, 1]``.

    Args:
      polylines: list of float ``[k, 2]`` ``(x, y)`` arrays (any units).
      size: page width (and height unless ``height``) in pixels.
      line_width: PIL line width in pixels.
      fill: the drawing's longer side as a fraction of the page's shorter side.
      position: where the drawing sits, ``(x, y)`` in 0..1 of the free space (0: left/top).
      invert: white ink on a black page.
      height: page height (default ``size``).

    Example:
      >>> page = draw_page([np.array([[0., 0.], [10., 10.]])], size=50, line_width=2)
      >>> page.shape, int(page.min()), int(page.max())
      ((50, 50, 1), 0, 255)
    """
    from PIL import Image, ImageDraw

    height = size if height is None else height
    points = np.concatenate(polylines)
    lo, hi = points.min(0), points.max(0)
    scale = fill * min(size, height) / max(float((hi - lo).max()), 1e-6)
    free = np.array([size, height]) - (hi - lo) * scale
    offset = free * np.asarray(position, np.float64)
    page = Image.new("L", (size, height), 255)
    draw = ImageDraw.Draw(page)
    for line in polylines:
        xy = [tuple(p) for p in (line - lo) * scale + offset]
        draw.line(xy * 2 if len(xy) == 1 else xy, fill=0, width=line_width, joint="curve")
    array = np.asarray(page, np.uint8)[..., None]
    return 255 - array if invert else array


def photographed_page(polylines, seed: int) -> np.ndarray:
    """A drawing photographed or scanned on a larger page: uint8 RGB ``[H, W, 3]``.

    Off-white paper lit unevenly, with sensor noise; dark blue-black ink of a pen 4-8 px
    wide; a margin of at least 10% on every side; pages of four sizes and aspect ratios
    (by ``seed``); JPEG-compressed (quality 60-90) as a phone or scanner saves it.

    Example:
      >>> page = photographed_page([np.array([[0., 0.], [10., 10.], [20., 0.]])], seed=1)
      >>> page.shape, page.dtype.name
      ((360, 270, 3), 'uint8')
    """
    import io

    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    width, height = [(360, 270), (270, 360), (480, 400), (600, 450)][seed % 4]
    points = np.concatenate(polylines)
    lo, hi = points.min(0), points.max(0)
    scale = rng.uniform(0.35, 0.6) * min(width, height) / max(float((hi - lo).max()), 1e-6)
    free = np.array([width, height]) - (hi - lo) * scale
    offset = free * rng.uniform(0.15, 0.85, 2)
    paper = tuple(int(v) for v in rng.integers(232, 252, 3))
    ink = tuple(int(v) for v in rng.integers(15, 60, 3))
    page = Image.new("RGB", (width, height), paper)
    draw = ImageDraw.Draw(page)
    for line in polylines:
        xy = [tuple(p) for p in (line - lo) * scale + offset]
        draw.line(xy * 2 if len(xy) == 1 else xy, fill=ink, width=int(rng.integers(4, 9)),
                  joint="curve")
    light = (np.linspace(1.0, rng.uniform(0.82, 0.95), width)[None, :, None]
             * np.linspace(1.0, rng.uniform(0.9, 1.0), height)[:, None, None])
    pixels = np.asarray(page, np.float32) * light + rng.normal(0.0, 3.0, (height, width, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
        buffer, "JPEG", quality=int(rng.integers(60, 91)))
    return np.asarray(Image.open(buffer).convert("RGB"))


def kanjivg_stroke3(chars: str) -> list:
    """Real KanjiVG drawings of ``chars`` as stroke-3 (KanjiVG units, RDP 1.0 as in the
    ``kanjivg`` dataset), from the installed ``kanjivg`` package.

    Example:
      >>> [len(s) > 0 for s in kanjivg_stroke3("木水")]
      [True, True]
    """
    from sketchembednet.data import kanjivg

    root = kanjivg.kanjivg_dir()
    return [kanjivg.load_drawing(root / f"{ord(c):05x}.svg").stroke3 for c in chars]


def training_batch(stroke3_list, scale: float, max_len: int = 64,
                   image_size: int = 28) -> tuple:
    """``(images uint8 [n, S, S, 1], stroke5 [n, max_len + 1, 5])`` as the training
    pipeline makes them (``pipeline.finish_batch``: rendered, then offsets divided by
    ``scale``, the dataset's ``stroke_scale``).

    Example:
      >>> images, stroke5 = training_batch(kanjivg_stroke3("木"), scale=20.3123)
      >>> images.shape, stroke5.shape
      ((1, 28, 28, 1), (1, 65, 5))
    """
    from sketchembednet.data import pipeline
    from sketchembednet.data import strokes

    raw = np.stack([strokes.stroke3_to_stroke5(s, max_len) for s in stroke3_list])
    n = len(stroke3_list)
    batch = pipeline.finish_batch(
        {"stroke5": tf.constant(raw), "length": tf.constant([len(s) for s in stroke3_list]),
         "scale": tf.fill([n], float(scale))}, image_size)
    return batch["image"].numpy(), batch["stroke5"].numpy()


def shared_quickdraw_stroke3(shared_data, classes=("cat", "house", "bicycle", "face", "tree"),
                             per_class: int = 5) -> list:
    """Real Quick, Draw! drawings of the shared pack: float32 stroke-3 ``[L, 3]`` each,
    the first ``per_class`` drawings of every class (in the 256-unit box, y down).

    Example:
      >>> drawings = shared_quickdraw_stroke3("../shared/data")  # doctest: +SKIP
    """
    from sketchembednet.data import quickdraw

    folder = pathlib.Path(shared_data) / "quickdraw" / "simplified_345cls_25each"
    drawings = []
    for name in classes:
        drawings += quickdraw.read_usable_simplified(folder / f"{name}.ndjson",
                                                     limit=per_class).stroke3
    return drawings

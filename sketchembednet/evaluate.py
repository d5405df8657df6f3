r"""Evaluates embeddings: few-shot episodes or a linear probe. Reads flags (a CLI).

    python -m sketchembednet.evaluate fewshot --workdir=runs/demo --dataset=omniglot_background \
        --data_path=$SKETCHEMBEDNET_SHARED_DATA/omniglot/npz_105x105/images_background.npz \
        --ways=20,5 --shots=1,5 --json=fewshot.json
    python -m sketchembednet.evaluate fewshot --random=cpu --dataset=folder:/path/to/classes
    python -m sketchembednet.evaluate fewshot --saved_model=export/ --dataset=mini_imagenet \
        --manual_dir=/data/mini_imagenet
    python -m sketchembednet.evaluate fewshot --random=cpu --dataset=omniglot_strokes/lake_small \
        --manual_dir=$SKETCHEMBEDNET_SHARED_DATA/omniglot/brendenlake
    python -m sketchembednet.evaluate linear_probe --workdir=runs/qd --dataset=quickdraw_unseen \
        --manual_dir=$SKETCHEMBEDNET_SHARED_DATA/quickdraw/simplified_345cls_25each

The model is one of ``--workdir`` (a training workdir: latest checkpoint),
``--saved_model`` (default signature: uint8 images -> embeddings) or
``--random=<preset>`` (the Random CNN baseline). Images are embedded once; every
``--ways`` x ``--shots`` setting reuses the embeddings. ``--episodes`` defaults
to the paper's: 2000 for Omniglot, 1000 for mini-ImageNet (2000 otherwise).
``omniglot_background`` reads ``--data_path`` (default: the npz of the shared
data pack at ``$SKETCHEMBEDNET_SHARED_DATA``). Images are framed by the input
preprocessor as the exported encoder frames them (``--framing``: ``fit_ink`` for
drawings, ``none`` for photos by default). Prints a table, writes ``--json``.
"""

import json
import os

from absl import app
from absl import flags

from sketchembednet import cli
from sketchembednet import paths

_WORKDIR = flags.DEFINE_string("workdir", "", "Training workdir to evaluate.")
_SAVED_MODEL = flags.DEFINE_string("saved_model", "", "SavedModel to evaluate.")
_ALLOW_UNTRAINED = flags.DEFINE_bool(
    "allow_untrained", False, "Evaluate a --workdir whose only checkpoint is the untrained "
    "step 0 (refused by default).")
_RANDOM = flags.DEFINE_string("random", "", "Preset of a randomly initialised encoder.")
_DATASET = flags.DEFINE_string(
    "dataset", "omniglot_background",
    "omniglot_background | omniglot_strokes/<config> | folder:<path> | mini_imagenet | "
    "quickdraw_seen | quickdraw_unseen | <TFDS name with image and label>.")
_SPLIT = flags.DEFINE_string("split", None, "TFDS split (default: the dataset's eval split).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir.")
_MANUAL_DIR = flags.DEFINE_string("manual_dir", None, "TFDS manual dir for building.")
_DATA_PATH = flags.DEFINE_string("data_path", None, "The npz of omniglot_background.")
_IMAGE_SIZE = flags.DEFINE_integer("image_size", None, "S for npz/folder data (default: model's).")
_CHANNELS = flags.DEFINE_integer("channels", None, "1 or 3 for folder data (default: model's).")
_ROTATIONS = flags.DEFINE_bool("rotations", False, "omniglot_background: add rotated classes.")
_FRAMING = flags.DEFINE_enum(
    "framing", "auto", ["auto", "fit_ink", "none"],
    "How images are framed before embedding (sketchembednet.data.preprocessing): fit_ink "
    "crops each to its ink and fits it as the training renders; none resizes whole images; "
    "auto: fit_ink for drawings, none for photos (mini_imagenet, RGB folders).")
_WAYS = flags.DEFINE_list("ways", ["20"], "N (comma-separated for several).")
_SHOTS = flags.DEFINE_list("shots", ["1"], "K (comma-separated for several).")
_EPISODES = flags.DEFINE_integer("episodes", None, "Episodes per setting.")
_NUM_QUERY = flags.DEFINE_integer("num_query", None, "Query examples per class (default: rest).")
_MIN_PER_CLASS = flags.DEFINE_integer("min_per_class", 0, "Keep classes with this many images.")
_MAX_PER_CLASS = flags.DEFINE_integer("max_per_class", None, "Use at most this many per class.")
_TRAIN_FRACTION = flags.DEFINE_float("train_fraction", 0.5, "linear_probe: train share.")
_SEED = flags.DEFINE_integer("seed", 0, "Episode / split seed (and the random encoder's).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 256, "Images per embedding call.")
_JSON = flags.DEFINE_string("json", "", "Write the results here.")

COMMANDS = ("fewshot", "linear_probe")


def _model(image_shape=None):
    from sketchembednet.evaluation import loading

    if _WORKDIR.value:
        fn = loading.embed_fn_from_workdir(_WORKDIR.value, allow_untrained=_ALLOW_UNTRAINED.value)
        return fn, {"workdir": _WORKDIR.value, "restored": fn.source}
    if _SAVED_MODEL.value:
        fn = loading.embed_fn_from_saved_model(_SAVED_MODEL.value)
        return fn, {"saved_model": _SAVED_MODEL.value}
    fn = loading.random_encoder_embed_fn(_RANDOM.value, image_shape, _SEED.value)
    return fn, {"random": _RANDOM.value, "seed": _SEED.value}


def _data(image_shape):
    from sketchembednet.evaluation import datasets

    data_path = _DATA_PATH.value
    if _DATASET.value == "omniglot_background" and not data_path:
        data_path = paths.shared_data_dir(datasets.SHARED_NPZ)
    data = datasets.load(
        _DATASET.value, split=_SPLIT.value, data_dir=_DATA_DIR.value,
        manual_dir=_MANUAL_DIR.value, data_path=data_path,
        image_size=_IMAGE_SIZE.value or (image_shape[0] if image_shape else 28),
        channels=_CHANNELS.value or (image_shape[-1] if image_shape else 1),
        rotations=_ROTATIONS.value, framing=_FRAMING.value)
    if _MIN_PER_CLASS.value or _MAX_PER_CLASS.value:
        data = datasets.select_per_class(data, _MIN_PER_CLASS.value, _MAX_PER_CLASS.value,
                                         _SEED.value)
    return data


def _model_and_data():
    if sum(bool(f.value) for f in (_WORKDIR, _SAVED_MODEL, _RANDOM)) != 1:
        raise app.UsageError("give exactly one of --workdir, --saved_model, --random")
    if _RANDOM.value:  # The random encoder takes the data's shape.
        data = _data(None)
        embed_fn, model = _model(data.image_shape)
    else:
        embed_fn, model = _model()
        data = _data(embed_fn.image_shape)
    if embed_fn.image_shape and data.image_shape != embed_fn.image_shape:
        raise app.UsageError(f"{data.name} has images {data.image_shape}; the model takes "
                             f"{embed_fn.image_shape}")
    return embed_fn, model, data


def _default_episodes(dataset: str) -> int:
    from sketchembednet.evaluation import fewshot

    if _EPISODES.value:
        return _EPISODES.value
    return fewshot.DEFAULT_EPISODES["mini_imagenet" if "mini_imagenet" in dataset else "omniglot"]


def _fewshot(embeddings, data) -> list:
    from sketchembednet.evaluation import fewshot

    results = []
    for ways in map(int, _WAYS.value):
        for shots in map(int, _SHOTS.value):
            results.append(fewshot.evaluate_embeddings(
                embeddings, data.labels, ways, shots, _default_episodes(_DATASET.value),
                _NUM_QUERY.value, _SEED.value, progress=True))
    print(f"{'ways':>5} {'shots':>5} {'episodes':>8}  accuracy (%)")
    for r in results:
        print(f"{r['ways']:>5} {r['shots']:>5} {r['episodes']:>8}  "
              f"{100 * r['accuracy']:.2f} ± {100 * r['ci95']:.2f}")
    return results


def _linear_probe(embeddings, data) -> list:
    from sketchembednet.evaluation import linear_probe

    result = linear_probe.evaluate_embeddings(embeddings, data.labels, _TRAIN_FRACTION.value,
                                              _SEED.value)
    print(f"{'classes':>7} {'train':>6} {'test':>6}  accuracy (%)")
    print(f"{result['num_classes']:>7} {result['num_train']:>6} {result['num_test']:>6}  "
          f"{100 * result['accuracy']:.2f}")
    return [result]


def _check_flags() -> None:
    """Checks the numeric flags before any data or model is loaded.

    Raises:
      app.UsageError: naming the flag and what it needs.
    """
    for flag, low in ((_WAYS, 2), (_SHOTS, 1)):
        try:
            values = [int(v) for v in flag.value]
        except ValueError:
            values = []
        if not values or min(values) < low:
            raise app.UsageError(f"--{flag.name}={','.join(flag.value)}: need comma-separated "
                                 f"integers >= {low}")
    for flag, low in ((_EPISODES, 1), (_NUM_QUERY, 1), (_BATCH_SIZE, 1), (_MIN_PER_CLASS, 0),
                      (_MAX_PER_CLASS, 1), (_IMAGE_SIZE, 1)):
        if flag.value is not None and flag.value < low:
            raise app.UsageError(f"--{flag.name}={flag.value}: need an integer >= {low}")
    if not 0.0 < _TRAIN_FRACTION.value < 1.0:
        raise app.UsageError(f"--train_fraction={_TRAIN_FRACTION.value}: need a number in (0, 1)")


def main(argv):
    if len(argv) != 2 or argv[1] not in COMMANDS:
        raise app.UsageError(f"usage: python -m sketchembednet.evaluate {{{'|'.join(COMMANDS)}}} "
                             f"--flags (got {argv[1:]})")
    _check_flags()
    from sketchembednet.evaluation import fewshot

    embed_fn, model, data = _model_and_data()
    embeddings = fewshot.compute_embeddings(embed_fn, data.images, _BATCH_SIZE.value)
    print(f"{data.name}: {len(data.labels)} images, {data.num_classes} classes, "
          f"shape {data.image_shape}; model {model}")
    results = (_fewshot if argv[1] == "fewshot" else _linear_probe)(embeddings, data)
    if _JSON.value:
        report = {"command": argv[1], "model": model, "dataset": data.name,
                  "framing": _FRAMING.value,
                  "num_images": len(data.labels), "num_classes": data.num_classes,
                  "results": results}
        os.makedirs(os.path.dirname(os.path.abspath(_JSON.value)), exist_ok=True)
        with open(_JSON.value, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {_JSON.value}")


if __name__ == "__main__":
    app.run(cli.one_line_errors(main))

"""Tests of the generation experiments (sketchembednet.evaluation.generation*, image_classifier):
sample grids, one-shot generation, recognisability."""

import doctest
import importlib
import json

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from sketchembednet.data import pipeline
from sketchembednet.data import quickdraw
from sketchembednet.data.errors import DataFileError
from sketchembednet.evaluation import generation
from sketchembednet.evaluation import generation_plots as plots
from sketchembednet.evaluation import generation_readouts as readouts
from sketchembednet.evaluation import generation_samples as samples
from sketchembednet.evaluation import generation_sets as gsets
from sketchembednet.evaluation import image_classifier
from sketchembednet.evaluation import seeding
from sketchembednet.evaluation.datasets import LabelledImages
from sketchembednet.models import presets

T = 12  # Sampled rows: short, to keep the tests fast.


@pytest.fixture(scope="module")
def model():
    net = presets.build_model("tiny", image_shape=(28, 28, 1), max_seq_len=T, seed=0)
    net.build(((None, 28, 28, 1), (None, T + 1, 5)))
    return net


@pytest.fixture(scope="module")
def bars_classifier():
    """A classifier of bars (output 0: vertical, 1: horizontal) and its training images."""
    train = bars(60, seed=0)
    return image_classifier.train_image_classifier(train, epochs=3, seed=0), train


def bars(per_class, seed=0, size=28):
    """Class 0: a vertical bar, class 1: a horizontal bar, at random places and lengths."""
    rng = np.random.default_rng(seed)
    images = np.full([2 * per_class, size, size, 1], 255, np.uint8)
    labels = np.repeat([0, 1], per_class)
    for image, label in zip(images, labels):
        at, lo = rng.integers(3, size - 4), rng.integers(2, 8)
        hi = rng.integers(size - 8, size - 2)
        if label == 0:
            image[lo:hi, at : at + 2] = 0
        else:
            image[at : at + 2, lo:hi] = 0
    return LabelledImages(images, labels, ["vertical", "horizontal"], name="bars")


def many_classes(classes=5, per_class=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(classes * per_class, 28, 28, 1)).astype(np.uint8)
    return LabelledImages(images, np.repeat(np.arange(classes), per_class), name="noise")


class Spy:
    """A model wrapper recording every image batch it embeds."""

    def __init__(self, net):
        self.net, self.max_seq_len, self.seen = net, net.max_seq_len, []

    def embed(self, images):
        self.seen.append(np.asarray(images))
        return self.net.embed(images)

    def sample(self, *args, **kwargs):
        return self.net.sample(*args, **kwargs)


@pytest.mark.parametrize("module", [generation, gsets, samples, plots, readouts,
                                    image_classifier, seeding],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


def test_pick_examples_spreads_over_classes_and_is_seeded():
    labels = np.repeat(np.arange(6), [1, 5, 5, 5, 5, 5])
    picked = gsets.pick_examples(labels, 6, seed=3)
    assert sorted(labels[picked].tolist()) == list(range(6))  # One of each class first.
    picked = gsets.pick_examples(labels, 12, seed=3)
    assert len(set(picked.tolist())) == 12
    counts = np.bincount(labels[picked])  # round robin: 6, then 5 (class 0 is used up), then 1
    assert counts[0] == 1 and sorted(counts[1:].tolist()) == [2, 2, 2, 2, 3]
    np.testing.assert_array_equal(picked, gsets.pick_examples(labels, 12, seed=3))
    assert not np.array_equal(picked, gsets.pick_examples(labels, 12, seed=4))
    assert len(gsets.pick_examples(labels, 100, seed=0)) == len(labels)


def test_split_per_class_is_disjoint_covers_each_class_and_is_seeded():
    labels = np.repeat([3, 7, 9], [10, 20, 2])
    train, test = gsets.split_per_class(labels, 0.25, seed=0)
    assert not set(train) & set(test)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(len(labels)))
    assert np.bincount(labels[test], minlength=10)[[3, 7, 9]].tolist() == [2, 5, 1]
    assert np.bincount(labels[train], minlength=10)[[3, 7, 9]].tolist() == [8, 15, 1]
    again = gsets.split_per_class(labels, 0.25, seed=0)
    np.testing.assert_array_equal(test, again[1])
    assert not np.array_equal(test, gsets.split_per_class(labels, 0.25, seed=1)[1])
    _, capped = gsets.split_per_class(labels, 0.25, seed=0, max_test_per_class=1)
    assert np.bincount(labels[capped]).sum() == 3
    with pytest.raises(ValueError, match="class 5 has 1 image"):
        gsets.split_per_class(np.array([1, 1, 5]), 0.5)
    with pytest.raises(ValueError, match=r"test_fraction must be in \(0, 1\)"):
        gsets.split_per_class(labels, 1.0)


def test_generate_is_deterministic_given_seed_and_batches(model):
    images = many_classes().images[:5]
    s5, lengths = samples.generate(model, images, temperature=0.5, seed=1, batch_size=2)
    assert s5.shape == (5, T + 1, 5) and lengths.shape == (5,) and lengths.max() <= T
    again, _ = samples.generate(model, images, temperature=0.5, seed=1, batch_size=2)
    np.testing.assert_array_equal(s5, again)
    other, _ = samples.generate(model, images, temperature=0.5, seed=2, batch_size=2)
    assert not np.array_equal(s5, other)
    with pytest.raises(TypeError, match="has no sample"):
        samples.generate(object(), images)


def test_render_samples_is_uint8_white_background():
    s5 = np.zeros([2, 4, 5], np.float32)
    s5[:, 0, 2] = 1  # start token
    s5[0, 1] = [5, 0, 1, 0, 0]
    s5[0, 2] = [0, 5, 0, 1, 0]
    s5[0, 3, 4] = 1
    s5[1, 1:, 4] = 1  # ends at once: draws nothing
    images = samples.render_samples(s5, 28, channels=3)
    assert images.dtype == np.uint8 and images.shape == (2, 28, 28, 3)
    assert images[0].min() < 128 and np.median(images[0]) == 255  # dark ink on white
    assert (images[1] == 255).all()
    np.testing.assert_array_equal(images[..., 0], images[..., 2])


def test_sample_grid_writes_one_cell_per_example(model, tmp_path):
    data = many_classes(classes=5)
    path = tmp_path / "samples_noise.png"
    layout = generation.sample_grid(model, data, path, n=7, columns=3, seed=0, title="noise")
    assert (layout["cells"], layout["rows"], layout["columns"]) == (7, 3, 3)
    assert layout["panels"] == 14  # image + sample per cell; the empty cells are hidden
    assert layout["file"] == "samples_noise.png"
    assert Image.open(path).size[0] > 400
    assert sorted(set(data.labels[layout["indices"]].tolist())) == list(range(5))
    again = generation.sample_grid(model, data, tmp_path / "again.png", n=7, columns=3, seed=0)
    assert again["indices"] == layout["indices"]
    assert again["mean_length"] == layout["mean_length"]
    assert Image.open(tmp_path / "again.png").tobytes() == Image.open(path).tobytes()


def test_one_shot_grid_has_one_example_and_k_samples_per_row(model, tmp_path):
    data = many_classes(classes=5)
    layout = generation.one_shot_grid(model, data, tmp_path / "one.png", num_classes=3,
                                      samples=4, seed=0)
    assert (layout["rows"], layout["columns"], layout["panels"]) == (3, 5, 15)
    assert len(set(data.labels[layout["indices"]].tolist())) == 3
    assert (tmp_path / "one.png").exists()


def test_classifier_learns_bars_deterministically(bars_classifier):
    classifier, train = bars_classifier
    test = bars(50, seed=1)
    predicted = image_classifier.classify(classifier, test.images, batch_size=32)
    assert np.mean(predicted == test.labels) > 0.9
    again = image_classifier.train_image_classifier(train, epochs=3, seed=0)
    np.testing.assert_array_equal(np.asarray(classifier(test.images[:20].astype(np.float32))),
                                  np.asarray(again(test.images[:20].astype(np.float32))))


def test_recognisability_samples_only_test_images(model, bars_classifier, tmp_path):
    classifier, train = bars_classifier
    test = bars(12, seed=2)
    spy, reference = Spy(model), Spy(model)
    result = readouts.recognisability(spy, classifier, train, test, reference_model=reference,
                                        seed=0, examples_path=tmp_path / "ex.png")
    for wrapped in (spy, reference):
        seen = np.concatenate(wrapped.seen).astype(np.uint8)
        np.testing.assert_array_equal(seen, test.images)  # each test image once, nothing else
    assert (result["classes"], result["train_images"], result["test_images"]) == (2, 120, 24)
    assert result["real"]["accuracy"] > 0.9  # The classifier sees bars.
    for key in ("samples", "reference", "blank_canvas"):
        assert 0.0 <= result[key]["accuracy"] <= 1.0 and len(result[key]["per_class"]) == 2
    assert result["blank_canvas"]["accuracy"] == 0.5  # one class for every image
    assert result["blank_canvas"]["predicted"] in ("vertical", "horizontal")
    assert result["examples"]["cells"] == 24 and (tmp_path / "ex.png").exists()
    json.dumps(result)
    with pytest.raises(ValueError, match=r"test classes \[4\] are not among"):
        readouts.recognisability(model, None, train, LabelledImages(test.images[:1], [4]))


def test_random_weight_copy_is_seeded_locally(model):
    import random

    import keras

    def weights(copy):
        return [np.asarray(w) for w in copy.get_weights()]

    random.seed(1)
    np.random.seed(1)
    np_state = np.random.get_state()[1].copy()
    a = samples.random_weight_copy(model, (28, 28, 1), seed=3)
    assert random.random() == random.Random(1).random()  # Python's state is restored ...
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # ... NumPy's untouched
    random.seed(2)  # another global state: the same weights
    b = samples.random_weight_copy(model, (28, 28, 1), seed=3)
    c = samples.random_weight_copy(model, (28, 28, 1), seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(weights(a), weights(b)))
    assert not all(np.array_equal(x, y) for x, y in zip(weights(a), weights(c)))
    assert not all(np.array_equal(x, y) for x, y in zip(weights(a), weights(model)))
    keras.utils.set_random_seed(3)  # What the helper used to do: the same weights.
    old = type(model).from_config(model.get_config())
    old.build(((None, 28, 28, 1), (None, T + 1, 5)))
    assert all(np.array_equal(x, y) for x, y in zip(weights(a), weights(old)))


def test_run_writes_pngs_and_returns_json(model, tmp_path):
    sets = {"unseen classes": many_classes(classes=4), "Bars (seen)": bars(10)}
    result = generation.run(model, sets, tmp_path, recognisability=bars(30), seed=0,
                            grid_size=6, one_shot_classes=2, one_shot_samples=3,
                            test_fraction=0.2, classifier_epochs=1, reference_model=model,
                            progress=False)
    json.dumps(result)
    assert result["files"] == ["samples_unseen_classes.png", "one_shot_unseen_classes.png",
                               "samples_bars_seen.png", "one_shot_bars_seen.png",
                               "recognisability_examples.png"]
    assert all((tmp_path / name).exists() for name in result["files"])
    assert result["sets"]["unseen classes"]["grid"]["cells"] == 6
    assert result["sets"]["Bars (seen)"]["one_shot"]["panels"] == 2 * 4
    assert result["recognisability"]["test_images"] == 12


def write_ndjson(path, word, key_ids, long_key=None, dot_key=None):
    rng = np.random.default_rng(len(key_ids))
    rows = []
    for key in key_ids:
        points = rng.integers(0, 256, size=(2, int(rng.integers(3, 9)))).tolist()
        rows.append({"word": word, "key_id": key, "drawing": [points, [[10, 50], [10, 90]]]})
    if long_key:  # 70 stroke-3 rows: longer than the builder's 64.
        rows.append({"word": word, "key_id": long_key,
                     "drawing": [[list(range(0, 210, 3)), [i % 2 * 9 for i in range(70)]]]})
    if dot_key:
        rows.append({"word": word, "key_id": dot_key, "drawing": [[[5], [5]]]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def keys_by_split(count=200):
    keys = [str(5_000_000_000_000_000 + 7919 * i) for i in range(count)]
    return {s: [k for k in keys if quickdraw.split_of_key(k) == s]
            for s in ("train", "validation", "test")}


def test_quickdraw_images_filters_splits_and_renders_like_the_builder(tmp_path):
    keys = keys_by_split()
    assert len(keys["test"]) >= 3 and len(keys["validation"]) >= 3
    manual = tmp_path / "manual"
    manual.mkdir()
    all_keys = keys["train"][:8] + keys["validation"][:3] + keys["test"][:3]
    write_ndjson(manual / "cat.ndjson", "cat", all_keys, long_key="1", dot_key="2")
    write_ndjson(manual / "dog.ndjson", "dog", all_keys[::-1])
    files = {"dog": manual / "dog.ndjson", "cat": manual / "cat.ndjson"}
    everything = gsets.quickdraw_images(files)
    assert everything.class_names == ["cat", "dog"]  # sorted; too long and dot dropped
    assert np.bincount(everything.labels).tolist() == [14, 14]
    test = gsets.quickdraw_images(files, splits=["test"])
    assert np.bincount(test.labels).tolist() == [3, 3]
    assert len(gsets.quickdraw_images(files, splits="train", max_per_class=2).labels) == 4

    importlib.import_module("tfds_builders")  # registers the builder

    builder = tfds.builder("quickdraw/all_345_ndjson", data_dir=str(tmp_path / "tfds"),
                           allow_missing_classes=True)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    train = gsets.quickdraw_images(files, splits=["train"])
    for split, ours in (("test", test), ("train", train)):  # The training pipeline's renders.
        ds, _ = pipeline.load("quickdraw/all_345_ndjson", split, 64, None,
                              data_dir=str(tmp_path / "tfds"),
                              builder_kwargs=dict(allow_missing_classes=True))
        theirs = [ex["image"].tobytes() for ex in tfds.as_numpy(ds)]
        assert sorted(theirs) == sorted(image.tobytes() for image in ours.images)


def test_quickdraw_images_errors_name_the_file(tmp_path):
    good = tmp_path / "cat.ndjson"
    write_ndjson(good, "cat", keys_by_split()["train"][:3])
    with pytest.raises(DataFileError, match=f"{tmp_path / 'missing.ndjson'}: not a readable"):
        gsets.quickdraw_images({"cat": tmp_path / "missing.ndjson"})
    broken = tmp_path / "broken.ndjson"
    broken.write_text(good.read_text()[:-20])
    with pytest.raises(DataFileError, match=f"{broken}:3: invalid JSON"):
        gsets.quickdraw_images({"cat": broken})
    with pytest.raises(DataFileError, match=f"{good}:1: drawing of 'cat' in the file of 'dog'"):
        gsets.quickdraw_images({"dog": good})
    assert len(gsets.quickdraw_images({"dog": good}, check_word=False).labels) == 3
    with pytest.raises(DataFileError, match=f"{good}: no usable drawings in splits .'test'."):
        gsets.quickdraw_images({"cat": good}, splits=["test"])
    binary = tmp_path / "binary.ndjson"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataFileError, match=f"{binary}"):
        gsets.quickdraw_images({"cat": binary})
    with pytest.raises(ValueError, match="unknown splits"):
        gsets.quickdraw_images({"cat": good}, splits=["valid"])


FILES_15 = {"bicycle": "bycicle", "cat": "cat_2k", "eye": "eye"}


def test_real_quickdraw_end_to_end(shared_data, model, tmp_path):
    folder = shared_data / "quickdraw" / "simplified_15cls_500to2000each"
    files = {name: folder / f"{stem}.ndjson" for name, stem in FILES_15.items()}
    data = gsets.quickdraw_images(files, max_per_class=150)
    assert data.class_names == ["bicycle", "cat", "eye"] and data.images.shape[1:] == (28, 28, 1)
    assert np.bincount(data.labels).tolist() == [150, 150, 150]
    assert data.images[:, 0].mean() > 200 and data.images.min() < 64  # ink on white
    held_out = gsets.quickdraw_images(files, splits=["validation", "test"])
    assert 0 < len(held_out.labels) < 0.2 * 1900
    result = generation.run(model, {"Quickdraw": data}, tmp_path, recognisability=data,
                            grid_size=6, one_shot_classes=3, one_shot_samples=2,
                            classifier_epochs=4, progress=False)
    rec = result["recognisability"]
    assert (rec["classes"], rec["test_images"], rec["train_images"]) == (3, 45, 405)
    assert rec["real"]["accuracy"] > 0.7  # bicycle / cat / eye are easy on real images
    assert rec["class_names"] == ["bicycle", "cat", "eye"]
    assert all((tmp_path / name).exists() for name in result["files"])


def test_quickdraw_images_min_per_class_skips_small_classes(tmp_path):
    keys = keys_by_split()
    write_ndjson(tmp_path / "cat.ndjson", "cat", keys["train"][:6] + keys["test"][:4])
    write_ndjson(tmp_path / "dog.ndjson", "dog", keys["train"][:6])  # nothing held out
    write_ndjson(tmp_path / "eel.ndjson", "eel", keys["train"][:2] + keys["test"][:1])
    files = {n: tmp_path / f"{n}.ndjson" for n in ("cat", "dog", "eel")}
    with pytest.raises(DataFileError, match="dog.ndjson: no usable drawings in splits"):
        gsets.quickdraw_images(files, splits=["test"])
    held_out = gsets.quickdraw_images(files, splits=["test"], min_per_class=2)
    assert held_out.class_names == ["cat"] and held_out.labels.tolist() == [0] * 4
    assert gsets.quickdraw_images(files, splits=["test"], min_per_class=1).class_names \
        == ["cat", "eel"]
    with pytest.raises(DataFileError, match="no class of 3 files has 5 usable drawings"):
        gsets.quickdraw_images(files, splits=["test"], min_per_class=5)

"""Tests for sketchembednet.data.quickdraw (Quickdraw npz / ndjson sources)."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from sketchembednet.data import quickdraw
from sketchembednet.data import safe_pickle
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError


def object_array(items):
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def test_urls_encode_spaces():
    assert quickdraw.sketchrnn_url("aircraft carrier") == (
        "https://storage.googleapis.com/quickdraw_dataset/sketchrnn/aircraft%20carrier.npz")
    assert quickdraw.simplified_url("The Mona Lisa") == (
        "https://storage.googleapis.com/quickdraw_dataset/full/simplified/The%20Mona%20Lisa.ndjson")
    assert quickdraw.local_file_names("cat", ".npz") == ["cat.npz"]


def test_split_of_key_is_stable_and_90_5_5():
    keys = [str(4_000_000_000_000_000 + 7919 * i) for i in range(20_000)]
    splits = [quickdraw.split_of_key(k) for k in keys]
    assert splits == [quickdraw.split_of_key(k) for k in keys]
    share = {s: splits.count(s) / len(splits) for s in ("train", "validation", "test")}
    assert share["train"] == pytest.approx(0.90, abs=0.01)
    assert share["validation"] == pytest.approx(0.05, abs=0.01)


def test_read_npz_matches_np_load_on_real_python2_pickles(shared_data):
    """The shared pack's sketch-rnn kanji files are Python-2 pickles like the Quickdraw ones."""
    for name in ("short_kanji.npz", "kanji.rdp100.npz"):
        path = shared_data / "sketch_rnn_datasets" / "kanji" / name
        ours = quickdraw.read_npz(path, allow_pickle=True)
        with np.load(path, allow_pickle=True, encoding="latin1") as ref:
            assert sorted(ours) == sorted(ref.files)
            for key in ref.files:
                assert len(ours[key]) == len(ref[key])
                for a, b in zip(ours[key], ref[key]):
                    assert a.dtype == b.dtype and np.array_equal(a, b)


def test_read_npz_refuses_objects_without_permission(tmp_path):
    path = tmp_path / "cat.npz"
    np.savez(path, train=object_array([np.ones((2, 3), np.int16)]), plain=np.arange(6))
    with pytest.raises(DataFileError, match=f"{path}: member .* holds pickled Python objects"):
        quickdraw.read_npz(path)
    arrays = quickdraw.read_npz(path, allow_pickle=True)
    np.testing.assert_array_equal(arrays["plain"], np.arange(6))
    np.testing.assert_array_equal(arrays["train"][0], np.ones((2, 3)))


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    target = ""

    def __reduce__(self):
        return (os.makedirs, (self.target,))


def test_read_npz_never_runs_code(tmp_path):
    _Payload.target = str(tmp_path / "pwned")
    path = tmp_path / "evil.npz"
    np.savez(path, train=object_array([_Payload()]))
    with pytest.raises(DataFileError, match=f"{path}: .*refusing to unpickle global"):
        quickdraw.read_npz(path, allow_pickle=True)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(pickle.UnpicklingError):  # Plain pickle *would* have run it.
        safe_pickle.load(io.BytesIO(pickle.dumps(_Payload())))


def test_read_npz_names_a_truncated_file(tmp_path):
    path = tmp_path / "cat.npz"
    np.savez(path, train=np.zeros((100, 3)))
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(DataFileError, match=f"{path}: not a readable .npz file"):
        quickdraw.read_npz(path)
    member = tmp_path / "member.npz"  # A valid zip whose .npy member is cut short.
    buf = io.BytesIO()
    np.save(buf, np.zeros((100, 3)))
    with zipfile.ZipFile(member, "w") as z:
        z.writestr("train.npy", buf.getvalue()[:500])
    with pytest.raises(DataFileError, match=f"{member}: member train.npy is truncated"):
        quickdraw.read_npz(member)


def test_npz_sketches_checks_every_sketch():
    good = np.array([[1, 2, 0], [3, 4, 1]], np.int16)
    arrays = {"train": object_array([good, np.zeros((0, 3), np.int16)])}
    out = quickdraw.npz_sketches(arrays, "train", "cat.npz")
    assert out[0].dtype == np.float32 and out[1].shape == (0, 3)
    with pytest.raises(DataFileError, match="cat.npz: no 'valid' array"):
        quickdraw.npz_sketches(arrays, "validation", "cat.npz")
    with pytest.raises(DataFileError, match=r"cat.npz: train\[1\] is not a numeric \[L, 3\]"):
        quickdraw.npz_sketches({"train": object_array([good, np.ones((2, 2))])}, "train", "cat.npz")
    bad_pen = good.copy()
    bad_pen[0, 2] = 7
    with pytest.raises(strokes.StrokeFormatError, match=r"cat.npz: train\[0\]: pen column"):
        quickdraw.npz_sketches({"train": object_array([bad_pen])}, "train", "cat.npz")


def test_parse_simplified_line():
    drawing = [[[0, 10, 10], [0, 0, 10]], [[20, 30], [5, 5]]]
    line = json.dumps({"word": "cat", "key_id": "123", "recognized": False, "drawing": drawing})
    parsed = quickdraw.parse_simplified_line(line, "cat.ndjson:1", word="cat")
    assert (parsed.key_id, parsed.recognized) == ("123", False)
    np.testing.assert_array_equal(parsed.stroke3, strokes.quickdraw_to_stroke3(drawing))
    dot = json.dumps({"word": "cat", "key_id": "1", "drawing": [[[5], [5]]]})
    assert quickdraw.parse_simplified_line(dot, "x").stroke3 is None
    with pytest.raises(DataFileError, match="cat.ndjson:1: drawing of 'cat' in the file of 'dog'"):
        quickdraw.parse_simplified_line(line, "cat.ndjson:1", word="dog")
    with pytest.raises(DataFileError, match="x:2: invalid JSON"):
        quickdraw.parse_simplified_line(line[:-5], "x:2")
    with pytest.raises(DataFileError, match="x:3: not a Quickdraw drawing .*'drawing'"):
        quickdraw.parse_simplified_line('{"key_id": "1"}', "x:3")
    with pytest.raises(strokes.StrokeFormatError, match="x:4: stroke 0 has 2 x values"):
        quickdraw.parse_simplified_line('{"key_id": 1, "drawing": [[[1, 2], [3]]]}', "x:4")


def test_read_simplified_ndjson_names_the_line(tmp_path):
    path = tmp_path / "cat.ndjson"
    rows = [json.dumps({"word": "cat", "key_id": str(i), "drawing": [[[0, i + 1], [0, 0]]]})
            for i in range(3)]
    path.write_text("\n".join(rows) + "\n\n")
    assert [d.key_id for d in quickdraw.read_simplified_ndjson(path, "cat")] == ["0", "1", "2"]
    path.write_text("\n".join(rows)[:-3])
    with pytest.raises(DataFileError, match=f"{path}:3: invalid JSON"):
        list(quickdraw.read_simplified_ndjson(path))


def test_moments_give_the_normalizing_scale():
    rng = np.random.default_rng(0)
    sketches = [np.column_stack([rng.normal(3, 20, (n, 2)), np.zeros(n)]) for n in (5, 17, 40)]
    moments = quickdraw.offset_moments(sketches[:1]) + quickdraw.offset_moments(sketches[1:])
    assert quickdraw.scale_from_moments(moments) == pytest.approx(
        strokes.normalizing_scale(sketches), rel=1e-9)
    with pytest.raises(strokes.StrokeFormatError, match="zero drawings"):
        quickdraw.scale_from_moments(np.zeros(3))


# ------------------------------------------------------ usable drawings, folders, counts
def _write_ndjson(path, word, drawings, key_ids=None):
    with open(path, "w") as f:
        for i, drawing in enumerate(drawings):
            key = key_ids[i] if key_ids is not None else str(i)
            f.write(json.dumps({"word": word, "key_id": key, "recognized": i % 2 == 0,
                                "drawing": drawing}) + "\n")


def test_check_splits():
    assert quickdraw.check_splits(None) is None
    assert quickdraw.check_splits("test") == {"test"}
    assert quickdraw.check_splits(("train", "validation")) == {"train", "validation"}
    with pytest.raises(ValueError, match=r"unknown splits \['valid'\]"):
        quickdraw.check_splits(["valid", "test"])


def test_read_usable_simplified_filters_and_counts(tmp_path):
    square = [[[0, 10, 10, 0, 0], [0, 0, 10, 10, 0]]]
    dot = [[[5], [5]]]
    long = [[list(range(0, 210, 3)), [i % 2 * 9 for i in range(70)]]]  # 70 stroke-3 rows
    keys = [str(5_000_000_000_000_000 + 7919 * i) for i in range(200)]
    test_keys = [k for k in keys if quickdraw.split_of_key(k) == "test"][:2]
    train_keys = [k for k in keys if quickdraw.split_of_key(k) == "train"][:4]
    path = tmp_path / "cat.ndjson"
    _write_ndjson(path, "cat", [square, dot, long, square, square, square],
                  train_keys[:3] + test_keys + train_keys[3:])
    everything = quickdraw.read_usable_simplified(path, word="cat")
    assert (len(everything.stroke3), everything.degenerate, everything.too_long) == (5, 1, 0)
    short = quickdraw.read_usable_simplified(path, max_len=64)
    assert (len(short.stroke3), short.degenerate, short.too_long) == (4, 1, 1)
    test = quickdraw.read_usable_simplified(path, splits="test", max_len=64)
    assert (len(test.stroke3), test.degenerate, test.too_long) == (2, 0, 0)
    recognized = quickdraw.read_usable_simplified(path, recognized_only=True)
    assert (len(recognized.stroke3), recognized.unrecognized) == (3, 2)  # rows 0, 2, 4 kept
    limited = quickdraw.read_usable_simplified(path, limit=2)
    assert len(limited.stroke3) == 2 and limited.degenerate == 1  # stops reading there
    assert quickdraw.read_usable_simplified(path, limit=0).stroke3 == []
    np.testing.assert_array_equal(everything.stroke3[0], strokes.quickdraw_to_stroke3(square))
    with pytest.raises(DataFileError, match=f"{path}:1: drawing of 'cat' in the file of 'dog'"):
        quickdraw.read_usable_simplified(path, word="dog")


def test_count_simplified_drawings(tmp_path):
    path = tmp_path / "cat.ndjson"
    path.write_text('{"a": 1}\n\n{"b": 2}\n   \n{"c": 3}')
    assert quickdraw.count_simplified_drawings(path) == 3


def test_read_simplified_folder(tmp_path):
    square = [[[0, 10, 10, 0, 0], [0, 0, 10, 10, 0]]]
    dot = [[[5], [5]]]  # fewer than two points: skipped
    _write_ndjson(tmp_path / "square.ndjson", "square", [square, dot, square, square])
    _write_ndjson(tmp_path / "circle.ndjson", "circle", [square])
    loaded = quickdraw.read_simplified_folder(tmp_path, ["square"])
    assert list(loaded) == ["square"] and len(loaded["square"]) == 3
    assert loaded["square"][0].dtype == np.float32 and loaded["square"][0].shape == (4, 3)
    two = quickdraw.read_simplified_folder(tmp_path, ["square"], max_per_class=2)
    assert len(two["square"]) == 2
    assert len(quickdraw.read_simplified_folder(tmp_path, ["square"],
                                                recognized_only=True)["square"]) == 2
    assert list(quickdraw.read_simplified_folder(tmp_path, None)) == ["circle", "square"]
    _write_ndjson(tmp_path / "empty.ndjson", "empty", [dot])
    with pytest.raises(ValueError, match="empty.ndjson: no usable drawing"):
        quickdraw.read_simplified_folder(tmp_path, ["empty"])


def test_read_simplified_folder_names_missing_class(tmp_path):
    _write_ndjson(tmp_path / "square.ndjson", "square", [[[[0, 10], [0, 0]]]])
    with pytest.raises(FileNotFoundError) as error:
        quickdraw.read_simplified_folder(tmp_path, ["square", "snowman", "star"])
    message = str(error.value)
    assert str(tmp_path) in message and "'snowman'" in message and "'star'" in message
    assert "'square'" not in message
    with pytest.raises(FileNotFoundError, match="not a folder"):
        quickdraw.read_simplified_folder(tmp_path / "nothing", None)


def test_read_simplified_folder_on_the_shared_sample(shared_data):
    folder = shared_data / "quickdraw" / "simplified_345cls_25each"
    loaded = quickdraw.read_simplified_folder(folder, ["cat", "circle"], max_per_class=5)
    assert [len(v) for v in loaded.values()] == [5, 5]
    first = next(quickdraw.read_simplified_ndjson(folder / "cat.ndjson"))
    np.testing.assert_array_equal(loaded["cat"][0], first.stroke3)


def test_doctests():
    import doctest

    assert doctest.testmod(quickdraw).failed == 0

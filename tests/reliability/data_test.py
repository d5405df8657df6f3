"""Data-side reliability (issue 19): wrong manual dirs, out-of-range coordinates,
empty class files and corrupt archive members end in an error naming the input.

Nothing here may download: the module-wide ``no_downloads`` fixture makes every
``DownloadManager.download`` raise :class:`DownloadAttempted` (offline, a real
download hangs in retries), and the package readers of ``kanjivg`` and ``hershey``
are patched the same way where a test expects them not to be used.
"""

import json
import logging
import pathlib
import shutil
import struct
import zipfile

import numpy as np
import pytest
import tensorflow_datasets as tfds

from sketchembednet.data import hanzi
from sketchembednet.data import hershey
from sketchembednet.data import kanjivg
from sketchembednet.data import omniglot
from sketchembednet.data import pipeline
from sketchembednet.data import quickdraw
from sketchembednet.data import sketchy
from sketchembednet.data import strokes
from sketchembednet.data.errors import DataFileError
from tfds_builders import manual
from tfds_builders.hanzi_medians import hanzi_medians_dataset_builder as hm
from tfds_builders.hershey import hershey_dataset_builder as hb
from tfds_builders.kanjivg import kanjivg_dataset_builder as kb
from tfds_builders.omniglot_strokes import omniglot_strokes_dataset_builder as om
from tfds_builders.quickdraw import quickdraw_dataset_builder as qd

QD_DUMMY = pathlib.Path(qd.__file__).parent / "dummy_data" / "simplified"
OMNIGLOT_DUMMY = pathlib.Path(om.__file__).parent / "dummy_data" / "python"
HELDOUT = qd.HELDOUT_45  # The classes of QD_DUMMY; sorted, so HELDOUT[0] == "airplane".
SAMPLE_345 = "quickdraw/simplified_345cls_25each"


class DownloadAttempted(Exception):
    """Raised instead of a download."""


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    def refuse(self, url_or_urls):
        raise DownloadAttempted(url_or_urls)

    monkeypatch.setattr(tfds.download.DownloadManager, "download", refuse)


def build(builder, manual_dir=None):
    """download_and_prepare, with ``manual_dir`` given in the DownloadConfig if not None."""
    config = (tfds.download.DownloadConfig(manual_dir=str(manual_dir))
              if manual_dir is not None else None)
    builder.download_and_prepare(download_config=config)
    return builder


def message(excinfo) -> str:
    return str(excinfo.value)


# ------------------------------------------------------------ 1. wrong manual dirs
def test_quickdraw_manual_dir_that_does_not_exist(tmp_path):
    typo = tmp_path / "qd_typo"
    with pytest.raises(FileNotFoundError) as e:
        build(qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson"), typo)
    assert message(e) == (
        f"quickdraw: the manual directory {typo} has no class file of config "
        "'heldout_45_ndjson' (expected one file per class named <class>.ndjson, e.g. "
        "'airplane.ndjson'): it does not exist. Fix the path or the file names, or give no "
        "manual directory to download the files.")


def test_quickdraw_manual_dir_with_wrongly_named_files(tmp_path):
    folder = tmp_path / "ndjson"
    folder.mkdir()
    for name in ("full_simplified_panda.ndjson", "full_simplified_airplane.ndjson"):
        shutil.copy(QD_DUMMY / "airplane.ndjson", folder / name)
    with pytest.raises(FileNotFoundError) as e:
        build(qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson"), folder)
    assert message(e) == (
        f"quickdraw: the manual directory {folder} has no class file of config "
        "'heldout_45_ndjson' (expected one file per class named <class>.ndjson, e.g. "
        "'airplane.ndjson'): it holds 'full_simplified_airplane.ndjson', "
        "'full_simplified_panda.ndjson'. Fix the path or the file names, or give no manual "
        "directory to download the files.")


def test_quickdraw_empty_manual_dir_and_npz_naming(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    builder = qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45",
                         allow_manual_pickle=True)
    with pytest.raises(FileNotFoundError) as e:
        build(builder, folder)
    assert message(e) == (
        f"quickdraw: the manual directory {folder} has no class file of config 'heldout_45' "
        "(expected one file per class named <class>.npz, e.g. 'airplane.npz'): it is empty. "
        "Fix the path or the file names, or give no manual directory to download the files.")


def test_quickdraw_without_manual_dir_downloads_and_logs(tmp_path, caplog):
    # The default manual folder (<data_dir>/downloads/manual) is shared by every dataset:
    # unrelated files there are no error, the builder downloads.
    default = tmp_path / "tfds" / "downloads" / "manual"
    default.mkdir(parents=True)
    (default / "images_background.zip").write_bytes(b"other dataset")
    builder = qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson")
    with caplog.at_level(logging.INFO, logger="absl"), pytest.raises(DownloadAttempted) as e:
        build(builder)
    assert len(e.value.args[0]) == 45
    assert ("quickdraw: no manual directory given: downloading 45 class files of config "
            "'heldout_45_ndjson' from https://storage.googleapis.com/quickdraw_dataset/"
            "full/simplified/<class>.ndjson") in caplog.text


def test_pipeline_prepare_reports_a_mistyped_manual_dir(tmp_path):
    # What `sketchembednet.train --config.dataset.manual_dir=<typo>` calls.
    typo = tmp_path / "typo"
    with pytest.raises(FileNotFoundError) as e:
        pipeline.prepare("quickdraw/heldout_45_ndjson", str(tmp_path / "tfds"),
                         manual_dir=str(typo), builder_kwargs={"allow_missing_classes": True})
    assert message(e).startswith(f"quickdraw: the manual directory {typo} has no class file")


def test_omniglot_manual_dir_without_the_zips(tmp_path):
    typo = tmp_path / "brendenlake"
    with pytest.raises(FileNotFoundError) as e:
        build(om.Builder(data_dir=str(tmp_path / "tfds"), config="lake_small"), typo)
    assert message(e) == (
        f"omniglot_strokes: the manual directory {typo} has no zip of config 'lake_small' "
        "(expected the official names: images_background_small1.zip, "
        "images_background_small2.zip, strokes_background_small1.zip, "
        "strokes_background_small2.zip): it does not exist. Fix the path or the file names, "
        "or give no manual directory to download them.")


def test_hanzi_manual_dir_without_the_tarball(tmp_path):
    folder = tmp_path / "hanzi"
    folder.mkdir()
    (folder / "hanzi-writer-data-2.0.0.tgz").write_bytes(b"an older release")
    with pytest.raises(FileNotFoundError) as e:
        build(hm.Builder(data_dir=str(tmp_path / "tfds")), folder)
    assert message(e) == (
        f"hanzi_medians: the manual directory {folder} has no hanzi-writer-data-2.0.1.tgz "
        "(expected the unchanged npm tarball under that name, from "
        "https://registry.npmjs.org/hanzi-writer-data/-/hanzi-writer-data-2.0.1.tgz): it holds "
        "'hanzi-writer-data-2.0.0.tgz'. Fix the path or the file names, or give no manual "
        "directory to download it.")


@pytest.fixture
def no_packages(monkeypatch):
    """The installed kanjivg / Hershey-Fonts data must not be read."""
    def refuse(*args, **kwargs):
        raise AssertionError("the installed package was read instead of the manual dir")

    monkeypatch.setattr(kanjivg, "kanjivg_dir", refuse)
    monkeypatch.setattr(hershey, "package_font_texts", refuse)


def test_kanjivg_manual_dir_without_svgs(tmp_path, no_packages):
    folder = tmp_path / "kanjivg"
    (folder / "kanji").mkdir(parents=True)
    (folder / "kanji" / "04e00.xml").write_text("<svg/>")
    with pytest.raises(FileNotFoundError) as e:
        build(kb.Builder(data_dir=str(tmp_path / "tfds")), folder)
    assert message(e) == (
        f"kanjivg: the manual directory {folder} has no KanjiVG SVG files (expected "
        "kanji/<hex codepoint>[-<variant>].svg, e.g. kanji/04e00.svg): kanji/ holds "
        "'04e00.xml'. Fix the path or the file names, or give no manual directory to use the "
        "installed kanjivg package.")
    with pytest.raises(FileNotFoundError, match="kanjivg: .* it does not exist"):
        build(kb.Builder(data_dir=str(tmp_path / "tfds")), tmp_path / "typo")


def test_hershey_manual_dir_without_fonts(tmp_path, no_packages):
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / "futural.jhf").write_text("12345  1JZ\n")  # Not in a hershey/ subfolder.
    with pytest.raises(FileNotFoundError) as e:
        build(hb.Builder(data_dir=str(tmp_path / "tfds")), folder)
    assert message(e) == (
        f"hershey: the manual directory {folder} has no Hershey .jhf fonts (expected "
        "hershey/<font>.jhf, e.g. hershey/futural.jhf): it holds 'futural.jhf'. Fix the path "
        "or the file names, or give no manual directory to use the installed Hershey-Fonts "
        "package.")


def test_manual_contents_doctest():
    import doctest

    assert doctest.testmod(manual).failed == 0


# ------------------------------------------------ 2. coordinates out of range
def ndjson_line(drawing, word="cat", key_id="42") -> str:
    return json.dumps({"word": word, "key_id": key_id, "recognized": True, "drawing": drawing})


@pytest.mark.parametrize("drawing, expected", [
    ([[[0, 9], [0, 1000000000]]],
     "cat.ndjson:7: stroke 0 y value 1000000000 is outside 0..255, the range of the simplified "
     "format (a raw or corrupt file?)"),
    ([[[1, 2], [3, 4]], [[0, 1e308], [5, 5]]],
     "cat.ndjson:7: stroke 1 x value 1e+308 is outside 0..255, the range of the simplified "
     "format (a raw or corrupt file?)"),
    ([[[0, -1], [0, 0]]],
     "cat.ndjson:7: stroke 0 x value -1 is outside 0..255, the range of the simplified format "
     "(a raw or corrupt file?)"),
    ([[[0, 12], [0, "12"]]], "cat.ndjson:7: stroke 0 y value '12' is not a number"),
    ([[[0, True], [0, 0]]], "cat.ndjson:7: stroke 0 x value True is not a number"),
    ([[[0, None], [0, 0]]], "cat.ndjson:7: stroke 0 x value None is not a number"),
    ([[5, [0, 0]]], "cat.ndjson:7: stroke 0 x must be a list of numbers, got int"),
    ([[[0, 10 ** 30], [0, 0]]],
     "cat.ndjson:7: stroke 0 x value 1000000000000000000000000000000 is outside 0..255, the "
     "range of the simplified format (a raw or corrupt file?)"),
])
def test_simplified_coordinates_must_be_numbers_in_0_255(drawing, expected):
    with pytest.raises(DataFileError) as e:
        quickdraw.parse_simplified_line(ndjson_line(drawing), "cat.ndjson:7", "cat")
    assert message(e) == expected


@pytest.mark.parametrize("literal, expected", [("NaN", "nan"), ("Infinity", "inf"),
                                               ("1e400", "inf")])
def test_simplified_non_finite_values_name_file_and_line(tmp_path, literal, expected):
    path = tmp_path / "cat.ndjson"
    good = ndjson_line([[[0, 10], [0, 10]]])
    path.write_text(good + "\n" + good.replace("[0, 10]]]", f"[0, {literal}]]]") + "\n")
    with pytest.raises(DataFileError) as e:
        list(quickdraw.read_simplified_ndjson(path, "cat"))
    assert message(e) == f"{path}:2: stroke 0 y value {expected} is not finite"


def test_one_huge_coordinate_stops_the_quickdraw_build(tmp_path):
    # Before: the build succeeded and the drawing set stroke_scale (36.9 -> 4.2 million
    # on the real sample).
    folder = tmp_path / "manual"
    shutil.copytree(QD_DUMMY, folder)
    victim = folder / f"{HELDOUT[3]}.ndjson"
    lines = victim.read_text().splitlines()
    record = json.loads(lines[1])
    record["drawing"][0][0][1] = 1_000_000_000
    lines[1] = json.dumps(record)
    victim.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError) as e:
        build(qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson"), folder)
    assert message(e) == (
        f"{victim}:2: stroke 0 x value 1000000000 is outside 0..255, the range of the "
        "simplified format (a raw or corrupt file?)")


def object_array(items) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


@pytest.mark.parametrize("value, expected", [
    (1e9, "cat.npz: train[1] row 1: dy 1e+09 is outside -32768..32767, the int16 range of "
          "the sketch-rnn files"),
    (np.nan, "cat.npz: train[1] row 1: dy nan is not finite"),
    (-np.inf, "cat.npz: train[1] row 1: dy -inf is not finite"),
])
def test_npz_offsets_must_fit_int16(value, expected):
    good = np.array([[1, 2, 0], [3, 4, 1]], np.int16)
    bad = good.astype(np.float64)
    bad[1, 1] = value
    with pytest.raises(DataFileError) as e:
        quickdraw.npz_sketches({"train": object_array([good, bad])}, "train", "cat.npz")
    assert message(e) == expected
    wide = good.astype(np.float64)
    wide[:, :2] *= 1000  # Within int16: accepted, as int16 files are.
    assert quickdraw.npz_sketches({"train": object_array([wide])}, "train", "c")[0][1, 1] == 4000


def test_scale_functions_name_an_overflow_instead_of_nan():
    huge = [np.array([[1e200, 0, 0], [1, 1, 1]])]
    with pytest.raises(strokes.StrokeFormatError) as e:
        quickdraw.scale_from_moments(quickdraw.offset_moments(huge))
    assert message(e) == ("cannot compute a normalizing scale: the offsets' sum of squares is "
                          "inf (offsets far outside the source format's range)")
    with pytest.raises(strokes.StrokeFormatError) as e:
        strokes.normalizing_scale(huge)
    assert message(e) == ("cannot compute a normalizing scale: the offsets' sum of squares is "
                          "inf (offsets far outside the source format's range)")


def test_hanzi_points_outside_the_box_or_not_finite_name_the_member():
    name = "x.tgz: package/中.json"
    with pytest.raises(DataFileError) as e:
        hanzi.parse_medians('{"medians": [[[100, 500], [1000000000, 500]]]}', name)
    assert message(e) == ("x.tgz: package/中.json: medians[0][1]: point [1000000000, 500] is "
                          "outside the 1024-unit box (x 0..1024, y -124..900)")
    with pytest.raises(DataFileError, match=r"^x.tgz: package/中.json: medians\[0\]\[0\]: bad "
                                            r"point \[1, inf\]"):
        hanzi.parse_medians('{"medians": [[[1, Infinity]]]}', name)


def test_omniglot_non_finite_stroke_value_names_file_and_line():
    with pytest.raises(DataFileError) as e:
        omniglot.parse_strokes("START\n1,-2,0\n4,nan,10\nBREAK\n", "s.zip: 0001_01.txt")
    assert message(e) == "s.zip: 0001_01.txt:3: expected 'x,y,t', got '4,nan,10'"


def svg(d: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg"><path id="p1" d="{d}"/>'
            '<path d="M 0,0 L 50,50"/></svg>')


@pytest.mark.parametrize("d, expected", [
    ("M 1e999,0 L 5,5", "s.svg: path 'M 1e999,0 L 5,5' has a non-finite coordinate or length "
                        "(inf)"),
    ("M 0,0 C 1e308,1e308 -1e308,5 5,5", "s.svg: path 'M 0,0 C 1e308,1e308 -1e308,5 5,5' has "
                                         "a non-finite coordinate or length (nan)"),
    ("M 0,0 L 1e300,5", "s.svg: cannot sample its paths (Maximum allowed size exceeded); "
                        "coordinates out of range?"),
])
def test_sketchy_svg_with_non_finite_or_huge_coordinates(d, expected):
    with pytest.raises(DataFileError) as e:
        sketchy.svg_polylines(svg(d), "s.svg")
    assert message(e) == expected


def test_sketchy_arcs_still_parse():
    lines, dropped = sketchy.svg_polylines(svg("M 0,0 A 30,30 0 0 1 60,0"), "s.svg")
    assert (len(lines), dropped) == (2, 0) and np.all(np.isfinite(lines[0]))
    with pytest.raises(DataFileError, match="s.svg: path 'M 0,0 A 1e999"):
        sketchy.svg_polylines(svg("M 0,0 A 1e999,30 0 0 1 60,0"), "s.svg")


def test_kanjivg_svg_with_non_finite_coordinates_names_file_and_path():
    with pytest.raises(strokes.StrokeFormatError) as e:
        kanjivg.svg_polylines(svg("M 1e999,0 L 5,5"), "04e00.svg")
    assert message(e) == ("04e00.svg: cannot parse path 'p1': non-finite coordinate in "
                          "[(inf+0j), (5+5j)]")


def test_hershey_coordinates_are_bounded_characters():
    # A .jhf coordinate is a character ' '..'~': never NaN, always within -50..44.
    with pytest.raises(DataFileError) as e:
        hershey.parse_glyph("12345  2JZR\x7f", "f.jhf:3")
    assert message(e) == "f.jhf:3: coordinate character '\\x7f' outside ' '..'~'"


def extreme_drawing() -> np.ndarray:
    """A valid drawing that adds the most it can to the scale: 64 corner-to-corner jumps."""
    xs = [0, 255] * 32 + [0]
    s3 = quickdraw.parse_simplified_line(ndjson_line([[xs, xs]]), "x:1", "cat").stroke3
    assert len(s3) == qd.MAX_LEN  # Kept: not dropped as too long.
    return s3


def test_one_valid_drawing_moves_the_real_scale_by_under_1_percent(shared_data):
    folder = shared_data / SAMPLE_345
    stats = np.zeros(len(qd._STATS))
    for name in qd.ALL_345:
        if (folder / f"{name}.ndjson").exists():
            stats += qd.split_stats(qd.read_class(name, folder / f"{name}.ndjson",
                                                  "ndjson")["train"])
    scale = quickdraw.scale_from_moments(stats[3:])
    assert scale == pytest.approx(36.578, abs=1e-3)  # Unchanged: trained models depend on it.
    moved = quickdraw.scale_from_moments(stats[3:] + quickdraw.offset_moments([extreme_drawing()]))
    assert abs(moved / scale - 1) < 0.01


def test_embedded_kanjivg_scale_is_unchanged(kanjivg_data_dir):
    meta = tfds.builder("kanjivg", data_dir=kanjivg_data_dir).info.metadata
    assert meta["stroke_scale"] == pytest.approx(20.3123, abs=1e-4)


def test_quickdraw_module_doctests():
    import doctest

    assert doctest.testmod(quickdraw).failed == 0


# ------------------------------------------------------------ 3. empty class files
@pytest.fixture
def manual_with_empty_files(tmp_path):
    folder = tmp_path / "manual"
    shutil.copytree(QD_DUMMY, folder)
    (folder / f"{HELDOUT[2]}.ndjson").write_bytes(b"")
    (folder / f"{HELDOUT[5]}.ndjson").write_text("\n  \n\n")
    return folder


def test_empty_class_file_is_an_error(tmp_path, manual_with_empty_files):
    folder = manual_with_empty_files
    with pytest.raises(DataFileError) as e:
        build(qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson"), folder)
    assert message(e) == (
        f"{folder / (HELDOUT[2] + '.ndjson')}: empty class file (0 bytes) (and 1 more): class "
        f"{HELDOUT[2]!r} would have no drawings; replace it with the class's file, or pass "
        "allow_missing_classes=True to build without it")


def test_blank_lines_only_is_an_empty_class_file(tmp_path):
    folder = tmp_path / "manual"
    shutil.copytree(QD_DUMMY, folder)
    victim = folder / f"{HELDOUT[5]}.ndjson"
    victim.write_text("\n  \n\n")
    with pytest.raises(DataFileError) as e:
        build(qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson"), folder)
    assert message(e) == (
        f"{victim}: empty class file (only blank lines): class {HELDOUT[5]!r} would have no "
        "drawings; replace it with the class's file, or pass allow_missing_classes=True to "
        "build without it")


def test_empty_class_files_are_missing_classes_when_allowed(tmp_path, manual_with_empty_files):
    builder = qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson",
                         allow_missing_classes=True)
    build(builder, manual_with_empty_files)
    meta = qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson").info.metadata
    assert meta["missing_classes"] == sorted([HELDOUT[2], HELDOUT[5]])
    assert meta["num_classes"] == 43


def test_every_class_file_empty_is_an_error_even_when_allowed(tmp_path):
    folder = tmp_path / "manual"
    folder.mkdir()
    for name in HELDOUT[:2]:
        (folder / f"{name}.ndjson").write_bytes(b"")
    builder = qd.Builder(data_dir=str(tmp_path / "tfds"), config="heldout_45_ndjson",
                         allow_missing_classes=True)
    with pytest.raises(DataFileError) as e:
        build(builder, folder)
    assert message(e) == (
        f"{folder / (HELDOUT[0] + '.ndjson')}: empty class file (0 bytes) (and 1 more): class "
        f"{HELDOUT[0]!r} would have no drawings; replace it with the class's file")


def test_npz_class_file_without_drawings_is_named(tmp_path):
    path = tmp_path / "cat.npz"
    np.savez(path, **{k: np.zeros((0, 3), np.int16) for k in ("train", "valid", "test")})
    with pytest.raises(DataFileError) as e:
        qd.read_class("cat", path, "npz")
    assert message(e) == f"{path}: no drawings of class 'cat' in the file"


# ------------------------------------------------- 4. corrupt members of the Omniglot zips
def deflated_copy_with_corrupt_member(src: pathlib.Path, dst: pathlib.Path, member: str):
    """Rewrites ``src`` deflated, then flips bytes of ``member``'s compressed data (the zip
    directory stays valid: only reading that member fails)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), compress_type=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(dst) as z:
        offset = z.getinfo(member).header_offset
    raw = bytearray(dst.read_bytes())
    name_len, extra_len = struct.unpack("<HH", raw[offset + 26:offset + 30])
    start = offset + 30 + name_len + extra_len
    raw[start + 2:start + 12] = bytes(b ^ 0xFF for b in raw[start + 2:start + 12])
    dst.write_bytes(bytes(raw))


def test_corrupt_png_member_names_the_zip_and_member(tmp_path):
    images = tmp_path / "images_background_small1.zip"
    member = "images_background_small1/Greek/character01/0401_01.png"
    deflated_copy_with_corrupt_member(OMNIGLOT_DUMMY / images.name, images, member)
    drawings, _ = omniglot.read_pair(images, OMNIGLOT_DUMMY / "strokes_background_small1.zip")
    with pytest.raises(DataFileError) as e:
        for drawing in drawings:
            drawing.image
    assert message(e) == (f"{images}: member {member} is corrupt (Error -3 while decompressing "
                          "data: invalid stored block lengths)")


def test_stroke_file_that_is_not_text_names_the_member(tmp_path):
    strokes_zip = tmp_path / "strokes_background_small1.zip"
    member = "strokes_background_small1/Greek/character01/0401_01.txt"
    with zipfile.ZipFile(OMNIGLOT_DUMMY / strokes_zip.name) as src, \
            zipfile.ZipFile(strokes_zip, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, b"START\n\xff\xfe\n" if info.filename == member else src.read(info))
    drawings, _ = omniglot.read_pair(OMNIGLOT_DUMMY / "images_background_small1.zip", strokes_zip)
    with pytest.raises(DataFileError) as e:
        list(drawings)
    assert message(e) == (f"{strokes_zip}: {member}: not a text stroke file ('utf-8' codec "
                          "can't decode byte 0xff in position 6: invalid start byte)")


def test_corrupt_npz_member_names_the_file(tmp_path):
    path = tmp_path / "cat.npz"
    np.savez_compressed(path, train=np.arange(3000, dtype=np.int16).reshape(-1, 3))
    deflated = tmp_path / "cat_corrupt.npz"
    deflated_copy_with_corrupt_member(path, deflated, "train.npy")
    with pytest.raises(DataFileError) as e:
        quickdraw.read_npz(deflated)
    assert message(e).startswith(f"{deflated}: not a readable .npz file (zlib.error: Error -3 while "
                                 "decompressing data")

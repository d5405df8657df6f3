"""Builder tests for quickdraw on the synthetic dummy data (make_dummy_data.py).

The dummy data holds the 45 held-out classes in both official formats. The
download tests map each class's URL to its dummy file; the manual tests point
the manual directory at one of the two dummy folders.

``checksums.tsv`` has no rows yet (the official files cannot be downloaded
here), so the download tests register the dummy files' own checksums by
patching ``Builder.url_infos``: this exercises the verification that gates
unpickling (and the URL set the builder asks for), not the real checksums.
"""

import pathlib
import shutil
from unittest import mock

import tensorflow_datasets as tfds
from tensorflow_datasets.core.download import checksums

from sketchembednet.data import quickdraw
from tfds_builders.quickdraw import quickdraw_dataset_builder as qd

DUMMY = pathlib.Path(qd.__file__).parent / "dummy_data"
HELDOUT = qd.HELDOUT_45


def dummy_url_infos() -> dict:
    """``{official URL: UrlInfo}`` of the dummy files, as --register_checksums would write."""
    infos = {}
    for folder, url_of, ext in (("sketchrnn", quickdraw.sketchrnn_url, ".npz"),
                                ("simplified", quickdraw.simplified_url, ".ndjson")):
        for name in HELDOUT:
            infos[url_of(name)] = checksums.compute_url_info(DUMMY / folder / f"{name}{ext}")
    return infos


class _RegisteredDummyChecksums:
    """Mixin: registers the dummy files' checksums for the duration of each test."""

    def setUp(self):
        super().setUp()
        patcher = mock.patch.object(qd.Builder, "url_infos", dummy_url_infos())
        patcher.start()
        self.patchers.append(patcher)


class QuickdrawNpzDownloadTest(_RegisteredDummyChecksums, tfds.testing.DatasetBuilderTestCase):
    """heldout_45 from sketch-rnn npz: 3/1/1 per class, one too long, one empty."""

    DATASET_CLASS = qd.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["heldout_45"]
    DL_DOWNLOAD_RESULT = {name: f"sketchrnn/{name}.npz" for name in HELDOUT}
    SPLITS = {"train": 135, "validation": 45, "test": 45}

    def test_metadata_reports_drops_and_scale(self):
        builder = self._make_builder(config="heldout_45")
        self._download_and_prepare_as_dataset(builder)
        meta = self._make_builder(config="heldout_45").info.metadata  # Reloaded from disk.
        self.assertEqual(meta["train_dropped_too_long"], 1)
        self.assertEqual(meta["test_dropped_degenerate"], 1)
        self.assertEqual(meta["validation_dropped_too_long"], 0)
        self.assertEqual((meta["source"], meta["max_len"], meta["num_classes"]),
                         ("download", 64, 45))
        self.assertGreater(meta["stroke_scale"], 0.0)

    def test_unregistered_npz_is_not_unpickled(self):
        with mock.patch.object(qd.Builder, "url_infos", {}):
            with self.assertRaisesRegex(ValueError, "no checksum for .*refusing to unpickle"):
                self._download_and_prepare_as_dataset(self._make_builder(config="heldout_45"))

    def test_registering_checksums_trusts_the_fresh_download(self):
        register = mock.patch.object(tfds.download.DownloadManager, "register_checksums",
                                     new_callable=mock.PropertyMock, return_value=True)
        with mock.patch.object(qd.Builder, "url_infos", {}), register:
            self._download_and_prepare_as_dataset(self._make_builder(config="heldout_45"))

    def test_npz_with_wrong_checksum_is_not_unpickled(self):
        infos = dummy_url_infos()
        url = quickdraw.sketchrnn_url(HELDOUT[3])
        infos[url] = checksums.UrlInfo(size=infos[url].size, checksum="0" * 64, filename=None)
        with mock.patch.object(qd.Builder, "url_infos", infos):
            with self.assertRaisesRegex(ValueError, f"{HELDOUT[3]}.npz: sha256 .* does not match"):
                self._download_and_prepare_as_dataset(self._make_builder(config="heldout_45"))


class QuickdrawNdjsonDownloadTest(_RegisteredDummyChecksums, tfds.testing.DatasetBuilderTestCase):
    """heldout_45_ndjson: 4 drawings per class + a too-long and a 1-point one, hash splits."""

    DATASET_CLASS = qd.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["heldout_45_ndjson"]
    DL_DOWNLOAD_RESULT = {name: f"simplified/{name}.ndjson" for name in HELDOUT}
    SPLITS = {"train": 162, "validation": 11, "test": 7}


class QuickdrawManualNdjsonTest(tfds.testing.DatasetBuilderTestCase):
    """all_345_ndjson from a manual folder holding 45 of the 345 classes."""

    DATASET_CLASS = qd.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["all_345_ndjson"]
    EXAMPLE_DIR = str(DUMMY / "simplified")
    SPLITS = {"train": 162, "validation": 11, "test": 7}

    def _make_builder(self, config=None):
        return qd.Builder(data_dir=self.tmp_dir, config=config, allow_missing_classes=True)

    def test_missing_classes_fail_unless_allowed(self):
        builder = qd.Builder(data_dir=self.tmp_dir, config="all_345_ndjson")
        with self.assertRaisesRegex(FileNotFoundError, "lacks 300 of the 345 class files"):
            self._download_and_prepare_as_dataset(builder)

    def test_missing_classes_are_recorded(self):
        self._download_and_prepare_as_dataset(self._make_builder(config="all_345_ndjson"))
        meta = self._make_builder(config="all_345_ndjson").info.metadata
        self.assertLen(meta["missing_classes"], 300)
        self.assertIn("zigzag", meta["missing_classes"])
        self.assertEqual((meta["source"], meta["train_dropped_degenerate"]), ("manual", 1))


def build_from(manual_dir, data_dir, config="all_345_ndjson"):
    """Builds from a manual folder outside the test harness's patches."""
    builder = qd.Builder(data_dir=str(data_dir), config=config, allow_missing_classes=True)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


class QuickdrawDeterminismAndErrorsTest(tfds.testing.TestCase):
    """Building twice gives identical files; a truncated file is named in the error."""

    def test_building_twice_gives_identical_files(self):
        root = pathlib.Path(self.get_temp_dir())
        first = build_from(DUMMY / "simplified", root / "a").data_path
        second = build_from(DUMMY / "simplified", root / "b").data_path
        records = sorted(p.name for p in first.glob("*.tfrecord*"))
        self.assertLen(records, 3)
        for name in records:
            self.assertEqual((first / name).read_bytes(), (second / name).read_bytes(), name)

    def test_truncated_ndjson_names_file_and_line(self):
        manual = pathlib.Path(self.get_temp_dir()) / "manual"
        shutil.copytree(DUMMY / "simplified", manual)
        victim = manual / f"{HELDOUT[5]}.ndjson"
        victim.write_bytes(victim.read_bytes()[:-40])  # Cut inside the last drawing.
        with self.assertRaisesRegex(ValueError, f"{victim}:4: invalid JSON .*truncated"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_corrupt_npz_names_the_file(self):
        manual = pathlib.Path(self.get_temp_dir()) / "manual_npz"
        shutil.copytree(DUMMY / "sketchrnn", manual)
        victim = manual / f"{HELDOUT[7]}.npz"
        victim.write_bytes(victim.read_bytes()[:100])
        builder = qd.Builder(data_dir=self.get_temp_dir(), config="heldout_45",
                             allow_manual_pickle=True)
        with self.assertRaisesRegex(ValueError, f"{victim}: not a readable .npz file"):
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))


class QuickdrawManualNpzTest(tfds.testing.DatasetBuilderTestCase):
    """heldout_45 from a manual folder of npz files, with the explicit pickle opt-in."""

    DATASET_CLASS = qd.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["heldout_45"]
    EXAMPLE_DIR = str(DUMMY / "sketchrnn")
    SPLITS = {"train": 135, "validation": 45, "test": 45}

    def _make_builder(self, config=None):
        return qd.Builder(data_dir=self.tmp_dir, config=config, allow_manual_pickle=True)

    def test_manual_npz_needs_the_opt_in(self):
        builder = qd.Builder(data_dir=self.tmp_dir, config="heldout_45")
        with self.assertRaisesRegex(ValueError, "allow_manual_pickle=True"):
            self._download_and_prepare_as_dataset(builder)


if __name__ == "__main__":
    tfds.testing.test_main()

"""Builder tests for hanzi_medians on the synthetic dummy tarball (make_dummy_data.py).

Dummy characters: 12 train (月 too long, 永 degenerate: 10 kept) and 3 validation
(三, 大, 火), plus 4 non-character members; the download is mocked to return it.
"""

import doctest
import gzip
import hashlib
import io
import pathlib
import tarfile
from unittest import mock

import numpy as np
import tensorflow_datasets as tfds

from sketchembednet.data import hanzi
from sketchembednet.data.errors import DataFileError
from tfds_builders.hanzi_medians import hanzi_medians_dataset_builder as hm

DUMMY = pathlib.Path(hm.__file__).parent / "dummy_data"
DUMMY_TGZ = DUMMY / "hanzi-writer-data-dummy.tgz"


class HanziMediansTest(tfds.testing.DatasetBuilderTestCase):
    """Downloads (mocked) the registered npm tarball URL; dummy_data/ is the manual dir."""

    DATASET_CLASS = hm.Builder
    DL_DOWNLOAD_RESULT = DUMMY_TGZ.name
    SPLITS = {"train": 10, "validation": 3}

    def test_metadata_counts_and_features(self):
        self._download_and_prepare_as_dataset(self._make_builder())
        builder = self._make_builder()  # Reloaded from the prepared files.
        meta = builder.info.metadata
        self.assertEqual(
            {k: meta[f"{s}_{k}"] for s in hm.SPLITS
             for k in ("num_source", "dropped_too_long", "dropped_degenerate")},
            {"num_source": 3, "dropped_too_long": 0, "dropped_degenerate": 0})  # validation
        self.assertEqual((meta["train_num_source"], meta["train_dropped_too_long"],
                          meta["train_dropped_degenerate"]), (12, 1, 1))
        self.assertEqual((meta["num_source"], meta["ignored_tar_members"], meta["source"]),
                         (15, 4, "download"))
        self.assertEqual((meta["max_len"], meta["image_size"], meta["rdp_epsilon"]),
                         (64, 28, 12.0))
        self.assertGreater(meta["stroke_scale"], 0.0)
        self.assertNotIn("image", builder.info.features)
        self.assertIsNone(builder.info.supervised_keys)
        self.assertEqual(hm.Builder.IMAGE_SIZE, 28)
        examples = {ex["character"].decode(): ex
                    for ex in tfds.as_numpy(builder.as_dataset(split="validation"))}
        self.assertEqual(set(examples), {"三", "大", "火"})
        big = examples["大"]
        self.assertEqual(big["id"].decode(), "U+5927")
        self.assertEqual(big["strokes"].dtype, np.float32)
        self.assertEqual(int(big["strokes"][:, 2].sum()), big["num_strokes"])


def build_from(manual_dir, data_dir):
    builder = hm.Builder(data_dir=str(data_dir))
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


class HanziManualAndErrorsTest(tfds.testing.TestCase):
    """The manual tarball is verified; corrupt inputs are named in the error."""

    def manual(self, data: bytes) -> pathlib.Path:
        manual = pathlib.Path(self.get_temp_dir()) / "manual"
        manual.mkdir(exist_ok=True)
        (manual / hanzi.TARBALL_NAME).write_bytes(data)
        return manual

    def registered_as(self, data: bytes):
        """Pretends ``data`` is the tarball registered in checksums.tsv."""
        return mock.patch.object(hm.Builder, "_expected_checksum",
                                 lambda self: (len(data), hashlib.sha256(data).hexdigest()))

    def test_doctests(self):
        self.assertEqual(doctest.testmod(hm).failed, 0)

    def test_registered_checksum_is_the_real_tarball(self):
        self.assertEqual(hm.Builder(data_dir=self.get_temp_dir())._expected_checksum(), (
            13484680, "72baf3d82b114e60d6e40ea05f24d2262a05cd39d544e2f322ba2fceb7beff15"))

    def test_manual_tarball_with_another_checksum_is_refused(self):
        manual = self.manual(DUMMY_TGZ.read_bytes())
        with self.assertRaisesRegex(DataFileError,
                                    f"{manual / hanzi.TARBALL_NAME}: size 2[0-9]+ and sha256"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_verified_manual_tarball_is_used(self):
        data = DUMMY_TGZ.read_bytes()
        root = pathlib.Path(self.get_temp_dir())
        with self.registered_as(data):
            builder = build_from(self.manual(data), root / "tfds")
        self.assertEqual(builder.info.metadata["source"], "manual")
        self.assertEqual(builder.info.splits["train"].num_examples, 10)

    def test_building_twice_gives_identical_files(self):
        data = DUMMY_TGZ.read_bytes()
        root = pathlib.Path(self.get_temp_dir())
        with self.registered_as(data):
            first = build_from(self.manual(data), root / "a").data_path
            second = build_from(self.manual(data), root / "b").data_path
        records = sorted(p.name for p in first.glob("*.tfrecord*"))
        self.assertLen(records, 2)
        for name in records:
            self.assertEqual((first / name).read_bytes(), (second / name).read_bytes(), name)

    def test_truncated_tarball_names_the_file(self):
        data = DUMMY_TGZ.read_bytes()[:-300]
        manual = self.manual(data)
        with self.registered_as(data), self.assertRaisesRegex(
                DataFileError, f"{manual / hanzi.TARBALL_NAME}: not a readable .tgz"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_malformed_member_is_named(self):
        with tarfile.open(DUMMY_TGZ) as src:
            members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb") as gz, tarfile.open(fileobj=gz, mode="w") as dst:
            for info, content in members:
                if info.name == "package/口.json":
                    content = content.replace(b'"medians"', b'"median"')
                    info.size = len(content)
                dst.addfile(info, io.BytesIO(content))
        data = buf.getvalue()
        manual = self.manual(data)
        with self.registered_as(data), self.assertRaisesRegex(
                DataFileError, f"{manual / hanzi.TARBALL_NAME}: package/口.json: no 'medians'"):
            build_from(manual, pathlib.Path(self.get_temp_dir()) / "tfds")

    def test_dummy_dir_has_no_tarball_of_the_real_name(self):
        # HanziMediansTest uses dummy_data/ as its manual dir and must take the download path.
        self.assertFalse((DUMMY / hanzi.TARBALL_NAME).exists())


if __name__ == "__main__":
    tfds.testing.test_main()

"""mini-ImageNet with the Ravi & Larochelle split: 64/16/20 classes of 600 84x84 images.

    import tfds_builders  # registers the builder
    ds = tfds.load("mini_imagenet", split="test")  # after the manual download

SketchEmbedNet evaluates its Sketchy model few-shot on the 20 test classes
(Wang et al. 2021, Sec. 4.3). Read from the manual directory in one of three
layouts (``sketchembednet.data.mini_imagenet``): the cache pickles, the CSVs
with an ``images/`` folder, or the CSVs with ILSVRC-2012 class folders. Every
split must have exactly its shipped classes (``wnids_*.txt``) with 600 images
each; anything else is an error naming the file (``allow_partial=True`` accepts
subsets, for tests and partial copies, and records the counts).
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from sketchembednet.data import mini_imagenet
from sketchembednet.data.errors import DataFileError

IMAGES_PER_CLASS = 600
SPLIT_FILES = {"train": "train", "validation": "val", "test": "test"}  # split -> file stem
_HERE = epath.Path(__file__).parent


def _wnids(file_name: str) -> list[str]:
    return sorted((_HERE / file_name).read_text(encoding="utf-8").split())


WNIDS = {"train": _wnids("wnids_train_64.txt"), "validation": _wnids("wnids_val_16.txt"),
         "test": _wnids("wnids_test_20.txt")}
ALL_WNIDS = sorted(w for wnids in WNIDS.values() for w in wnids)


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for mini-ImageNet (manual download).

    Args:
      allow_pickle: read the cache pickles (they are unpickled with a NumPy-only
        unpickler, but pickles can run code: opt in only for files you trust).
      allow_partial: accept splits with a subset of their classes or other than
        600 images per class (counts recorded in the metadata). Default False.
      **kwargs: for ``tfds.core.GeneratorBasedBuilder``.
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release: Ravi-Larochelle split from pickles or CSVs."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Put ONE of these layouts into the manual directory:
      1. mini-imagenet-cache-train.pkl, mini-imagenet-cache-val.pkl,
         mini-imagenet-cache-test.pkl (needs allow_pickle=True);
      2. train.csv, val.csv, test.csv (Ravi & Larochelle) and images/<file name>.jpg;
      3. train.csv, val.csv, test.csv and imagenet/<wnid>/<wnid>_<n>.JPEG, the
         ILSVRC-2012 training folders of the 100 classes.
    """

    def __init__(self, *, allow_pickle: bool = False, allow_partial: bool = False, **kwargs):
        self._allow_pickle = bool(allow_pickle)
        self._allow_partial = bool(allow_partial)
        super().__init__(**kwargs)
        self._original_state.update(allow_pickle=self._allow_pickle,
                                    allow_partial=self._allow_partial)

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(84, 84, 3)),
                "label": tfds.features.ClassLabel(names=ALL_WNIDS),
                "wnid": tfds.features.Text(),
                "image_id": tfds.features.Text(doc="CSV file name stem, or <wnid>_<rank>."),
            }),
            supervised_keys=("image", "label"),
            homepage="https://github.com/twitter-research/meta-learning-lstm",
            metadata=tfds.core.MetadataDict(),
        )

    def _layout(self, root: epath.Path) -> str:
        pickles = [root / f"mini-imagenet-cache-{s}.pkl" for s in SPLIT_FILES.values()]
        csvs = [root / f"{s}.csv" for s in SPLIT_FILES.values()]
        if all(p.exists() for p in pickles):
            if not self._allow_pickle:
                raise DataFileError(f"{pickles[0]}: pickles can run code when loaded; pass "
                                    "allow_pickle=True to the builder if you trust these files")
            return "pickle"
        if all(p.exists() for p in csvs):
            for folder in ("images", "imagenet"):
                if (root / folder).exists():
                    return f"csv_{folder}"
        raise FileNotFoundError(f"mini_imagenet: no complete layout in {root}:\n"
                                f"{self.MANUAL_DOWNLOAD_INSTRUCTIONS}")

    def _check_classes(self, split: str, counts: dict, source) -> None:
        """Raises unless ``counts`` ({wnid: images}) is the split's expected class set."""
        expected = set(WNIDS[split])
        wrong = sorted(set(counts) - expected)
        missing = sorted(expected - set(counts))
        bad = {w: n for w, n in counts.items() if n != IMAGES_PER_CLASS}
        if wrong or ((missing or bad) and not self._allow_partial):
            raise DataFileError(f"{source}: {split} should have the {len(expected)} classes of "
                                f"wnids_{SPLIT_FILES[split]}*.txt with {IMAGES_PER_CLASS} images "
                                f"each; unexpected {wrong[:5]}, missing {missing[:5]}, "
                                f"counts {dict(list(bad.items())[:5])}")

    def _split_generators(self, dl_manager):
        root = dl_manager.manual_dir
        layout = self._layout(root)
        logging.info("mini_imagenet: reading the %s layout from %s", layout, root)
        self.info.metadata.update(source_layout=layout)
        out = {}
        for split, stem in SPLIT_FILES.items():
            if layout == "pickle":
                pickle = root / f"mini-imagenet-cache-{stem}.pkl"
                out[split] = self._generate_examples(split, pickle)
                continue
            classes = mini_imagenet.read_csv(root / f"{stem}.csv")
            self._check_classes(split, {w: len(v) for w, v in classes.items()},
                                root / f"{stem}.csv")
            self.info.metadata.update({f"{split}_num_classes": len(classes),
                                       f"{split}_num_images": sum(map(len, classes.values()))})
            out[split] = self._generate_examples(split, root, classes, layout)
        return out

    def _generate_examples(self, split: str, path: epath.Path, classes=None, layout="pickle"):
        """Examples of one split: from a cache pickle, or from a CSV's ``classes``."""
        if layout == "pickle":
            yield from self._from_pickle(split, path)
        else:
            yield from self._from_csv(classes, path, layout)

    def _from_pickle(self, split: str, path: epath.Path):
        images, classes = mini_imagenet.read_cache(path)
        self._check_classes(split, {w: len(v) for w, v in classes.items()}, path)
        self.info.metadata.update({f"{split}_num_classes": len(classes),
                                   f"{split}_num_images": len(images)})
        for wnid in sorted(classes):
            for rank, row in enumerate(classes[wnid]):
                image_id = f"{wnid}_{rank:03d}"
                yield image_id, self._example(images[row], wnid, image_id)

    def _from_csv(self, classes: dict, root: epath.Path, layout: str):
        for wnid in sorted(classes):
            files = mini_imagenet.imagenet_files(root / "imagenet" / wnid) \
                if layout == "csv_imagenet" else None
            for image_id, rank in classes[wnid]:
                if files is None:
                    path = root / "images" / f"{image_id}.jpg"
                elif not 1 <= rank <= len(files):
                    raise DataFileError(f"{root / 'imagenet' / wnid}: {image_id} needs image "
                                        f"number {rank}, the folder has {len(files)}")
                else:
                    path = files[rank - 1]
                yield image_id, self._example(mini_imagenet.load_image(path), wnid, image_id)

    def _example(self, image: np.ndarray, wnid: str, image_id: str) -> dict:
        return {"image": image, "label": wnid, "wnid": wnid, "image_id": image_id}

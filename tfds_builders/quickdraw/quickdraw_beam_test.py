"""The quickdraw builder on Apache Beam (DirectRunner) against its generator path.

Builds ``all_345_ndjson`` from the shared pack's 344 x 25 real drawings (read in
place as the manual directory) twice: as a plain generator, and as a Beam
pipeline with a worker per class file. Needs the ``beam`` extra
(``pip install '.[beam]'``, which ``.ci/run`` installs) and the shared pack;
skipped with the reason otherwise.
"""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from tfds_builders.quickdraw import quickdraw_dataset_builder as qd

SAMPLE_345 = "quickdraw/simplified_345cls_25each"


def _examples(builder, split):
    return {ex["key_id"]: (int(ex["label"]), ex["strokes"].tobytes())
            for ex in tfds.as_numpy(builder.as_dataset(split=split))}


def test_beam_build_equals_the_generator_build(shared_data, tmp_path):
    beam = pytest.importorskip("apache_beam", reason="the beam extra is not installed "
                               "(pip install '.[beam]')")
    manual = str(shared_data / SAMPLE_345)
    built = {}
    for how in ("generator", "beam"):
        config = tfds.download.DownloadConfig(manual_dir=manual)
        if how == "beam":  # As `tfds build --beam_pipeline_options=...` passes it.
            config = tfds.download.DownloadConfig(
                manual_dir=manual, beam_runner="DirectRunner",
                beam_options=beam.options.pipeline_options.PipelineOptions(
                    flags=[], direct_num_workers=1))
        builder = qd.Builder(data_dir=str(tmp_path / how), config="all_345_ndjson",
                             allow_missing_classes=True)
        builder.download_and_prepare(download_config=config)
        built[how] = qd.Builder(data_dir=str(tmp_path / how), config="all_345_ndjson",
                                allow_missing_classes=True)  # Reloaded from disk.
    meta = {how: dict(b.info.metadata) for how, b in built.items()}
    assert (meta["generator"]["built_with"], meta["beam"]["built_with"]) == ("generator", "beam")
    for key, value in meta["generator"].items():  # The data-derived metadata agree.
        if key not in ("built_with", "parse_seconds"):
            assert meta["beam"][key] == pytest.approx(value), key
    assert meta["beam"]["stroke_scale"] == pytest.approx(36.578, abs=1e-3)
    assert meta["beam"]["train_dropped_too_long"] == 1184
    for split in ("train", "validation", "test"):
        ours, theirs = _examples(built["beam"], split), _examples(built["generator"], split)
        assert len(ours) == built["generator"].info.splits[split].num_examples > 0
        assert ours == theirs, split  # The same examples, strokes bit for bit.
    assert np.isclose(sum(len(_examples(built["beam"], s)) for s in ("train", "validation",
                                                                     "test")), 6518 + 406 + 336)

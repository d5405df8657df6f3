r"""Writes ``pipeline_golden.npz``: batches of the input pipeline as it was before
images were rendered on the fly.

Generated at commit 90a1713, when the ``kanjivg`` builder (1.0.0) stored 28x28
renderings and ``pipeline.load`` read them. ``tests/data/pipeline_test.py``
checks that the streaming pipeline (which renders in ``tf.data``) gives the same
batches, bit for bit, for the same seed with augmentation off. Re-running this
script on a later commit would only compare the pipeline with itself; it is kept
to show exactly what the fixture holds:

    git worktree add /tmp/old 90a1713 && cd /tmp/old && \
      python tests/data/testdata/make_pipeline_golden.py /tmp/tfds_old
"""

import pathlib
import sys

import numpy as np

from sketchembednet.data import pipeline

OUT = pathlib.Path(__file__).resolve().parent / "pipeline_golden.npz"
CASES = {  # name -> (load kwargs, batches taken)
    "plain": (dict(shuffle=True, repeat=True, seed=3), 3),
    "bucketed": (dict(shuffle=True, repeat=True, seed=5, length_buckets=(24, 32, 40)), 4),
}


def main(data_dir: str) -> None:
    arrays = {}
    for name, (kwargs, n) in CASES.items():
        ds, _ = pipeline.load("kanjivg", "validation", 64, 16, data_dir=data_dir, **kwargs)
        for i, batch in enumerate(ds.take(n)):
            for key, value in batch.items():
                arrays[f"{name}/{i}/{key}"] = value.numpy()
    sources = [dict(name="kanjivg", split="validation", data_dir=data_dir),
               dict(name="kanjivg", split="train[:5%]", data_dir=data_dir)]
    ds, _ = pipeline.load_mixture(sources, 64, 16, seed=1, weights=(3, 1))
    for i, batch in enumerate(ds.take(3)):
        for key, value in batch.items():
            arrays[f"mixture/{i}/{key}"] = value.numpy()
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(arrays)} arrays)")


if __name__ == "__main__":
    main(sys.argv[1])

r"""The paper's Quickdraw configuration (Wang et al. 2021, Sec. 4.1; Table 3).

    python -m sketchembednet.train --config=quickdraw --workdir=runs/quickdraw \
        --strategy=mirrored

Conv4 encoder, HyperLSTM 1024/512/64, M=30, T=64, 28x28 inputs, batch 256,
300k steps, α +0.05 every 10k steps up to 0.5. Needs the `quickdraw` TFDS
dataset (tfds_builders/quickdraw); its default config is `paper_300_ndjson` (the
paper's 300 classes from Google's simplified ndjson files). For the sketch-rnn npz
files the paper used, register their checksums once (tfds_builders/quickdraw/README.md)
and add `--config.dataset.name=quickdraw/paper_300`. At batch 256 this is about 4 GFLOP per
example per step: days on CPU, about a day on one modern GPU.
"""

from sketchembednet.configs import base


def get_config(arg: str = ""):
    del arg
    return base.get_base_config()

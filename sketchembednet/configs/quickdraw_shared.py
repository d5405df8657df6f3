r"""The CPU-sized model on the real Quick, Draw! sample of the shared data pack.

    python tools/shared_quickdraw.py --out=/tmp/quickdraw_shared
    python -m sketchembednet.train --config=quickdraw_shared \
        --config.dataset.manual_dir=/tmp/quickdraw_shared --workdir=runs/quickdraw_shared

Trains on the paper's 300 training classes (``quickdraw/paper_300_ndjson``) as far as
the sample has them: 299 classes (``zigzag`` is missing upstream), 25 drawings each,
500 (cat: 2,000) for 14 of them; the train split is the 90% chosen by a hash of each
drawing's ``key_id``, so validation and test drawings of the same classes are never
trained on. The held-out 45 classes (``quickdraw/heldout_45_ndjson``) stay unseen. The
model, steps, α and learning-rate schedules are the demo's (``cpu`` preset, batch 64,
3,000 steps, α +0.05 every 100 steps up to 0.5), with length bucketing.

The dataset is built into its own TFDS data dir (``<TFDS_DATA_DIR or
~/tensorflow_datasets>/quickdraw_shared_sample``), so this partial sample never stands
in for a full ``quickdraw`` build. ``--config=quickdraw_shared:conv_vae`` and
``:contrastive`` train the baselines on the same data (as ``demo``).
"""

from sketchembednet.configs import demo


def get_config(arg: str = ""):
    c = demo.get_config(arg)
    c.dataset.name = "quickdraw/paper_300_ndjson"
    c.dataset.manual_dir = "{quickdraw_dir}"  # $SKETCHEMBEDNET_QUICKDRAW_DIR (paths.expand).
    c.dataset.data_dir = "{tfds_data_dir}/quickdraw_shared_sample"
    c.dataset.builder_kwargs.allow_missing_classes = True
    return c

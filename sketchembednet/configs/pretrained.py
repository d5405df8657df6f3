r"""The shipped pretrained model (issue 8): KanjiVG + the shared Quick, Draw! sample, on CPU.

    python tools/shared_quickdraw.py --out=/tmp/quickdraw_shared
    SKETCHEMBEDNET_QUICKDRAW_DIR=/tmp/quickdraw_shared \
        python -m sketchembednet.train --config=pretrained:small --workdir=runs/pretrained-small

Trains on two real stroke datasets at once (``dataset.mix``, sampled by size): the
embedded ``kanjivg`` dataset (11.7k KanjiVG characters, train split) and the paper's
300 Quickdraw training classes as far as the shared sample has them
(``quickdraw/paper_300_ndjson``, 14k drawings in the train split by key hash; built in
its own data dir, as in ``quickdraw_shared``). No Omniglot data: Omniglot is the
few-shot benchmark. Both are 28x28 with T = 64, length-bucketed, in mixed bfloat16
(where the CPU has native bf16; issue 5 measured 2x over fp32 padded with bucketing).

Variants (comma-combinable with ``conv_vae`` / ``contrastive`` for the baselines on
the same data and steps):

* ``small``: the ``cpu`` preset (HyperLSTM 256/64/16, M = 20), 9,000 steps at batch 64;
* ``mid``: HyperLSTM 512/128/32, M = 30, 3,600 steps at batch 64 (about the same
  wall time: a step costs ~2.5x).

α rises +0.05 every ``steps / 30`` steps, reaching 0.5 at a third of the run as in the
paper (100k of 300k); the learning rate decays x0.85 every ``steps / 3`` steps.
"""

from sketchembednet.configs import base
from sketchembednet.configs import demo

VARIANTS = {
    "small": dict(preset="cpu", overrides={}, steps=9_000),
    "mid": dict(preset="cpu", overrides=dict(rnn_units=512, hyper_units=128,
                                             hyper_embedding_size=32, num_mixtures=30),
                steps=3_600),
}


def get_config(arg: str = "small"):
    parts = [p for p in (arg or "small").split(",") if p]
    sizes = [p for p in parts if p in VARIANTS]
    kinds = [p for p in parts if p not in VARIANTS]
    if len(sizes) != 1 or set(kinds) - {"conv_vae", "contrastive"}:
        raise ValueError(f"pretrained:{arg}: give one of {sorted(VARIANTS)}, optionally with "
                         "conv_vae or contrastive (comma-separated)")
    variant = VARIANTS[sizes[0]]
    c = demo.get_config(",".join(kinds))
    kind, kl_weight = c.model.kind, c.model.kl_weight
    c.model = base.model_config(variant["preset"], mask_after_end=True,
                                precision="mixed_bfloat16", **variant["overrides"])
    c.model.kind, c.model.kl_weight = kind, kl_weight
    c.dataset.mix = (dict(
        name="quickdraw/paper_300_ndjson", split="train",
        manual_dir="{quickdraw_dir}",  # $SKETCHEMBEDNET_QUICKDRAW_DIR (paths.expand).
        data_dir="{tfds_data_dir}/quickdraw_shared_sample",
        builder_kwargs=dict(allow_missing_classes=True)),)
    steps = variant["steps"]
    c.train.num_steps = steps
    c.alpha.interval = steps // 30
    c.optim.decay_steps = steps // 3
    c.train.checkpoint_every = 500
    c.train.sample_every = 1_000
    return c

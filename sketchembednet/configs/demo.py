r"""Demo: train the CPU-sized model on the embedded KanjiVG dataset.

    python -m sketchembednet.train --strategy=mirrored        # this config is the default
    python -m sketchembednet.train --config=demo:tiny          # a few seconds, for tests
    python -m sketchembednet.train --config=demo:conv_vae      # the baselines, same data,
    python -m sketchembednet.train --config=demo:contrastive   # steps and encoder

Runs offline on a fresh machine: the dataset is built from the `kanjivg` package
that installs with the project. The `cpu` preset (HyperLSTM 256/64/16, M=20,
Conv4, z 256) at batch 64 for 3,000 steps takes about 10 minutes on 2 CPU cores.
The α curriculum is compressed to the run's length: +0.05 every 100 steps, so
it reaches 0.5 at step 1,000, a third of the run, as the paper's does at 100k of
300k steps. The learning rate decays x0.85 every 1,000 steps (x0.61 in all).
Batches are bucketed by length and cut to their longest sketch (``mask_after_end``:
nothing after a sketch's end token enters its loss), about 1.5x faster here.
"""

from sketchembednet.configs import base


def get_config(arg: str = ""):
    c = base.get_base_config()
    c.dataset.name = "kanjivg"
    # Length bucketing (KanjiVG averages ~31 rows of T = 64): ~1.5x the examples/s, with
    # per-example losses that ignore padding.
    c.dataset.length_buckets = (24, 32, 40, 48, 56)
    c.model = base.model_config("cpu", mask_after_end=True)
    c.alpha.interval = 100
    c.optim.decay_steps = 1_000
    c.train.batch_size = 64
    c.train.num_steps = 3_000
    c.train.steps_per_loop = 25
    c.train.log_every = 50
    c.train.sample_every = 500
    c.train.checkpoint_every = 250
    variants = [v for v in arg.split(",") if v]
    unknown = set(variants) - {"tiny", "conv_vae", "contrastive"}
    if unknown:
        raise ValueError(f"unknown demo variant(s) {sorted(unknown)}; use tiny, conv_vae, "
                         "contrastive or a comma-separated combination")
    if "tiny" in variants:  # Seconds, for tests: a tiny model and a handful of steps.
        c.dataset.length_buckets = ()
        c.model = base.model_config("tiny")
        c.dataset.eval_split = "validation[:32]"
        c.train.batch_size = 8
        c.train.num_steps = 20
        c.train.steps_per_loop = 5
        c.train.log_every = 5
        c.train.sample_every = 10
        c.train.checkpoint_every = 10
        c.train.num_samples = 8
        c.alpha.interval = 5
    # The paper's baselines on the same data, model size and steps (issue 7).
    if "conv_vae" in variants:
        c.model.kind = "conv_vae"
        c.model.kl_weight = 1.0  # A VAE (the SketchEmbedNet run has no KL term).
    if "contrastive" in variants:
        c.model.kind = "contrastive"
    return c

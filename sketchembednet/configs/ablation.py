r"""Recipes for the shipped encoder's ablation (issue 21), run at equal wall-clock time.

    python tools/shared_quickdraw.py --out=/tmp/quickdraw_shared
    SKETCHEMBEDNET_QUICKDRAW_DIR=/tmp/quickdraw_shared python tools/ablate.py --minutes=25

The base is the shipped recipe (``pretrained:small``): the ``cpu`` preset, batch 64,
mixed bfloat16, length-bucketed, on KanjiVG + the shared Quick, Draw! sample, sampled
in proportion to their sizes. The argument adds comma-separated changes:

* ``hershey``: + the ``hershey`` dataset (32 Hershey fonts, 2.7k glyphs, offline);
* ``hanzi``: + ``hanzi_medians`` (Make Me a Hanzi stroke medians, 8.3k characters;
  built from ``{shared_data}/hanzi_writer_data``, the npm tarball's folder);
* ``aug``: stroke-space augmentation (:data:`AUGMENT`);
* ``b256``: batch 256 instead of 64 (learning rate unchanged);
* ``mid``: the decoder between ``cpu`` and ``paper`` (HyperLSTM 512/128/32, M = 30);
* ``aux``: the auxiliary contrastive term (``model.aux_contrastive_weight`` =
  :data:`AUX_WEIGHT`, InfoNCE between two augmented renderings; needs ``aug``);
* ``conv_vae`` / ``contrastive``: the baseline of that kind instead of SketchEmbedNet,
  on the same data and augmentation (the model card's baselines; not with ``mid`` or
  ``aux``, which change SketchEmbedNet's decoder and objective);
* ``steps=N``: the run's length (default 9,000, the shipped model's). The schedules
  follow it as in ``pretrained``: α +0.05 every N / 30 steps (0.5 at a third), the
  learning rate x0.85 every N / 3 steps.

Sources are mixed in proportion to their train-split sizes (``mix_weights`` empty): no
source is up- or down-weighted. No Omniglot data is trained on: Omniglot is the
few-shot benchmark.

Example:
  >>> c = get_config("hershey,aug,steps=3000")
  >>> [s["name"] for s in c.dataset.mix], c.alpha.interval, c.dataset.augment.rotation
  (['quickdraw/paper_300_ndjson', 'hershey'], 100, 15.0)
"""

from sketchembednet.configs import base
from sketchembednet.configs import pretrained

# Stroke-space augmentation of the ``aug`` rows (data/augment.py): mild enough that a
# character stays itself (a 15-degree turn, 10% shear and scale, jitter of 2% of the
# stroke scale, 10% of the points inside a stroke dropped).
AUGMENT = dict(rotation=15.0, shear=0.1, scale=0.1, jitter=0.02, drop_points=0.1)
AUX_WEIGHT = 0.1
MID = dict(rnn_units=512, hyper_units=128, hyper_embedding_size=32, num_mixtures=30)
HERSHEY = dict(name="hershey", split="train")
HANZI = dict(name="hanzi_medians", split="train", manual_dir="{shared_data}/hanzi_writer_data")
KINDS = ("conv_vae", "contrastive")
CHANGES = ("hershey", "hanzi", "aug", "b256", "mid", "aux") + KINDS


def parse(arg: str) -> tuple[set, int]:
    """The changes and the step count of an argument like ``"hershey,aug,steps=3000"``.

    Raises:
      ValueError: naming unknown changes, or ``aux`` without ``aug``.
    """
    changes, steps = set(), 9_000
    for part in (p.strip() for p in (arg or "").split(",")):
        if part.startswith("steps="):
            steps = int(part.split("=", 1)[1])
        elif part:
            changes.add(part)
    unknown = changes - set(CHANGES)
    if unknown:
        raise ValueError(f"ablation:{arg}: unknown change(s) {sorted(unknown)}; use "
                         f"{', '.join(CHANGES)} and steps=N")
    if "aux" in changes and "aug" not in changes:
        raise ValueError(f"ablation:{arg}: aux needs aug (two different views of a drawing)")
    kinds = changes & set(KINDS)
    if len(kinds) > 1 or (kinds and changes & {"mid", "aux"}):
        raise ValueError(f"ablation:{arg}: one baseline kind ({' or '.join(KINDS)}) at most, "
                         "and not with mid or aux (SketchEmbedNet's decoder and objective)")
    if steps <= 0:
        raise ValueError(f"ablation:{arg}: steps must be positive")
    return changes, steps


def get_config(arg: str = ""):
    changes, steps = parse(arg)
    c = pretrained.get_config(",".join(["small", *sorted(changes & set(KINDS))]))
    if "mid" in changes:
        kind = c.model.kind
        c.model = base.model_config("cpu", mask_after_end=True, precision="mixed_bfloat16",
                                    **MID)
        c.model.kind = kind
    c.dataset.mix = tuple(c.dataset.mix) + tuple(
        dict(source) for name, source in (("hershey", HERSHEY), ("hanzi", HANZI))
        if name in changes)
    if "aug" in changes:
        c.dataset.augment.update(AUGMENT)
    if "b256" in changes:
        c.train.batch_size = 256
    if "aux" in changes:
        c.model.aux_contrastive_weight = AUX_WEIGHT
    c.train.num_steps = steps
    c.alpha.interval = max(steps // 30, 1)
    c.optim.decay_steps = max(steps // 3, 1)
    return c

"""Fields shared by every training config, with the paper's defaults.

The numbers follow Wang et al. 2021 (reference notes Sec. 2-3): Adam 1e-3
decaying x0.85 every 15k steps (smooth), element-wise gradient value clipping
at 1.0, batch 256, 300k steps, and the α curriculum +0.05 every 10k steps.
"""

import ml_collections

from sketchembednet.models import presets

# Model fields that the trainer sets itself (from dataset.max_len and the α schedule).
_TRAINER_OWNED = ("max_seq_len", "alpha")


def model_config(preset: str, **overrides) -> ml_collections.ConfigDict:
    """The flat model config of a preset (see ``sketchembednet.models.presets``)."""
    fields = presets.resolve_config(preset, **overrides)
    for key in _TRAINER_OWNED:
        fields.pop(key)
    fields["seed"] = 0 if fields["seed"] is None else fields["seed"]
    if isinstance(fields["encoder_filters"], tuple):
        fields["encoder_filters"] = list(fields["encoder_filters"])
    return ml_collections.ConfigDict(dict(preset=preset, **fields))


def get_base_config() -> ml_collections.ConfigDict:
    """The paper's Quickdraw run; other configs start from it."""
    c = ml_collections.ConfigDict()

    c.dataset = ml_collections.ConfigDict()
    c.dataset.name = "quickdraw"  # TFDS name of a tfds_builders dataset.
    c.dataset.train_split = "train"  # Split trained on.
    c.dataset.eval_split = "validation"  # Split whose images feed the sample grids.
    c.dataset.max_len = 64  # T: stroke-3 rows; longer sketches are dropped (and counted).
    c.dataset.data_dir = ""  # TFDS data dir; "" = ~/tensorflow_datasets.
    c.dataset.manual_dir = ""  # Manually downloaded source files (used when building).
    # Builder keyword arguments, e.g. allow_missing_classes=True for a partial Quickdraw folder.
    c.dataset.builder_kwargs = ml_collections.ConfigDict()
    # Length bucketing: upper lengths of the buckets, e.g. (24, 32, 40, 48, 56); () = off.
    # Batches are cut to their longest sketch; needs model.mask_after_end = True.
    c.dataset.length_buckets = ()
    # More training sources mixed in (pipeline.load_mixture): a tuple of dicts with "name"
    # and optionally "split", "data_dir", "manual_dir", "builder_kwargs". The image shapes
    # must match. Sampled by split size, or by mix_weights (the main dataset's first).
    c.dataset.mix = ()
    c.dataset.mix_weights = ()
    # Streaming (pipeline.load): examples in the shuffle buffer (a split smaller than this
    # is shuffled whole), and the memory (MiB) under which a split's strokes are cached.
    c.dataset.shuffle_buffer = 50_000
    c.dataset.cache_budget_mib = 1024
    # Stroke-space augmentation before rendering (data/augment.py); all 0 = off, the paper's.
    c.dataset.augment = ml_collections.ConfigDict(dict(
        rotation=0.0,  # Largest rotation, degrees.
        shear=0.0,  # Largest shear factor.
        scale=0.0,  # Largest relative change of each axis' scale.
        jitter=0.0,  # Point noise std, in stroke scales.
        drop_points=0.0,  # Probability of dropping a pen-down point inside a stroke.
    ))

    c.model = model_config("paper")  # Conv4, HyperLSTM 1024/512/64, M=30, z 256.

    c.alpha = ml_collections.ConfigDict()
    c.alpha.start = 0.0  # α before the first increment.
    c.alpha.increment = 0.05  # Added every `interval` steps.
    c.alpha.interval = 10_000  # Global steps between increments.
    c.alpha.max = 0.5  # Cap: 0.5 Quickdraw, 0.75 Sketchy (paper, Table 3).
    c.alpha.start_step = 0  # Global step at which the curriculum starts.

    c.optim = ml_collections.ConfigDict()
    c.optim.learning_rate = 1e-3  # Adam initial learning rate.
    c.optim.decay_rate = 0.85  # Multiplied every `decay_steps` (smoothly).
    c.optim.decay_steps = 15_000  # Global steps per decay factor.
    c.optim.clip_value = 1.0  # Element-wise gradient clipping (as the paper's code); 0 = off.

    c.train = ml_collections.ConfigDict()
    c.train.batch_size = 256  # Global batch, split evenly over replicas.
    c.train.num_steps = 300_000  # Global optimizer steps.
    c.train.steps_per_loop = 50  # Steps per compiled inner loop (and progress update).
    c.train.log_every = 250  # Steps between TensorBoard scalar summaries.
    c.train.sample_every = 5_000  # Steps between sample grids in TensorBoard.
    c.train.checkpoint_every = 5_000  # Steps between checkpoints (one is always written at the end).
    c.train.keep_checkpoints = 3  # Checkpoints kept on disk.
    c.train.max_nonfinite_restarts = 3  # Restores after non-finite steps before giving up.
    c.train.num_samples = 32  # Inputs/samples in each grid.
    c.train.sample_temperature = 0.1  # Sampling temperature for grids (0 = greedy).
    c.train.seed = 0  # Data order and initialisation.
    # Wall-clock budget in minutes, summed over every invocation on the workdir (resumes
    # included): training stops at the end of the inner loop that reaches it, with a
    # checkpoint and the usual outputs. For ablations at equal wall-clock time; 0 = none.
    c.train.max_wall_minutes = 0.0
    return c

"""Named model sizes and the factory that builds a SketchEmbedNet from a flat config.

Presets (parameter counts are for 28x28x1 inputs; ``tools/bench_model.py`` prints them):

* ``paper``: Conv4 (64 filters), z 256, HyperLSTM 1024 / hyper 512 / embedding 64,
  M = 30, T = 64: the Quickdraw configuration of Wang et al. 2021 (reference notes
  Sec. 1). About 11.3M parameters: decoder 11.1M of which the HyperLSTM 10.1M, the
  initial-state Dense 0.79M and the head 0.19M; Conv4 0.11M (+ 0.03M embedding heads).
* ``paper_resnet12``: the same decoder with the ResNet-12 encoder (64-128-256-512).
* ``cpu``: trains on 2 CPU cores in minutes: Conv4 (64), z 256, HyperLSTM 256 / hyper
  64 / embedding 16, M = 20 (sketch-rnn's default), T = 64. The main cell shrinks 4x and
  the hyper cell 8x (hyper : main = 1 : 4, embedding : hyper = 1 : 4); the encoder and z
  stay as in the paper, so embeddings keep their size. About 1.1M parameters.
* ``tiny``: for unit tests only.

Example:
  >>> model = build_model("tiny", num_mixtures=2)
  >>> model.decoder.num_mixtures
  2
"""

from sketchembednet import precision
from sketchembednet.models.contrastive import ContrastiveEmbedNet
from sketchembednet.models.conv4_encoder import Conv4Encoder
from sketchembednet.models.conv_vae import ConvVAE
from sketchembednet.models.resnet12_encoder import ResNet12Encoder
from sketchembednet.models.sketch_decoder import SketchDecoder
from sketchembednet.models.sketch_embed_net import SketchEmbedNet

PRESETS = {
    "paper": dict(
        kind="sketchembednet",  # or a baseline: "conv_vae", "contrastive" (see KINDS).
        encoder="conv4",  # "conv4" or "resnet12".
        encoder_filters=64,  # Conv4: channels of every block; ResNet-12: one per stage.
        embedding_dim=256,  # z size.
        rnn_units=1024,  # main HyperLSTM units.
        hyper_units=512,  # hyper LSTM units.
        hyper_embedding_size=64,  # hyper-network embedding size.
        num_mixtures=30,  # bivariate Gaussians in the output mixture.
        recurrent_dropout=0.0,  # dropout rate on the candidate g; the paper's runs: off.
        max_seq_len=64,  # T, stroke-3 rows (Quickdraw/Omniglot 64, Sketchy 100).
        alpha=0.0,  # initial pixel-loss weight (a schedule raises it).
        kl_weight=0.0,  # no KL term in the paper.
        mask_after_end=False,  # the paper's L_pen covers all T positions (True: length bucketing).
        seed=None,  # int seed for the model's noise (z, pixel loss, dropout).
        precision="float32",  # or "mixed_bfloat16": bf16 matmuls, float32 variables/losses.
        temperature=0.1,  # contrastive baseline: InfoNCE temperature.
        # Beyond the paper: SketchEmbedNet's auxiliary InfoNCE between two augmented views
        # (needs dataset.augment); 0 = off, the paper's model with the same variables.
        aux_contrastive_weight=0.0,
        aux_projection_dim=128,  # output size of the auxiliary projection head (and of the
        # contrastive baseline's two projection heads).
        aux_temperature=0.1,  # temperature of the auxiliary InfoNCE.
    ),
}
PRESETS["paper_resnet12"] = dict(
    PRESETS["paper"], encoder="resnet12", encoder_filters=(64, 128, 256, 512)
)
PRESETS["cpu"] = dict(
    PRESETS["paper"], rnn_units=256, hyper_units=64, hyper_embedding_size=16, num_mixtures=20
)
PRESETS["tiny"] = dict(
    PRESETS["paper"], encoder_filters=8, embedding_dim=16, rnn_units=32, hyper_units=16,
    hyper_embedding_size=4, num_mixtures=3,
)


def resolve_config(preset="paper", **overrides):
    """The full flat config of a preset with overrides applied.

    Raises:
      ValueError: for an unknown preset or an unknown config key.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    unknown = set(overrides) - set(PRESETS[preset])
    if unknown:
        raise ValueError(
            f"unknown model config keys {sorted(unknown)}; valid: {sorted(PRESETS[preset])}"
        )
    return dict(PRESETS[preset], **overrides)


def build_encoder(encoder="conv4", encoder_filters=64, embedding_dim=256, seed=None):
    """``Conv4Encoder`` or ``ResNet12Encoder`` from config values.

    Raises:
      ValueError: for an unknown encoder name.
    """
    if encoder == "conv4":
        return Conv4Encoder(filters=int(encoder_filters), embedding_dim=embedding_dim, seed=seed)
    if encoder == "resnet12":
        filters = encoder_filters if isinstance(encoder_filters, (list, tuple)) else (
            encoder_filters, 2 * encoder_filters, 4 * encoder_filters, 8 * encoder_filters
        )
        return ResNet12Encoder(filters=filters, embedding_dim=embedding_dim, seed=seed)
    raise ValueError(f"unknown encoder {encoder!r}; choose 'conv4' or 'resnet12'")


KINDS = ("sketchembednet", "conv_vae", "contrastive")


def build_model(preset="paper", image_shape=(28, 28, 1), **overrides):
    """Builds an (unbuilt) model from a preset name and config overrides.

    ``kind`` selects the model: ``SketchEmbedNet`` or one of the paper's baselines,
    which share the encoder and the training interface (``compute_losses``,
    ``loss_terms``, ``embed``): ``ConvVAE`` (a pixel VAE; ``kl_weight`` is its KL
    weight) and ``ContrastiveEmbedNet`` (InfoNCE between the image embedding and an
    LSTM of ``rnn_units`` over the sketch; ``temperature``). Decoder keys are ignored
    by the baselines, and so are the ``aux_*`` keys of SketchEmbedNet's optional
    auxiliary contrastive term (``configs.checks`` refuses them for a baseline).

    Args:
      preset: a key of ``PRESETS``.
      image_shape: ``(S, S, C)`` of the inputs (the Conv-VAE's decoder needs it).
      **overrides: any key of the preset (e.g. ``num_mixtures=20``). ``precision``
        is ``"float32"`` or ``"mixed_bfloat16"`` (see ``sketchembednet.precision``).

    Returns:
      ``SketchEmbedNet``, ``ConvVAE`` or ``ContrastiveEmbedNet``.

    Raises:
      ValueError: for unknown keys, or ``mixed_bfloat16`` on hardware without bf16.
    """
    cfg = resolve_config(preset, **overrides)
    if cfg["kind"] not in KINDS:
        raise ValueError(f"unknown model kind {cfg['kind']!r}; choose one of {KINDS}")
    precision.check(cfg["precision"])
    with precision.policy_scope(cfg["precision"]):
        encoder = build_encoder(
            cfg["encoder"], cfg["encoder_filters"], cfg["embedding_dim"], cfg["seed"]
        )
        if cfg["kind"] == "conv_vae":
            return ConvVAE(encoder, image_shape=tuple(image_shape),
                           kl_weight=cfg["kl_weight"], seed=cfg["seed"])
        if cfg["kind"] == "contrastive":
            return ContrastiveEmbedNet(encoder, rnn_units=cfg["rnn_units"],
                                       projection_dim=cfg["aux_projection_dim"],
                                       temperature=cfg["temperature"], seed=cfg["seed"])
        decoder = SketchDecoder(
            rnn_units=cfg["rnn_units"],
            hyper_units=cfg["hyper_units"],
            hyper_embedding_size=cfg["hyper_embedding_size"],
            num_mixtures=cfg["num_mixtures"],
            recurrent_dropout=cfg["recurrent_dropout"],
            seed=cfg["seed"],
        )
        return SketchEmbedNet(
            encoder,
            decoder,
            max_seq_len=cfg["max_seq_len"],
            alpha=cfg["alpha"],
            kl_weight=cfg["kl_weight"],
            mask_after_end=cfg["mask_after_end"],
            seed=cfg["seed"],
            aux_contrastive_weight=cfg["aux_contrastive_weight"],
            aux_projection_dim=cfg["aux_projection_dim"],
            aux_temperature=cfg["aux_temperature"],
        )


def build_from_config(config):
    """Builds a ``SketchEmbedNet`` from a dict with a ``preset`` key plus overrides."""
    config = dict(config)
    return build_model(config.pop("preset", "paper"), **config)

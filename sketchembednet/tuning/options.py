"""Search options (the CLI's flags as a dataclass) and their checks against a config."""

from __future__ import annotations

import dataclasses
import json
import os

from sketchembednet import paths
from sketchembednet.tuning.space import PARAMS
from sketchembednet.tuning.space import parse_space
from sketchembednet.tuning.space import unreachable_alpha_warning

TUNERS = ("random", "bayesian", "hyperband")
OBJECTIVES = {"fewshot": ("fewshot_accuracy", "max"), "val_pixel": ("val_pixel_loss", "min")}
OMNIGLOT_HALF = "omniglot_half"  # --val_dataset of the default validation set.


@dataclasses.dataclass
class SearchOptions:
    """Everything but the training config that defines a search (the CLI's flags).

    Example:
      >>> SearchOptions(directory="/tmp/t", tuner="random").objective_name
      'fewshot_accuracy'
    """

    directory: str
    tuner: str = "random"
    max_trials: int = 10
    objective: str = "fewshot"
    space: dict = dataclasses.field(default_factory=parse_space)
    seed: int = 1
    ways: int = 20
    shots: int = 1
    episodes: int = 500
    num_query: int | None = None
    fewshot_seed: int = 0
    val_dataset: str = OMNIGLOT_HALF
    val_npz: str = ""
    val_half: int = 0
    val_split: str | None = None
    val_data_dir: str | None = None
    val_manual_dir: str | None = None
    val_max_per_class: int = 0
    pixel_split: str = ""
    hyperband_max_epochs: int = 9
    hyperband_factor: int = 3
    hyperband_iterations: int = 1
    max_consecutive_failed_trials: int = 3
    progress: bool = True
    command: str = ""

    @property
    def objective_name(self) -> str:
        return OBJECTIVES[self.objective][0]

    @property
    def direction(self) -> str:
        return OBJECTIVES[self.objective][1]

    def validate(self) -> None:
        """Raises ValueError naming the flag for an invalid setting."""
        if self.tuner not in TUNERS:
            raise ValueError(f"--tuner={self.tuner}: unknown tuner; use one of {', '.join(TUNERS)}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"--objective={self.objective}: use one of {', '.join(OBJECTIVES)}")
        if not self.directory:
            raise ValueError("--dir: a project directory is needed")
        if self.max_trials < (0 if self.tuner == "hyperband" else 1):
            raise ValueError(f"--max_trials={self.max_trials}: must be >= 1 "
                             "(hyperband: >= 0, 0 = no cap)")
        checks = [("ways", self.ways >= 2), ("shots", self.shots >= 1),
                  ("episodes", self.episodes >= 1), ("seed", self.seed >= 1),
                  ("val_half", self.val_half in (0, 1)),
                  ("val_max_per_class", self.val_max_per_class >= 0),
                  ("num_query", self.num_query is None or self.num_query >= 1),
                  ("hyperband_max_epochs", self.hyperband_max_epochs >= 1),
                  ("hyperband_factor", self.hyperband_factor >= 2),
                  ("hyperband_iterations", self.hyperband_iterations >= 1),
                  ("max_consecutive_failed_trials", self.max_consecutive_failed_trials >= 0)]
        rules = {"ways": ">= 2", "seed": ">= 1 (KerasTuner treats 0 as 'random')",
                 "val_half": "0 or 1", "hyperband_factor": ">= 2", "max_consecutive_failed_trials":
                 ">= 0", "val_max_per_class": ">= 0"}
        for name, ok in checks:
            if not ok:
                rule = rules.get(name, ">= 1")
                raise ValueError(f"--{name}={getattr(self, name)}: must be {rule}")
        if set(self.space) != set(PARAMS):
            raise ValueError(f"search space must define {sorted(PARAMS)}")
        if self.val_dataset == OMNIGLOT_HALF and self.objective == "fewshot":
            if not os.path.exists(self.val_npz_path()):
                raise ValueError(
                    f"--val_npz: {self.val_npz_path()} not found; pass --val_npz or set "
                    "SKETCHEMBEDNET_SHARED_DATA to the shared data pack (it holds "
                    "omniglot/npz_105x105/images_background.npz)")
        if self.val_dataset.startswith("omniglot_strokes/") and (
                self.val_split is None or "test" in self.val_split):
            raise ValueError(f"--val_dataset={self.val_dataset}: its test split is (or holds) "
                             "the Omniglot evaluation set, which is never used for tuning; pass "
                             "--val_split with background splits only")

    def val_npz_path(self) -> str:
        """``--val_npz``, or the shared pack's ``images_background.npz`` (see
        :func:`sketchembednet.paths.shared_data_dir`)."""
        from sketchembednet.evaluation import datasets

        if self.val_npz:
            return self.val_npz
        return paths.shared_data_dir(datasets.SHARED_NPZ)

    def fingerprint(self, config) -> dict:
        """What must not change when a search resumes (paths and budgets excluded)."""
        plain = json.loads(config.to_json_best_effort())
        for key in ("data_dir", "manual_dir"):
            plain["dataset"].pop(key, None)
        for source in plain["dataset"].get("mix", []) or []:
            for key in ("data_dir", "manual_dir"):
                source.pop(key, None)
        keep = ("tuner", "objective", "seed", "ways", "shots", "episodes", "num_query",
                "fewshot_seed", "val_dataset", "val_half", "val_split", "val_max_per_class",
                "pixel_split")
        out = {k: getattr(self, k) for k in keep}
        if self.tuner == "hyperband":
            out.update(hyperband_max_epochs=self.hyperband_max_epochs,
                       hyperband_factor=self.hyperband_factor,
                       hyperband_iterations=self.hyperband_iterations)
        out["space"] = {k: v.to_json() for k, v in sorted(self.space.items())}
        out["config"] = plain
        return json.loads(json.dumps(out))


def check_config(config, options: SearchOptions) -> list[str]:
    """Checks a training config against the options; returns warnings.

    Raises:
      ValueError: for a model the α schedule does not affect, a hyperband budget
        finer than one step per epoch, or a validation set that is not disjoint
        from the training data.
    """
    kind = config.model.get("kind", "sketchembednet")
    if kind != "sketchembednet":
        raise ValueError(f"model.kind={kind}: the α schedule only affects SketchEmbedNet "
                         "(the pixel-loss weight); nothing to tune")
    steps = int(config.train.num_steps)
    if options.tuner == "hyperband" and steps < options.hyperband_max_epochs:
        raise ValueError(f"hyperband: train.num_steps={steps} is less than "
                         f"--hyperband_max_epochs={options.hyperband_max_epochs} "
                         "(one epoch must be at least one step)")
    trained = [config.dataset.name] + [s["name"] for s in (config.dataset.get("mix") or ())]
    if options.objective == "fewshot":
        from sketchembednet.evaluation import datasets

        val = datasets.tfds_name(options.val_dataset)
        if val in trained:
            raise ValueError(f"--val_dataset={options.val_dataset} is (a config of) the training "
                             f"dataset {trained}; tune on data no trial trains on")
        if options.val_dataset in (OMNIGLOT_HALF, "omniglot_background") and any(
                t.startswith("omniglot") for t in trained):
            raise ValueError(f"the config trains on {trained}: Omniglot validation classes "
                             "would not be disjoint from the training data")
    warnings = []
    warning = unreachable_alpha_warning(options.space, config)
    if warning:
        warnings.append(warning)
    if options.objective == "fewshot" and options.val_dataset == "omniglot_background":
        warnings.append("--val_dataset=omniglot_background is the whole background set, the "
                        "set of the README's results table: tuned numbers there would be "
                        "biased. The default omniglot_half keeps half of it apart.")
    return warnings

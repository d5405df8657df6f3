"""KerasTuner search over the α curriculum (the library behind ``sketchembednet.tune``).

Modules:
  space: the search parameters, parsing their flags, trial configs and α.
  options: :class:`SearchOptions` and the checks of a config against them.
  objectives: the validation data and the :class:`Evaluator` of a trial.
  report: the summary, the plot and ``best_config.py``.
  tuner: the KerasTuner tuner that trains each trial, and the oracle.
  driver: :func:`search`, which runs or resumes a search in its directory.
  compare: several finished searches side by side (``tools/compare_searches.py``).

Each module imports only those listed before it (``compare`` none of them); JSON files
go through :mod:`sketchembednet.jsonio`.
"""

from sketchembednet.tuning.driver import PROJECT_NAME
from sketchembednet.tuning.driver import SearchMismatchError
from sketchembednet.tuning.driver import search
from sketchembednet.tuning.objectives import VAL_SPLIT_SEED
from sketchembednet.tuning.objectives import Evaluator
from sketchembednet.tuning.objectives import describe_validation
from sketchembednet.tuning.objectives import load_validation
from sketchembednet.tuning.objectives import omniglot_half
from sketchembednet.tuning.options import OBJECTIVES
from sketchembednet.tuning.options import OMNIGLOT_HALF
from sketchembednet.tuning.options import TUNERS
from sketchembednet.tuning.options import SearchOptions
from sketchembednet.tuning.options import check_config
from sketchembednet.tuning.report import best_row
from sketchembednet.tuning.report import collect_trials
from sketchembednet.tuning.report import plot_objective
from sketchembednet.tuning.report import write_best_config
from sketchembednet.tuning.report import write_outputs
from sketchembednet.tuning.report import write_summary
from sketchembednet.tuning.space import DEFAULT_ALPHA_MAX
from sketchembednet.tuning.space import PARAMS
from sketchembednet.tuning.space import Param
from sketchembednet.tuning.space import alpha_at
from sketchembednet.tuning.space import config_values
from sketchembednet.tuning.space import format_value
from sketchembednet.tuning.space import parse_param
from sketchembednet.tuning.space import parse_space
from sketchembednet.tuning.space import space_values
from sketchembednet.tuning.space import trial_config
from sketchembednet.tuning.space import unreachable_alpha_warning
from sketchembednet.tuning.tuner import AlphaScheduleTunerMixin
from sketchembednet.tuning.tuner import SearchStopped
from sketchembednet.tuning.tuner import hyperband_steps
from sketchembednet.tuning.tuner import make_oracle
from sketchembednet.tuning.tuner import make_tuner
from sketchembednet.tuning.tuner import seed_from_trial
from sketchembednet.tuning.tuner import tuner_class

__all__ = [
    "DEFAULT_ALPHA_MAX", "OBJECTIVES", "OMNIGLOT_HALF", "PARAMS", "PROJECT_NAME", "TUNERS",
    "VAL_SPLIT_SEED", "AlphaScheduleTunerMixin", "Evaluator", "Param", "SearchMismatchError",
    "SearchOptions", "SearchStopped", "alpha_at", "best_row", "check_config", "collect_trials",
    "config_values", "describe_validation", "format_value", "hyperband_steps",
    "load_validation", "make_oracle", "make_tuner", "omniglot_half", "parse_param",
    "parse_space", "plot_objective", "search", "seed_from_trial", "space_values",
    "trial_config", "tuner_class", "unreachable_alpha_warning", "write_best_config",
    "write_outputs", "write_summary",
]

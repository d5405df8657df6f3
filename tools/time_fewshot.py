r"""Times the few-shot classifier loop on random embeddings of Omniglot's size.

    python tools/time_fewshot.py                                  # 2000 x 20-way 1-shot
    python tools/time_fewshot.py --ways=5 --shots=5 --episodes=500

Random unit vectors (D = 256, 964 classes x 20 examples, the Omniglot
background set) stand in for real embeddings: the time depends only on the
sizes, and the accuracy printed should be about 1 / ways.
"""

import json

import numpy as np
from absl import app
from absl import flags

from sketchembednet.evaluation import fewshot

_WAYS = flags.DEFINE_integer("ways", 20, "N.")
_SHOTS = flags.DEFINE_integer("shots", 1, "K.")
_EPISODES = flags.DEFINE_integer("episodes", 2000, "Episodes.")
_CLASSES = flags.DEFINE_integer("classes", 964, "Classes in the embedding matrix.")
_PER_CLASS = flags.DEFINE_integer("per_class", 20, "Examples per class.")
_DIM = flags.DEFINE_integer("dim", 256, "Embedding size D.")


def main(argv):
    del argv
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(_CLASSES.value), _PER_CLASS.value)  # [n]
    embeddings = fewshot.l2_normalize(rng.normal(size=(len(labels), _DIM.value)))  # [n, D]
    result = fewshot.evaluate_embeddings(embeddings, labels, _WAYS.value, _SHOTS.value,
                                         _EPISODES.value, seed=0, progress=True)
    result["seconds_per_episode"] = result["seconds"] / result["episodes"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    app.run(main)

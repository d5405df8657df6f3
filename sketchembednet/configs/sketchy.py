r"""The paper's Sketchy configuration (photos -> sketches; Sec. 4.2, Table 3).

    python -m sketchembednet.train --config=sketchy --workdir=runs/sketchy

ResNet-12 encoder on 84x84 photos, T=100, α up to 0.75. Needs the `sketchy`
TFDS dataset (manual download; tfds_builders/sketchy).
"""

from sketchembednet.configs import base


def get_config(arg: str = ""):
    del arg
    c = base.get_base_config()
    c.dataset.name = "sketchy"
    c.dataset.max_len = 100
    c.model = base.model_config("paper_resnet12")
    c.alpha.max = 0.75
    return c

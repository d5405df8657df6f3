"""A UMAP of unseen Omniglot alphabets, coloured by character (``omniglot_map.png``).

Omniglot is never trained on, so every alphabet is unseen. For each chosen alphabet of
the background set, the drawings (20 drawers per character) are embedded, projected to
2-D (:func:`structure_readouts.project_2d`) and plotted in one panel, coloured by
character, with one drawing of each character at the median of its points. Beside the
picture, a number that does not depend on the projection: the leave-one-out
nearest-neighbour accuracy of the characters in the embedding (cosine), against chance
``1 / characters``.

Example:
  >>> from sketchembednet.evaluation import datasets
  >>> data = datasets.omniglot_background("images_background.npz")  # doctest: +SKIP
  >>> result = run(embed_fn, data, "figures/omniglot_map.png")  # doctest: +SKIP
  >>> result["alphabets"]["Greek"]["nn_accuracy"]  # doctest: +SKIP
  0.71
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from sketchembednet.evaluation import datasets
from sketchembednet.evaluation import fewshot
from sketchembednet.evaluation import structure_readouts

# The 30 alphabets of the background set in the order of their character ids (the npz
# rows): (name, number of characters). Alphabets are contiguous id ranges.
BACKGROUND_ALPHABETS = (
    ("Arcadian", 26), ("Armenian", 41), ("Asomtavruli_(Georgian)", 40), ("Balinese", 24),
    ("Bengali", 46), ("Blackfoot_(Canadian_Aboriginal_Syllabics)", 14), ("Braille", 26),
    ("Cyrillic", 33), ("Early_Aramaic", 22), ("Syriac_(Estrangelo)", 23),
    ("Anglo-Saxon_Futhorc", 29), ("Futurama", 26), ("Grantha", 43), ("Greek", 24),
    ("Gujarati", 48), ("Hebrew", 22), ("Japanese_(hiragana)", 52),
    ("Inuktitut_(Canadian_Aboriginal_Syllabics)", 16), ("Malay_(Jawi_-_Arabic)", 40),
    ("Japanese_(katakana)", 47), ("Korean", 40), ("Latin", 26), ("Alphabet_of_the_Magi", 20),
    ("Mkhedruli_(Georgian)", 41), ("Burmese_(Myanmar)", 34), ("N_Ko", 33),
    ("Ojibwe_(Canadian_Aboriginal_Syllabics)", 14), ("Sanskrit", 42), ("Tagalog", 17),
    ("Tifinagh", 55),
)
DEFAULT_ALPHABETS = ("Greek", "Korean", "Bengali", "Tifinagh")  # four unrelated scripts


def alphabet_labels() -> dict[str, range]:
    """Each background alphabet's labels (npz rows = ``char_id - 1``).

    Example:
      >>> alphabet_labels()["Armenian"]
      range(26, 67)
    """
    out, start = {}, 0
    for name, count in BACKGROUND_ALPHABETS:
        out[name] = range(start, start + count)
        start += count
    return out


def alphabet_subset(data: datasets.LabelledImages, alphabet: str,
                    max_characters: int = 20) -> datasets.LabelledImages:
    """The drawings of the first ``max_characters`` characters of ``alphabet``.

    Raises:
      ValueError: naming the alphabet if it is not one of the background set's, or if
        ``data`` holds none of its characters.
    """
    labels = alphabet_labels()
    if alphabet not in labels:
        raise ValueError(f"unknown Omniglot background alphabet {alphabet!r}; choose from "
                         f"{', '.join(sorted(labels))}")
    wanted = list(labels[alphabet])[:max_characters]
    keep = np.isin(data.labels, wanted)
    if not keep.any():
        raise ValueError(f"{data.name}: holds no drawing of {alphabet} (labels {wanted[0]}.."
                         f"{wanted[-1]}); is it the Omniglot background set?")
    return datasets.LabelledImages(data.images[keep], data.labels[keep],
                                   name=f"{alphabet} ({data.name})")


def nearest_neighbour_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy under cosine similarity.

    Example:
      >>> z = np.array([[1., 0.], [0.9, 0.1], [0., 1.], [0.1, 0.9]])
      >>> nearest_neighbour_accuracy(z, np.array([0, 0, 1, 1]))
      1.0
    """
    x = fewshot.l2_normalize(np.asarray(features, np.float32))
    similarity = x @ x.T
    np.fill_diagonal(similarity, -np.inf)
    labels = np.asarray(labels)
    return float(np.mean(labels[np.argmax(similarity, axis=1)] == labels))


def _panel(ax, xy, labels, images, title):
    colours = matplotlib.colormaps["tab20"]
    for k, label in enumerate(np.unique(labels)):
        rows = np.flatnonzero(labels == label)
        ax.scatter(xy[rows, 0], xy[rows, 1], s=12, color=colours(k % 20), alpha=0.8,
                   zorder=3)
        centre = np.median(xy[rows], axis=0)
        thumb = OffsetImage(np.asarray(images[rows[0]])[..., 0], cmap="gray", zoom=0.6,
                            norm=matplotlib.colors.Normalize(0, 255), alpha=0.9)
        # Beside its cluster (above-right), joined to it by a line: the points stay visible.
        ax.add_artist(AnnotationBbox(
            thumb, centre, xybox=(16, 16), boxcoords="offset points", frameon=True, pad=0.05,
            bboxprops=dict(edgecolor=colours(k % 20), lw=1.2),
            arrowprops=dict(arrowstyle="-", color=colours(k % 20), lw=0.8), zorder=2))
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def run(embed_fn: Callable[[np.ndarray], np.ndarray], data: datasets.LabelledImages, path, *,
        alphabets: Sequence[str] = DEFAULT_ALPHABETS, max_characters: int = 20, seed: int = 0,
        method: str = "umap") -> dict:
    """Embeds, projects and plots each alphabet (one panel each) into ``path``.

    Args:
      embed_fn: uint8 images ``[n, S, S, C]`` (framed like ``data``) -> ``[n, D]``.
      data: the Omniglot background set (:func:`datasets.omniglot_background`).
      path: the PNG to write.
      alphabets: background alphabets to show (:data:`BACKGROUND_ALPHABETS`).
      max_characters: characters per alphabet (the first ones; 20 colours).
      seed: the projection's seed.
      method: ``umap`` or ``pca`` (:func:`structure_readouts.project_2d`).

    Returns:
      ``{"figure": basename, "method": ..., "alphabets": {name: {"characters",
      "drawings", "nn_accuracy", "chance"}}}``.
    """
    columns = min(2, len(alphabets))
    rows = -(-len(alphabets) // columns)
    fig = Figure(figsize=(6.5 * columns, 6 * rows))
    result = {"figure": os.path.basename(str(path)), "method": method, "alphabets": {}}
    for i, alphabet in enumerate(alphabets):
        subset = alphabet_subset(data, alphabet, max_characters)
        z = np.asarray(embed_fn(subset.images), np.float32)
        xy = structure_readouts.project_2d(z, seed=seed, method=method)
        characters = len(np.unique(subset.labels))
        accuracy = nearest_neighbour_accuracy(z, subset.labels)
        result["alphabets"][alphabet] = dict(characters=characters, drawings=len(z),
                                             nn_accuracy=accuracy, chance=1 / characters)
        _panel(fig.add_subplot(rows, columns, i + 1), xy, subset.labels, subset.images,
               f"{alphabet.replace('_', ' ')}: {characters} characters x "
               f"{len(z) // characters} drawers\n1-NN accuracy in the embedding "
               f"{100 * accuracy:.1f}% (chance {100 / characters:.1f}%)")
    fig.suptitle(f"{method.upper()} of unseen Omniglot alphabets, coloured by character",
                 fontsize=12)
    os.makedirs(os.path.dirname(os.path.abspath(str(path))), exist_ok=True)
    fig.savefig(str(path), dpi=90, bbox_inches="tight")
    return result

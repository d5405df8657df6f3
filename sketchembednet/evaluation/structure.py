"""Emergent structure of the embedding space (Wang et al. 2021, Sec. 6, Figs. 5-7): the run.

Composites of real Quick, Draw! drawings that vary one conceptual factor are
embedded with the model (the encoder mean ``mu``), projected to 2-D with UMAP and
read out with linear models; class-mean embeddings are combined and decoded.
:func:`run` does every experiment and returns a JSON-able dict; the work is done by

* :mod:`~sketchembednet.evaluation.structure_composites`: composites of drawings
  on a unit canvas and their fixed-frame rendering;
* :mod:`~sketchembednet.evaluation.structure_sets`: the sets (numerosity,
  placement, containment, spatial);
* :mod:`~sketchembednet.evaluation.structure_readouts`: embeddings, projections,
  linear readouts (embedding vs pixels) and embedding arithmetic;
* :mod:`~sketchembednet.evaluation.structure_plots`: the figures.

Experiment 5 (:func:`run_arithmetic`): ``z(snowman) - z(circle) + z(square)`` and
``z(television) - z(square) + z(circle)`` from class-mean embeddings, decoded by
the model's sampler and compared (cosine) with the classes' mean embeddings.

Example:
  >>> from sketchembednet.data import quickdraw
  >>> drawings = quickdraw.read_simplified_folder("quickdraw/simplified")  # doctest: +SKIP
  >>> result = run(model, drawings, "out", projection="pca")  # doctest: +SKIP
  >>> sorted(result["sets"])  # doctest: +SKIP
  ['containment', 'numerosity_circle', 'numerosity_square', 'placement', 'spatial']
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from absl import logging
from tqdm.auto import tqdm

from sketchembednet.evaluation import structure_plots as plots
from sketchembednet.evaluation import structure_readouts as readouts
from sketchembednet.evaluation import structure_sets as sets
from sketchembednet.evaluation.structure_composites import render_composites, render_drawings
from sketchembednet.evaluation.structure_readouts import CATEGORICAL_SPLIT, CONTINUOUS_SPLIT

DEFAULT_EQUATIONS = (("snowman", "circle", "square"), ("television", "square", "circle"))
DEFAULT_PLACEMENT_CLASSES = ("circle", "square", "triangle", "hexagon", "octagon", "star")


@dataclasses.dataclass(frozen=True)
class SetSpec:
    """One composite set of :func:`run`: ``build(rng)`` returns its composites."""

    name: str
    kind: str  # "categorical" or "continuous"
    classes: list
    build: Callable


def check_classes(drawings_by_class: Mapping, needed: Iterable[str]) -> None:
    """Raises ValueError naming the classes of ``needed`` missing from ``drawings_by_class``.

    Example:
      >>> check_classes({"cat": []}, ["cat", "dog"])  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: drawings_by_class lacks the classes ['dog'] needed by ...; it has: cat
    """
    missing = sorted(set(needed) - set(drawings_by_class))
    if missing:
        have = sorted(drawings_by_class)
        shown = ", ".join(have[:20]) + (f" and {len(have) - 20} more" if len(have) > 20 else "")
        raise ValueError(f"drawings_by_class lacks the classes {missing} needed by the "
                         f"experiments (pass other class arguments); it has: {shown}")


def set_rng(seed: int, index: int) -> np.random.Generator:
    """One independent generator per set: adding or skipping a set changes no other.

    Example:
      >>> int(set_rng(0, 1).integers(100)) == int(set_rng(0, 1).integers(100))
      True
    """
    return np.random.default_rng([int(seed), int(index)])


def set_specs(drawings_by_class: Mapping, *, numerosity_classes: Sequence[str],
              placement_classes: Sequence[str], placement_layout: str,
              containment_pair: tuple[str, str], spatial_pair: tuple[str, str],
              n_categorical: int, n_continuous: int) -> list[SetSpec]:
    """The sets of :func:`run`, in order (their index seeds their generator).

    Example:
      >>> [s.name for s in set_specs({}, numerosity_classes=["circle"], placement_classes=[],
      ...  placement_layout="quadrants", containment_pair=("a", "b"), spatial_pair=("a", "b"),
      ...  n_categorical=3, n_continuous=3)]
      ['numerosity_circle', 'placement', 'containment', 'spatial']
    """
    by_class = drawings_by_class
    specs = [SetSpec(f"numerosity_{name}", "categorical", [name],
                     lambda rng, name=name: sets.numerosity_set(
                         by_class[name], name, n_categorical, rng))
             for name in numerosity_classes]
    specs.append(SetSpec("placement", "categorical", list(placement_classes),
                         lambda rng: sets.placement_set(by_class, placement_classes,
                                                        n_categorical, rng, placement_layout)))
    a, b = containment_pair
    specs.append(SetSpec("containment", "categorical", [a, b],
                         lambda rng: sets.containment_set(by_class[a], by_class[b], (a, b),
                                                          n_categorical, rng)))
    sa, sb = spatial_pair
    specs.append(SetSpec("spatial", "continuous", [sa, sb],
                         lambda rng: sets.spatial_set(by_class[sa], by_class[sb], (sa, sb),
                                                      n_continuous, rng)))
    return specs


def _categorical_entry(path, composites, xy, images, title, features, seed, projection):
    labels = [c.label for c in composites]
    plots.plot_categorical(path, xy, labels, images, title, projection)
    return {"label_counts": {l: labels.count(l) for l in sorted(set(labels))},
            "readout": {feature: readouts.classification_readout(
                x, labels, *CATEGORICAL_SPLIT, seed=seed) for feature, x in features}}


def _continuous_entry(path, composites, xy, images, title, features, seed, projection):
    shown = {k: [c.targets[k] for c in composites] for k in ("distance", "angle", "size")}
    targets = {k: [c.targets[k] for c in composites]
               for k in ("distance", "size", "angle_cos", "angle_sin")}
    plots.plot_continuous(path, xy, shown, images, title, projection)
    return {"targets": {k: [float(np.min(v)), float(np.max(v))] for k, v in shown.items()},
            "readout": {feature: readouts.regression_readout(
                x, targets, *CONTINUOUS_SPLIT, seed=seed) for feature, x in features}}


def run_set(model, spec: SetSpec, rng: np.random.Generator, out_dir: pathlib.Path, *,
            image_shape, seed: int, projection: str, progress: bool) -> dict:
    """Builds, renders, embeds, projects and reads out one set; writes ``umap_<name>.png``.

    Returns:
      ``kind``, ``classes``, ``num_composites``, ``figure``, ``label_counts`` (categorical)
      or ``targets`` (continuous: their ranges) and ``readout`` (``embedding``, ``pixels``).

    Example:
      >>> entry = run_set(model, set_specs(...)[0], set_rng(0, 0), out_dir,  # doctest: +SKIP
      ...                 image_shape=(28, 28, 1), seed=0, projection="pca", progress=False)
    """
    log = logging.info if progress else logging.debug
    log("structure: %s: composing and rendering", spec.name)
    composites = spec.build(rng)
    images = render_composites(composites, image_shape, progress=progress)
    mu = readouts.embed_images(model, images, progress=progress)
    pixels = readouts.pixel_features(images)
    log("structure: %s: projecting %d embeddings (%s)", spec.name, len(mu), projection)
    xy = readouts.project_2d(mu, seed, projection)
    figure = f"umap_{spec.name}.png"
    title = (f"{spec.name}: {projection.upper()} of mu ({len(mu)} composites of "
             f"{', '.join(spec.classes)})")
    entry = dict(kind=spec.kind, classes=spec.classes, num_composites=len(composites),
                 figure=figure)
    make_entry = _categorical_entry if spec.kind == "categorical" else _continuous_entry
    entry.update(make_entry(out_dir / figure, composites, xy, images, title,
                            (("embedding", mu), ("pixels", pixels)), seed, projection))
    log("structure: %s: %s", spec.name, entry["readout"])
    return entry


def run(model, drawings_by_class: Mapping[str, Sequence], out_dir, *, seed: int = 0,
        progress: bool = True, image_shape=None,
        numerosity_classes: Sequence[str] = ("circle", "square"),
        placement_classes: Sequence[str] = DEFAULT_PLACEMENT_CLASSES,
        placement_layout: str = "quadrants",
        containment_pair: tuple[str, str] = ("circle", "square"),
        spatial_pair: tuple[str, str] = ("circle", "square"),
        equations: Sequence[tuple[str, str, str]] = DEFAULT_EQUATIONS,
        candidate_classes: Sequence[str] | None = None,
        n_categorical: int = sum(CATEGORICAL_SPLIT), n_continuous: int = sum(CONTINUOUS_SPLIT),
        arithmetic_per_class: int = 10, temperature: float = 0.1, num_samples: int = 2,
        projection: str = "umap") -> dict:
    """Runs the emergent-structure experiments; writes PNGs into ``out_dir``.

    Args:
      model: a trained SketchEmbedNet (``embed``; ``sample`` for decoding: models
        without it get the nearest classes but no decoded results).
      drawings_by_class: ``{class: [stroke-3, ...]}`` of real drawings
        (``sketchembednet.data.quickdraw.read_simplified_folder``).
      out_dir: folder for the figures (created).
      seed: seeds composition, splits, UMAP and sampling; the same seed gives the
        same composites, numbers and figures.
      progress: show progress bars and log each step.
      image_shape: ``(S, S, C)``; default ``structure_readouts.model_image_shape``.
      numerosity_classes: one numerosity set per class (``numerosity_<class>``).
      placement_classes: classes of the placement set's shapes.
      placement_layout: ``quadrants`` or ``halves``.
      containment_pair / spatial_pair: the classes ``(A, B)`` of those sets.
      equations: ``(a, b, c)`` triples for ``z(a) - z(b) + z(c)``; empty to skip.
      candidate_classes: classes compared (cosine) with the results; default all
        classes of ``drawings_by_class``.
      n_categorical / n_continuous: composites per categorical / continuous set
        (defaults 300 = 100 train + 200 test, and 2100 = 100 + 2000).
      arithmetic_per_class: drawings averaged per class mean embedding.
      temperature / num_samples: the results are decoded greedily and as
        ``num_samples`` seeded samples at ``temperature``.
      projection: ``umap`` (the paper) or ``pca`` (fast).

    Returns:
      A JSON-able dict: ``sets`` (per set: ``kind``, ``classes``, ``num_composites``,
      ``label_counts`` or ``targets``, ``figure``, ``readout`` with ``embedding``
      and ``pixels`` results), ``arithmetic`` (``figure``, per equation the nearest
      classes) and ``figures`` (all PNG file names, relative to ``out_dir``).

    Raises:
      ValueError: naming the classes missing from ``drawings_by_class``.

    Example:
      >>> result = run(model, drawings, "out", projection="pca")  # doctest: +SKIP
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    image_shape = tuple(image_shape or readouts.model_image_shape(model))
    candidate_classes = list(candidate_classes or drawings_by_class)
    check_classes(drawings_by_class, [*numerosity_classes, *placement_classes,
                                      *containment_pair, *spatial_pair,
                                      *(c for eq in equations for c in eq), *candidate_classes])
    specs = set_specs(drawings_by_class, numerosity_classes=numerosity_classes,
                      placement_classes=placement_classes, placement_layout=placement_layout,
                      containment_pair=containment_pair, spatial_pair=spatial_pair,
                      n_categorical=n_categorical, n_continuous=n_continuous)
    result = dict(seed=int(seed), image_shape=list(image_shape), projection=projection,
                  sets={}, figures=[])
    for index, spec in enumerate(tqdm(specs, desc="structure sets", disable=not progress)):
        entry = run_set(model, spec, set_rng(seed, index), out_dir, image_shape=image_shape,
                        seed=seed, projection=projection, progress=progress)
        result["sets"][spec.name] = entry
        result["figures"].append(entry["figure"])
    if equations:
        result["arithmetic"] = run_arithmetic(
            model, drawings_by_class, out_dir, equations=equations,
            candidate_classes=candidate_classes, image_shape=image_shape,
            per_class=arithmetic_per_class, temperature=temperature, num_samples=num_samples,
            seed=seed, progress=progress)
        if result["arithmetic"].get("figure"):
            result["figures"].append(result["arithmetic"]["figure"])
    return result


def _equation_report(z, operands, means, candidate_means, centre, k) -> dict:
    """The nearest classes of ``z`` and its cosines to the operands (see :func:`run_arithmetic`)."""
    a, b, c = operands
    centred_means = {name: value - centre for name, value in candidate_means.items()}
    cos = {n: readouts.nearest_classes(z, {n: means[n]}, 1)[0][1] for n in operands}
    return dict(
        expression=f"{a} - {b} + {c}",
        nearest=[list(p) for p in readouts.nearest_classes(z, candidate_means, k)],
        nearest_excluding_operands=[list(p) for p in readouts.nearest_classes(
            z, candidate_means, k, exclude=operands)],
        nearest_centred=[list(p) for p in readouts.nearest_classes(z - centre, centred_means,
                                                                   k)],
        cosine_to_operands=cos)


def _equation_row(model, z, operands, means, drawings_by_class, image_shape, temperature,
                  num_samples, seed) -> dict:
    """One row of ``arithmetic.png``: inputs, decoded operand means, decoded results."""
    # One greedy call for the result and the operands: fewer traces.
    greedy = readouts.decode(model, np.stack([z, *(means[n] for n in operands)]), greedy=True)
    results = [("greedy", greedy[0])]
    if num_samples:
        samples = readouts.decode(model, np.repeat(z[None], num_samples, 0), temperature,
                                  seed=seed)
        results += [(f"\u03c4={temperature}, #{j + 1}", s) for j, s in enumerate(samples)]
    inputs = render_drawings([drawings_by_class[n][0] for n in operands], image_shape)
    return dict(operands=tuple(operands), inputs=inputs, operand_sketches=greedy[1:],
                results=results)


def run_arithmetic(model, drawings_by_class: Mapping, out_dir, *, equations=DEFAULT_EQUATIONS,
                   candidate_classes: Sequence[str] | None = None, image_shape=(28, 28, 1),
                   per_class: int = 10, temperature: float = 0.1, num_samples: int = 2,
                   seed: int = 0, progress: bool = False, k: int = 5) -> dict:
    """Experiment 5: ``z(a) - z(b) + z(c)`` of class means, decoded; writes ``arithmetic.png``.

    Returns:
      dict: ``figure`` (None if the model cannot draw), ``per_class``, ``num_candidates``
      and ``equations``: per equation the ``expression``, ``nearest`` (top-k
      ``[class, cosine]`` among the candidates), ``nearest_excluding_operands``,
      ``nearest_centred`` (the same after subtracting the mean of the candidates'
      means from everything: mu share a large common direction, which dominates raw
      cosines) and ``cosine_to_operands``.

    Example:
      >>> out = run_arithmetic(model, drawings, "out")  # doctest: +SKIP
    """
    candidates = list(candidate_classes or drawings_by_class)
    needed = list(dict.fromkeys([*candidates, *(c for eq in equations for c in eq)]))
    check_classes(drawings_by_class, needed)
    means = readouts.class_mean_embeddings(model, drawings_by_class, needed, image_shape,
                                           per_class, progress)
    candidate_means = {name: means[name] for name in candidates}
    centre = np.mean(np.stack(list(candidate_means.values())), axis=0)  # [D]
    can_draw = callable(getattr(model, "sample", None))
    rows, reports = [], []
    for i, operands in enumerate(equations):
        z = readouts.arithmetic(means, *operands)
        reports.append(_equation_report(z, tuple(operands), means, candidate_means, centre, k))
        if can_draw:
            rows.append(_equation_row(model, z, operands, means, drawings_by_class,
                                      image_shape, temperature, num_samples, seed + i))
    figure = None
    if rows:
        figure = "arithmetic.png"
        plots.plot_arithmetic(pathlib.Path(out_dir) / figure, rows)
    return dict(figure=figure, per_class=int(per_class), num_candidates=len(candidates),
                equations=reports)

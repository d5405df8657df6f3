"""Tests of the emergent-structure experiments (sketchembednet.evaluation.structure*)."""

import doctest
import json
import math

import keras
import numpy as np
import pytest
from PIL import Image

from sketchembednet.data import quickdraw, rasterize, strokes
from sketchembednet.evaluation import structure
from sketchembednet.evaluation import structure_composites
from sketchembednet.evaluation import structure_plots as plots
from sketchembednet.evaluation import structure_readouts as readouts
from sketchembednet.evaluation import structure_sets as sets
from sketchembednet.models import presets

QUICKDRAW = ("quickdraw", "simplified_345cls_25each")


# ------------------------------------------------------------------ synthetic drawings
def _square(rng):
    corners = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], np.float64)
    return strokes.polylines_to_stroke3([corners + rng.normal(0, 0.3, corners.shape)])


def _circle(rng):
    t = np.linspace(0, 2 * np.pi, 21)
    points = np.stack([np.cos(t), np.sin(t)], 1) * 10 + rng.normal(0, 0.3, (21, 2))
    return strokes.polylines_to_stroke3([points])


def _zigzag(rng):
    points = np.array([[0, 0], [3, 10], [6, 0], [9, 10]], np.float64)
    return strokes.polylines_to_stroke3([points + rng.normal(0, 0.3, points.shape)])


def _cross(rng):
    """Two strokes: a multi-stroke part."""
    a = np.array([[0, 0], [10, 10]], np.float64) + rng.normal(0, 0.3, (2, 2))
    b = np.array([[10, 0], [0, 10]], np.float64) + rng.normal(0, 0.3, (2, 2))
    return strokes.polylines_to_stroke3([a, b])


@pytest.fixture(scope="module")
def drawings():
    rng = np.random.default_rng(0)
    return {name: [make(rng) for _ in range(6)]
            for name, make in (("square", _square), ("circle", _circle), ("cross", _cross),
                               ("zigzag", _zigzag))}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return presets.build_model("tiny", image_shape=(28, 28, 1))


def _inside(points, box, tol=1e-9):
    x0, y0, x1, y1 = box
    return bool(np.all(points[:, 0] >= x0 - tol) and np.all(points[:, 0] <= x1 + tol)
                and np.all(points[:, 1] >= y0 - tol) and np.all(points[:, 1] <= y1 + tol))


def _part_points(composite, i):
    return np.concatenate(composite.part(i))


def _normalised(points):
    return (points - points.min(0)) / np.ptp(points, axis=0).max()


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("module", [structure, structure_composites, sets, readouts, plots],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


# --------------------------------------------------------------------------- geometry
def test_fit_to_box_fills_the_limiting_side_and_centres():
    fitted = structure_composites.fit_to_box([np.array([[0., 0.], [20., 10.]])],
                                             (0.2, 0.1, 0.6, 0.9))
    points = fitted[0]
    assert np.allclose(points[:, 0], [0.2, 0.6])  # width is the limiting side
    assert np.allclose(points[:, 1].mean(), 0.5)  # centred vertically
    assert np.isclose(np.ptp(points[:, 1]), 0.2)  # aspect ratio kept (2:1)


def test_compose_geometry_pen_lifts_and_part_count(drawings):
    boxes = [(0, 0, .4, .4), (.6, .6, 1, 1), (.6, 0, 1, .3)]
    parts = [drawings["cross"][0], drawings["square"][0], drawings["circle"][0]]
    c = structure_composites.compose(parts, boxes, ("cross", "square", "circle"), label="x")
    assert c.num_parts == 3 and c.part_sizes == (2, 1, 1)
    assert c.classes == ("cross", "square", "circle") and c.label == "x"
    for i, box in enumerate(boxes):
        points = _part_points(c, i)
        assert _inside(points, box)
        # The part touches both sides of its box along its limiting dimension.
        lo, hi = points.min(0), points.max(0)
        assert np.isclose(hi - lo, np.subtract(box[2:], box[:2])).any()
    s3 = c.stroke3()
    # Absolute points of the stroke-3 are the composite's points.
    absolute = c.origin + np.concatenate([[[0, 0]], np.cumsum(s3[:, :2], 0)])
    assert np.allclose(absolute, np.concatenate(c.polylines), atol=1e-5)
    # One pen lift per stroke; the last point of every part is lifted (pen-up move).
    assert int(s3[:, 2].sum()) == sum(c.part_sizes) == 4
    ends = np.cumsum([len(_part_points(c, i)) for i in range(3)]) - 1  # point index
    assert all(s3[end - 1, 2] == 1 for end in ends)


def test_numerosity_set_counts_cells_and_boxes(drawings):
    rng = np.random.default_rng(1)
    composites = sets.numerosity_set(drawings["square"], "square", 40, rng)
    assert sorted({c.label for c in composites}) == ["1", "2", "3", "4"]
    assert [c.label for c in composites].count("4") == 10  # balanced
    for c in composites:
        assert c.num_parts == int(c.label) == c.targets["count"]
        assert c.classes == ("square",) * c.num_parts
        for i, box in enumerate(c.boxes):
            assert _inside(_part_points(c, i), box)
            assert 0 <= box[0] and box[2] <= 1 and 0 <= box[1] and box[3] <= 1
        assert not any(_overlap(a, b) for i, a in enumerate(c.boxes) for b in c.boxes[i + 1:])
        # Different drawings for the copies (6 available >= 4 needed): their shapes,
        # normalised for position and scale, all differ.
        shapes = {tuple(np.round(_normalised(_part_points(c, i)), 4).ravel())
                  for i in range(c.num_parts)}
        assert len(shapes) == c.num_parts


def test_placement_labels_match_positions(drawings):
    rng = np.random.default_rng(2)
    composites = sets.placement_set(drawings, ("square", "circle"), 40, rng)
    assert {c.label for c in composites} == set(sets.QUADRANTS)
    for c in composites:
        points = _part_points(c, 0)
        cx, cy = points.mean(0)
        assert c.label == ("top" if cy < .5 else "bottom") + "-" + ("left" if cx < .5 else "right")
        assert _inside(points, sets.position_cells()[c.label])


def test_containment_relations(drawings):
    rng = np.random.default_rng(3)
    composites = sets.containment_set(drawings["circle"], drawings["square"],
                                           ("circle", "square"), 30, rng)
    labels = sets.containment_labels("circle", "square")
    assert {c.label for c in composites} == set(labels)
    for c in composites:
        outer, inner = c.boxes
        if c.label == sets.SIDE_BY_SIDE:
            assert outer[2] <= 0.5 <= inner[0]  # left part, right part
            assert set(c.classes) == {"circle", "square"}
        else:
            assert _inside(np.array([inner[:2], inner[2:]]), outer)
            assert (inner[2] - inner[0]) <= 0.5 * (outer[2] - outer[0]) + 1e-9
            expected_inner = "circle" if c.label == "circle in square" else "square"
            assert c.classes[1] == expected_inner and c.classes[0] != expected_inner
        for i, box in enumerate(c.boxes):
            assert _inside(_part_points(c, i), box)


def test_spatial_targets_match_composed_geometry(drawings):
    rng = np.random.default_rng(4)
    composites = sets.spatial_set(drawings["circle"], drawings["square"],
                                       ("circle", "square"), 50, rng)
    assert len(composites) == 50
    for c in composites:
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = c.boxes
        dx, dy = (bx0 + bx1 - ax0 - ax1) / 2, (by0 + by1 - ay0 - ay1) / 2
        t = c.targets
        assert np.isclose(t["distance"], math.hypot(dx, dy))
        assert np.isclose(t["angle"], math.atan2(-dy, dx))
        assert np.isclose(t["size"], ax1 - ax0) and np.isclose(t["size"], bx1 - bx0)
        assert np.isclose(t["angle_cos"], math.cos(t["angle"]))
        assert not _overlap(*c.boxes)
        for i, box in enumerate(c.boxes):
            assert 0 <= box[0] and box[2] <= 1 + 1e-9 and 0 <= box[1] and box[3] <= 1 + 1e-9
            assert _inside(_part_points(c, i), box)
    spread = np.ptp([c.targets["angle"] for c in composites])
    assert spread > 5  # angles cover (most of) the circle


# -------------------------------------------------------------------------- rendering
def _ink(image):
    return np.asarray(image)[..., 0] < 128


def test_fixed_frame_rendering_keeps_position(drawings):
    square = drawings["square"][0]
    # Boxes end 0.05 before the middle: lines are ~2 px wide, the middle is at 13.5 px.
    left = structure_composites.compose([square], [(0, 0, .45, 1)])
    top_left = structure_composites.compose([square], [(0, 0, .45, .45)])
    images = structure_composites.render_composites([left, top_left], (28, 28, 1))
    assert images.dtype == np.uint8 and images.shape == (2, 28, 28, 1)
    assert _ink(images[0])[:, :14].sum() > 20 and not _ink(images[0])[:, 14:].any()
    assert _ink(images[1])[:14, :14].sum() > 10 and not _ink(images[1])[14:].any()
    assert not _ink(images[1])[:, 14:].any()
    # render_image fits the bounding box: the same strokes would fill the canvas.
    fitted = rasterize.render_image(left.stroke3(), 28).numpy()
    assert _ink(fitted)[:, 14:].any()


def test_pen_up_moves_are_not_drawn(drawings):
    square = drawings["square"][0]
    c = structure_composites.compose([square, square], [(0, 0, .3, .3), (.7, .7, 1, 1)])
    image = structure_composites.render_composites([c], (28, 28, 3))[0]
    assert image.shape == (28, 28, 3) and np.array_equal(image[..., 0], image[..., 2])
    assert not _ink(image)[10:18, 10:18].any()  # the diagonal between the parts is blank
    assert _ink(image)[:10, :10].any() and _ink(image)[18:, 18:].any()


def test_single_drawings_render_like_training_inputs(drawings):
    for s3 in (drawings["circle"][0], drawings["cross"][1]):
        ours = structure_composites.render_drawings([s3], (28, 28, 1))[0].astype(int)
        reference = rasterize.render_image(s3, 28).numpy().astype(int)
        assert np.abs(ours - reference).max() <= 1  # float rounding only


def test_composites_are_deterministic_given_seed(drawings):
    def build(seed):
        rng = np.random.default_rng(seed)
        c = sets.spatial_set(drawings["circle"], drawings["square"], ("c", "s"), 8, rng)
        return c, structure_composites.render_composites(c)

    (a, ia), (b, ib), (other, io) = build(7), build(7), build(8)
    assert [x.targets for x in a] == [x.targets for x in b]
    assert np.array_equal(ia, ib)
    assert [x.targets for x in a] != [x.targets for x in other]
    assert not np.array_equal(ia, io)


def test_model_image_shape():
    model = presets.build_model("tiny", image_shape=(28, 28, 1))
    assert readouts.model_image_shape(model, default=(32, 32, 3)) == (32, 32, 3)  # unbuilt
    model.embed(np.zeros([1, 28, 28, 1], np.float32))
    assert readouts.model_image_shape(model, default=(32, 32, 3)) == (28, 28, 1)


# --------------------------------------------------------------------------- readouts
def test_pixel_readout_of_placement_is_near_perfect(drawings):
    composites = sets.placement_set(drawings, ("square", "circle", "cross"), 120,
                                         np.random.default_rng(5))
    labels = [c.label for c in composites]
    pixels = readouts.pixel_features(structure_composites.render_composites(composites))
    out = readouts.classification_readout(pixels, labels, 100, 200, seed=0)
    assert (out["n_train"], out["n_test"]) == (40, 80)  # scaled down from 100 / 200
    assert out["accuracy"] >= 0.95 and out["chance"] <= 0.3
    shuffled = np.random.default_rng(0).permutation(labels)
    assert readouts.classification_readout(pixels, shuffled, 40, 80)["accuracy"] < 0.6


def test_regression_readout_recovers_linear_targets_not_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 20))
    angle = rng.uniform(-np.pi, np.pi, 400)
    x[:, 0], x[:, 1] = np.cos(angle), np.sin(angle)
    targets = {"size": x[:, 2] * 2 + 1, "angle_cos": np.cos(angle), "angle_sin": np.sin(angle),
               "noise": rng.normal(size=400)}
    out = readouts.regression_readout(x, targets, 100, 300, normalize=False)
    r2 = out["r2"]
    assert r2["size"] > 0.99 and r2["angle"] > 0.99
    assert np.isclose(r2["angle"], (r2["angle_cos"] + r2["angle_sin"]) / 2)
    assert r2["noise"] < 0.1
    assert (out["n_train"], out["n_test"]) == (100, 300)


def test_nearest_classes_and_arithmetic():
    means = {"a": np.array([1., 0, 0]), "b": np.array([0., 1, 0]), "c": np.array([0., 0, 1])}
    z = readouts.arithmetic(means, "a", "b", "b")
    assert np.allclose(z, means["a"])
    nearest = readouts.nearest_classes(z, means, k=2)
    assert nearest[0] == ("a", 1.0) and nearest[1][1] == 0.0
    assert readouts.nearest_classes(z, means, 1, exclude=("a",))[0][0] in ("b", "c")


# -------------------------------------------------------------------------------- run
def _run_small(model, drawings, out_dir, seed=0):
    return structure.run(
        model, drawings, out_dir, seed=seed, progress=False, image_shape=(28, 28, 1),
        numerosity_classes=("circle",), placement_classes=("square", "circle"),
        containment_pair=("circle", "square"), spatial_pair=("circle", "square"),
        equations=(("cross", "square", "circle"),), n_categorical=60, n_continuous=60,
        arithmetic_per_class=3, num_samples=1, projection="pca")


def test_run_writes_figures_and_returns_numbers(model, drawings, tmp_path):
    result = _run_small(model, drawings, tmp_path / "a")
    json.dumps(result)  # JSON-able
    expected = ["umap_numerosity_circle.png", "umap_placement.png", "umap_containment.png",
                "umap_spatial.png", "arithmetic.png"]
    assert result["figures"] == expected
    for name in expected:
        with Image.open(tmp_path / "a" / name) as image:
            assert image.size[0] > 300 and image.size[1] > 150
    sets = result["sets"]
    assert set(sets) == {"numerosity_circle", "placement", "containment", "spatial"}
    assert sets["numerosity_circle"]["label_counts"] == {"1": 15, "2": 15, "3": 15, "4": 15}
    for name in ("numerosity_circle", "placement", "containment"):
        for feature in ("embedding", "pixels"):
            readout = sets[name]["readout"][feature]
            assert 0 <= readout["accuracy"] <= 1
            assert readout["n_train"] + readout["n_test"] == 60
    assert sets["placement"]["readout"]["pixels"]["accuracy"] >= 0.9
    r2 = sets["spatial"]["readout"]["embedding"]["r2"]
    assert set(r2) == {"distance", "size", "angle_cos", "angle_sin", "angle"}
    assert all(np.isfinite(v) and v <= 1 for v in r2.values())
    arithmetic = result["arithmetic"]
    assert arithmetic["figure"] == "arithmetic.png"
    [equation] = arithmetic["equations"]
    assert equation["expression"] == "cross - square + circle"
    assert {name for name, _ in equation["nearest"]} == set(drawings)  # k=5 > 4 candidates
    assert [name for name, _ in equation["nearest_excluding_operands"]] == ["zigzag"]
    assert all(-1 <= cos <= 1 for cos in equation["cosine_to_operands"].values())
    # Same seed, same numbers.
    again = _run_small(model, drawings, tmp_path / "b")
    assert again["sets"] == result["sets"] and again["arithmetic"] == result["arithmetic"]


def test_run_names_missing_classes(model, drawings, tmp_path):
    with pytest.raises(ValueError, match="snowman"):
        structure.run(model, drawings, tmp_path, progress=False, numerosity_classes=("circle",),
                      placement_classes=("circle",), projection="pca")


# --------------------------------------------------------------------------- real data
def test_real_quickdraw_composites_and_run(shared_data, model, tmp_path):
    folder = shared_data.joinpath(*QUICKDRAW)
    if not folder.is_dir():
        pytest.skip(f"Quickdraw simplified files not found at {folder}")
    classes = ["circle", "square", "snowman", "television", "triangle"]
    drawings = quickdraw.read_simplified_folder(folder, classes, max_per_class=8)
    assert all(len(drawings[c]) == 8 for c in classes)
    composites = sets.numerosity_set(drawings["square"], "square", 12,
                                          np.random.default_rng(0))
    for c in composites:
        for i, box in enumerate(c.boxes):
            assert _inside(_part_points(c, i), box)
    result = structure.run(
        model, drawings, tmp_path, seed=0, progress=False, image_shape=(28, 28, 1),
        numerosity_classes=("square",), placement_classes=("circle", "square", "triangle"),
        n_categorical=60, n_continuous=60, arithmetic_per_class=4, num_samples=1,
        projection="pca")
    assert result["sets"]["placement"]["readout"]["pixels"]["accuracy"] >= 0.9
    assert [e["expression"] for e in result["arithmetic"]["equations"]] == [
        "snowman - circle + square", "television - square + circle"]
    assert all((tmp_path / name).stat().st_size > 10_000 for name in result["figures"])


@pytest.mark.large
def test_umap_projection_is_seeded_and_separates_clusters():
    """``large``: importing umap and its first (JIT-compiled) fit take ~30 s."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.05, (40, 8)) + np.eye(8)[0],
                        rng.normal(0, 0.05, (40, 8)) + np.eye(8)[1]])
    a, b = readouts.project_2d(x, seed=3), readouts.project_2d(x, seed=3)
    assert a.shape == (80, 2) and np.array_equal(a, b)
    gap = np.linalg.norm(a[:40].mean(0) - a[40:].mean(0))
    assert gap > 3 * max(a[:40].std(0).max(), a[40:].std(0).max())

"""Tests for sketchembednet.data.rasterize against an independent float64 NumPy reference."""

import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from sketchembednet.data import rasterize as rz

START, END = (0.0, 0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0, 1.0)


# ----------------------------------------------------------------------------------------
# NumPy reference: loops and broadcasting, written from the spec, float64.
# ----------------------------------------------------------------------------------------
def ref_points_and_masks(stroke5):
    """Loops over rows: (points [B, N, 2], segment_mask [B, N-1], point_mask [B, N])."""
    stroke5 = np.asarray(stroke5, np.float64)
    batch, n, _ = stroke5.shape
    points = np.zeros((batch, n, 2))
    seg, valid = np.zeros((batch, n - 1), bool), np.zeros((batch, n), bool)
    for b in range(batch):
        ended, pos = False, np.zeros(2)
        for i in range(n):
            pos = pos + stroke5[b, i, :2]
            points[b, i] = pos
            pen = int(np.argmax(stroke5[b, i, 2:5]))
            ended = ended or pen == 2
            valid[b, i] = not ended
            if i < n - 1:
                seg[b, i] = pen == 0 and not ended
    return points, seg, valid


def ref_rasterize(points, seg_mask, size):
    """Per drawn segment, clamped-projection distance on the pixel grid; min; sigmoid."""
    points = np.asarray(points, np.float64)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)  # pixel (r, c) has centre (x=c, y=r)
    out = np.zeros((points.shape[0], size, size))
    for b in range(points.shape[0]):
        d2 = np.full((size, size), np.inf)
        for i in range(points.shape[1] - 1):
            if not seg_mask[b, i]:
                continue
            (ax, ay), (bx, by) = points[b, i], points[b, i + 1]
            ux, uy = bx - ax, by - ay
            length2 = ux * ux + uy * uy
            t = 0.0 if length2 == 0 else np.clip(((xs - ax) * ux + (ys - ay) * uy) / length2, 0, 1)
            d2 = np.minimum(d2, (xs - ax - t * ux) ** 2 + (ys - ay - t * uy) ** 2)
        with np.errstate(over="ignore"):
            out[b] = 1.0 / (1.0 + np.exp(-(2.0 - 5.0 * d2)))
    return out


def ref_fit(points, valid, size, pad):
    """Scale / offset putting the valid points' box, longer side size - pad, at the centre."""
    scale, offset = np.ones(len(points)), np.zeros((len(points), 2))
    for b in range(len(points)):
        v = points[b][valid[b]] if valid[b].any() else np.zeros((1, 2))
        lo, hi = v.min(0), v.max(0)
        if (hi - lo).max() > 0:
            scale[b] = (size - pad) / (hi - lo).max()
        offset[b] = (size - 1) / 2 - (lo + hi) / 2 * scale[b]
    return scale, offset


def ref_render_stroke5(stroke5, size, fit_points=None):
    """Reference render_stroke5; ``fit_points`` (a stroke-5) gives the transform if set."""
    points, seg, valid = ref_points_and_masks(stroke5)
    fit, _, fit_valid = ref_points_and_masks(stroke5 if fit_points is None else fit_points)
    scale, offset = ref_fit(fit, fit_valid, size, 2 * round(size / 10))
    return ref_rasterize(points * scale[:, None, None] + offset[:, None], seg, size)


def random_stroke5(rng, batch, n, soft=False, garbage=True):
    """Random stroke-5 with pen lifts, variable lengths and (garbage) rows after the end."""
    out = np.zeros((batch, n, 5))
    for b in range(batch):
        length = rng.integers(max(1, n // 2), n)  # rows 1..length are real
        out[b, 1:, :2] = rng.normal(0.0, 3.0, (n - 1, 2))
        pen = (rng.random(n) < 0.25).astype(int)  # 25% pen lifts
        pen[0] = 0  # the start token
        if length + 1 < n:
            pen[length + 1] = 2
            pen[length + 2 :] = rng.integers(0, 3, n - length - 2) if garbage else 2
            if not garbage:
                out[b, length + 1 :, :2] = 0.0
        out[b, :, 2:] = np.eye(3)[pen]
    if soft:  # probabilities with the same argmax
        out[:, :, 2:] = 0.6 * out[:, :, 2:] + 0.4 * rng.dirichlet(np.ones(3), (batch, n))
    return out.astype(np.float32)


def random_pixel_points(rng, batch, n, size):
    points = rng.uniform(-3.0, size + 3.0, (batch, n, 2)).astype(np.float32)
    return points, rng.random((batch, n - 1)) < 0.7


# ----------------------------------------------------------------------------------------
# Stroke-5 -> points / masks, bounding box.
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("soft", [False, True])
def test_stroke5_to_points_matches_loops(soft):
    stroke5 = random_stroke5(np.random.default_rng(0), 6, 20, soft=soft)
    points, seg, valid = rz.stroke5_to_points(tf.constant(stroke5))
    ref_points, ref_seg, ref_valid = ref_points_and_masks(stroke5)
    np.testing.assert_allclose(points.numpy(), ref_points, atol=1e-4)
    np.testing.assert_array_equal(seg.numpy(), ref_seg)
    np.testing.assert_array_equal(valid.numpy(), ref_valid)
    assert not ref_seg[:, -3:].all() and ref_seg.any()  # the data has both kinds


def test_point_mask_is_rows_0_to_L():
    stroke3 = np.array([[1, 2, 0], [3, 1, 1], [2, 2, 1]], np.float32)
    stroke5 = np.array([START] + [(r[0], r[1], 1 - r[2], r[2], 0) for r in stroke3] + [END] * 2)
    _, seg, valid = rz.stroke5_to_points(tf.constant(stroke5[None], tf.float32))
    assert valid.numpy().tolist() == [[True] * 4 + [False] * 2]
    assert seg.numpy().tolist() == [[True, True, False, False, False]]


@pytest.mark.parametrize("size,pad", [(28, 6), (84, 16)])
def test_bbox_transform_fits_and_centres(size, pad):
    assert rz.default_padding(size) == pad
    stroke5 = random_stroke5(np.random.default_rng(1), 8, 30)
    points, _, valid = rz.stroke5_to_points(tf.constant(stroke5))
    points = tf.where(valid[..., None], points, 1e6)  # masked points must not count
    scale, offset = rz.bbox_transform(points, valid, size)
    assert scale.shape == (8, 1, 1) and offset.shape == (8, 1, 2)
    fitted = (points * scale + offset).numpy()
    for b in range(8):
        v = fitted[b][valid.numpy()[b]]
        lo, hi = v.min(0), v.max(0)
        # Pixel centres 0..S-1: the canvas spans [-0.5, S-0.5], the sketch S-pad of it.
        assert lo.min() >= pad / 2 - 0.5 - 1e-3 and hi.max() <= size - 1 - pad / 2 + 0.5 + 1e-3
        np.testing.assert_allclose((hi - lo).max(), size - pad, rtol=1e-5)
        np.testing.assert_allclose((lo + hi) / 2, (size - 1) / 2, atol=1e-4)


def test_bbox_transform_degenerate_is_finite():
    points = tf.constant(
        [[[3.0, 4.0], [3.0, 4.0], [50.0, 9.0]], [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]], tf.float32
    )
    mask = tf.constant([[True, True, False], [False, False, False]])
    scale, offset = rz.bbox_transform(points, mask, 28)
    fitted = (points * scale + offset).numpy()
    assert np.isfinite(scale.numpy()).all() and np.isfinite(offset.numpy()).all()
    np.testing.assert_allclose(fitted[0, 0], [13.5, 13.5], atol=1e-5)  # single point: centred
    stroke5 = tf.constant([[START, END, END]], tf.float32)  # a single-point sketch
    with tf.GradientTape() as tape:
        tape.watch(stroke5)
        image = rz.render_stroke5(stroke5, 28)
    grad = tape.gradient(image, stroke5)
    assert np.isfinite(image.numpy()).all() and np.isfinite(grad.numpy()).all()
    assert image.numpy()[0, 13:15, 13:15].min() > 0.3  # the dot is drawn at the centre


# ----------------------------------------------------------------------------------------
# Forward agreement with the reference.
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "size,batch,n,chunk",
    [(28, 1, 2, 1), (28, 3, 17, 5), (28, 4, 65, 16), (28, 2, 10, 64), (84, 2, 33, 7),
     (84, 1, 101, 16)],
)
def test_rasterize_matches_reference(size, batch, n, chunk):
    points, mask = random_pixel_points(np.random.default_rng(n), batch, n, size)
    image = rz.rasterize(tf.constant(points), tf.constant(mask), size, chunk_size=chunk)
    assert image.shape == (batch, size, size, 1) and image.dtype == tf.float32
    np.testing.assert_allclose(image.numpy()[..., 0], ref_rasterize(points, mask, size), atol=1e-5)


@pytest.mark.parametrize(
    "size,batch,n,soft,dtype,atol",
    # float32 end to end: the cumsum and the fit add ~1e-5 at 84 px; float64 is exact.
    [(28, 5, 24, False, tf.float32, 1e-5), (84, 3, 41, True, tf.float32, 3e-5),
     (84, 3, 41, True, tf.float64, 1e-9)],
)
def test_render_stroke5_matches_reference(size, batch, n, soft, dtype, atol):
    stroke5 = random_stroke5(np.random.default_rng(size + n), batch, n, soft=soft)
    image = rz.render_stroke5(tf.constant(stroke5, dtype), size)
    assert image.dtype == dtype
    np.testing.assert_allclose(image.numpy()[..., 0], ref_render_stroke5(stroke5, size), atol=atol)
    assert image.numpy().max() > 0.8  # something is drawn


# ----------------------------------------------------------------------------------------
# Gradients.
# ----------------------------------------------------------------------------------------
def _finite_difference(fn, x, h=1e-6):
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (fn(plus) - fn(minus)) / (2 * h)
    return grad


@pytest.mark.parametrize(
    "dtype,own_bbox", [(tf.float64, True), (tf.float32, True), (tf.float32, False)]
)
def test_gradient_wrt_offsets_matches_finite_differences(dtype, own_bbox):
    """Own bbox: render_stroke5. Otherwise the pixel-loss case: the GT's transform."""
    rng = np.random.default_rng(7)
    pred = random_stroke5(rng, 2, 12, soft=True).astype(np.float64)
    gt = random_stroke5(rng, 2, 12, garbage=False).astype(np.float64)
    weights = rng.normal(size=(2, 28, 28))
    offsets = tf.constant(pred[..., :2], dtype)
    with tf.GradientTape() as tape:
        tape.watch(offsets)
        stroke5 = tf.concat([offsets, tf.constant(pred[..., 2:], dtype)], axis=-1)
        if own_bbox:
            image = rz.render_stroke5(stroke5, 28)
        else:
            gt_points, _, gt_valid = rz.stroke5_to_points(tf.constant(gt, dtype))
            scale, offset = rz.bbox_transform(gt_points, gt_valid, 28)
            points, seg, _ = rz.stroke5_to_points(stroke5)
            image = rz.rasterize(points * scale + offset, seg, 28, chunk_size=5)  # 3 chunks
        loss = tf.reduce_sum(image[..., 0] * tf.constant(weights, dtype))
    grad = tape.gradient(loss, offsets).numpy()

    def ref_loss(xy):
        return np.sum(ref_render_stroke5(np.concatenate([xy, pred[..., 2:]], -1), 28,
                                         None if own_bbox else gt) * weights)

    expected = _finite_difference(ref_loss, pred[..., :2].copy())
    assert np.abs(expected).max() > 1.0  # a meaningful gradient
    np.testing.assert_allclose(grad, expected, rtol=3e-3, atol=3e-3 * np.abs(expected).max())


def _naive_rasterize(points, seg_mask, size):
    """The original design: all [B, S*S, M] terms at once, differentiated by plain autodiff."""
    grid = tf.range(size, dtype=points.dtype)
    gy, gx = tf.meshgrid(grid, grid, indexing="ij")
    pix = tf.reshape(tf.stack([gx, gy], -1), [1, -1, 1, 2])  # [1, P, 1, 2]
    a, b = points[:, None, :-1], points[:, None, 1:]  # [B, 1, M, 2]
    ab, ap = b - a, pix - a  # [B, 1, M, 2], [B, P, M, 2]
    t = tf.clip_by_value(tf.reduce_sum(ap * ab, -1, True) / tf.reduce_sum(ab * ab, -1, True), 0, 1)
    d2 = tf.reduce_sum(tf.square(ap - t * ab), -1)  # [B, P, M]
    d2 = tf.reduce_min(tf.where(seg_mask[:, None, :], d2, 1e10), -1)  # [B, P]
    return tf.reshape(tf.sigmoid(2.0 - 5.0 * d2), [-1, size, size, 1])


def _op_types(concrete_fn):
    graph_def = concrete_fn.graph.as_graph_def()
    ops = {node.op for node in graph_def.node}
    for fn in graph_def.library.function:
        ops |= {node.op for node in fn.node_def}
    return ops


def test_custom_gradient_is_used_and_equals_autodiff():
    points, mask = random_pixel_points(np.random.default_rng(3), 3, 9, 28)
    points, mask = tf.constant(points), tf.constant(mask)
    weights = tf.constant(np.random.default_rng(4).normal(size=(3, 28, 28, 1)), tf.float32)

    def grad_of(render):
        with tf.GradientTape() as tape:
            tape.watch(points)
            loss = tf.reduce_sum(render(points, mask, 28) * weights)
        return tape.gradient(loss, points)

    def chunked(p, m, size):
        return rz.rasterize(p, m, size, chunk_size=3)  # 8 segments: 3 chunks, the last partial

    np.testing.assert_allclose(grad_of(chunked), grad_of(_naive_rasterize), rtol=1e-4, atol=1e-4)
    ops = _op_types(tf.function(lambda p: grad_of(chunked)).get_concrete_function(points))
    # Envelope backward: one scatter; differentiating the chunk loop instead would need
    # TensorList accumulators of every chunk's [B, K, S, S] terms.
    assert "UnsortedSegmentSum" in ops and ("While" in ops or "StatelessWhile" in ops)
    assert not any(op.startswith("TensorList") for op in ops), sorted(ops)


def test_custom_gradient_survives_eager_tape_and_retracing():
    """A trace first differentiated by an eager tape, then reused in a graph (regression)."""
    user_loss = tf.function(
        lambda s5: tf.reduce_sum(rz.render_stroke5(s5, 28)), reduce_retracing=True
    )
    rng = np.random.default_rng(11)
    for n in (6, 8, 10):  # the third call reuses a shape-generalised trace
        stroke5 = tf.constant(random_stroke5(rng, 2, n))
        with tf.GradientTape() as tape:
            tape.watch(stroke5)
            loss = user_loss(stroke5)
        assert np.isfinite(tape.gradient(loss, stroke5).numpy()).all()

    def step(s5):
        with tf.GradientTape() as tape:
            tape.watch(s5)
            loss = user_loss(s5)
        return tape.gradient(loss, s5)

    stroke5 = tf.constant(random_stroke5(rng, 2, 12))
    ops = _op_types(tf.function(step).get_concrete_function(stroke5))
    assert "UnsortedSegmentSum" in ops
    assert not any(op.startswith("TensorList") for op in ops), sorted(ops)


def test_gradient_under_xla_matches_graph():
    """Keras 3 train steps are XLA-compiled when possible (``jit_compile="auto"``)."""
    stroke5 = tf.constant(random_stroke5(np.random.default_rng(10), 3, 20))

    def loss_and_grad(s5):
        with tf.GradientTape() as tape:
            tape.watch(s5)
            loss = tf.reduce_sum(tf.square(rz.gaussian_blur(rz.render_stroke5(s5, 28))))
        return loss, tape.gradient(loss, s5)

    graph = tf.function(loss_and_grad)(stroke5)
    xla = tf.function(loss_and_grad, jit_compile=True)(stroke5)
    np.testing.assert_allclose(xla[0], graph[0], rtol=1e-5)
    np.testing.assert_allclose(xla[1], graph[1], rtol=1e-4, atol=1e-4 * np.abs(graph[1]).max())


# ----------------------------------------------------------------------------------------
# Masking.
# ----------------------------------------------------------------------------------------
def test_drawn_image_is_max_of_single_segment_images():
    """Masked segments are absent: the image is the max over drawn segments drawn alone."""
    points, mask = random_pixel_points(np.random.default_rng(5), 2, 9, 28)
    image = rz.rasterize(points, mask, 28, chunk_size=3).numpy()
    for b in range(2):
        singles = [rz.rasterize(points[b : b + 1, i : i + 2], [[True]], 28).numpy()[0]
                   for i in range(8) if mask[b, i]]
        np.testing.assert_allclose(image[b], np.max(singles, axis=0), atol=1e-6)


def test_pen_lift_and_padding_are_not_drawn():
    rows = [START, (10, 0, 1, 0, 0), (0, 10, 0, 1, 0), (-10, 0, 1, 0, 0), (0, -5, 0, 1, 0)]
    garbage = [(0, 0, 0, 0, 1), (-20, 3, 1, 0, 0), (7, 9, 1, 0, 0), (3, 3, 0, 1, 0)]
    padded = tf.constant([rows + garbage], tf.float32)
    image = rz.render_stroke5(padded, 28).numpy()
    truncated = rz.render_stroke5(tf.constant([rows + [END]], tf.float32), 28).numpy()
    np.testing.assert_allclose(image, truncated, atol=1e-6)
    # P0=(0,0) P1=(10,0) P2=(10,10) P3=(0,10) P4=(0,5): box 10x10 -> 2.2 px per unit, offset 2.5.
    lifted = rows[:2] + [(0, 10, 1, 0, 0)] + rows[3:]
    drawn = rz.render_stroke5(tf.constant([lifted + [END]], tf.float32), 28).numpy()
    assert image[0, 24, 13, 0] < 0.01 and drawn[0, 24, 13, 0] > 0.6  # bottom: P2 -> P3 lifted
    assert image[0, 2, 13, 0] > 0.6 and image[0, 13, 24, 0] > 0.6  # top and right drawn


def test_all_masked_is_background_with_zero_gradient():
    points = tf.constant(np.random.default_rng(6).uniform(0, 28, (2, 6, 2)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(points)
        image = rz.rasterize(points, tf.zeros([2, 5], tf.bool), 28, chunk_size=4)
        loss = tf.reduce_sum(image * image) + tf.reduce_sum(tf.math.log(1.0 - image))
    grad = tape.gradient(loss, points).numpy()
    assert image.numpy().max() < 1e-6
    assert np.isfinite(grad).all() and np.abs(grad).max() == 0.0
    one_point = tf.ones([2, 1, 2])  # N = 1: no segment at all
    with tf.GradientTape() as tape:
        tape.watch(one_point)
        single = rz.rasterize(one_point, tf.zeros([2, 0], tf.bool), 28)
    assert single.shape == (2, 28, 28, 1) and single.numpy().max() < 1e-6
    assert np.abs(tape.gradient(single, one_point).numpy()).max() == 0.0
    lifted = [(0, 0, 0, 1, 0)] + [(3, 1, 0, 1, 0)] * 4  # every row pen-up
    ended = [END] + [(3, 1, 1, 0, 0)] * 4  # ends at row 0: no valid point either
    stroke5 = tf.constant([lifted, ended], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(stroke5)
        image = rz.render_stroke5(stroke5, 28)
    grad = tape.gradient(image, stroke5).numpy()
    assert image.numpy().max() < 1e-6 and np.isfinite(grad).all() and np.abs(grad).max() == 0.0


# ----------------------------------------------------------------------------------------
# Blur.
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma,kernel_size", [(2.0, 5), (1.0, 3)])
def test_blur_matches_scipy(sigma, kernel_size):
    images = np.random.default_rng(8).random((2, 28, 28, 3)).astype(np.float32)
    x = np.arange(kernel_size) - kernel_size // 2
    kernel = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    kernel /= kernel.sum()
    expected = np.stack([np.stack([scipy.ndimage.convolve(im[..., c], kernel, mode="constant")
                                   for c in range(3)], -1) for im in images])
    blurred = rz.gaussian_blur(tf.constant(images), sigma, kernel_size).numpy()
    np.testing.assert_allclose(blurred, expected, atol=1e-5)


def test_blur_kernel_and_mass():
    kernel = rz._gaussian_kernel(2.0, 5)
    assert kernel.shape == (5, 5) and abs(kernel.sum() - 1.0) < 1e-12
    np.testing.assert_allclose(kernel[2, 2] / kernel[2, 4], np.exp(4 / 8))  # sigma = 2
    delta = np.zeros((1, 20, 20, 1), np.float32)
    delta[0, 9, 11, 0] = 1.0
    blurred = rz.gaussian_blur(tf.constant(delta)).numpy()
    assert abs(blurred.sum() - 1.0) < 1e-6  # mass preserved in the interior
    np.testing.assert_allclose(blurred[0, 7:12, 9:14, 0], kernel, atol=1e-7)
    ones = rz.gaussian_blur(tf.ones([1, 10, 10, 1])).numpy()[0, ..., 0]
    np.testing.assert_allclose(ones[2:-2, 2:-2], 1.0, atol=1e-6)
    np.testing.assert_allclose(ones[0, 0], kernel[2:, 2:].sum(), atol=1e-6)  # zero padding
    with pytest.raises(ValueError, match="odd"):
        rz.gaussian_blur(tf.ones([1, 8, 8, 1]), kernel_size=4)


# ----------------------------------------------------------------------------------------
# Model input images.
# ----------------------------------------------------------------------------------------
def _stroke3_examples():
    rng = np.random.default_rng(9)
    for length in (1, 5, 23, 40):
        s3 = np.concatenate([rng.normal(0, 5, (length, 2)), rng.random((length, 1)) < 0.2], 1)
        s3[-1, 2] = 1.0
        yield s3.astype(np.float32)


def test_render_image_eager_and_in_dataset_map():
    examples = list(_stroke3_examples())
    ds = tf.data.Dataset.from_generator(
        _stroke3_examples, output_signature=tf.TensorSpec([None, 3], tf.float32)
    ).map(lambda s: rz.render_image(s, 28))
    mapped = [image.numpy() for image in ds]
    assert len(mapped) == len(examples)
    for s3, in_map in zip(examples, mapped):
        eager = rz.render_image(tf.constant(s3), 28).numpy()
        assert eager.dtype == np.uint8 and eager.shape == (28, 28, 1)
        np.testing.assert_array_equal(eager, in_map)
        assert eager[0, 0, 0] == 255 and eager[-1, -1, 0] == 255 and eager.min() < 60
        expected = np.round(255 * (1 - ref_render_stroke5(_stroke5_from(s3, 45), 28)))
        assert np.abs(eager[..., 0].astype(int) - expected[0]).max() <= 1


def _stroke5_from(stroke3, max_len):
    rows = [(r[0], r[1], 1 - r[2], r[2], 0) for r in stroke3]
    return np.array([[START] + rows + [END] * (max_len - len(rows))], np.float32)


def test_render_images_batched_matches_render_image():
    examples = list(_stroke3_examples())
    stroke5 = np.concatenate([_stroke5_from(s3, 45) for s3 in examples])
    images = rz.render_images(tf.constant(stroke5), 84).numpy()
    assert images.dtype == np.uint8 and images.shape == (4, 84, 84, 1)
    for s3, image in zip(examples, images):
        np.testing.assert_array_equal(image, rz.render_image(tf.constant(s3), 84).numpy())
    assert (images[:, 0, 0, 0] == 255).all() and (images.min(axis=(1, 2, 3)) < 60).all()

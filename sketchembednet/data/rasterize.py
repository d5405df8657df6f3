"""A differentiable, memory-bounded ``tf.function`` rasterizer for stroke-5 sketches.

Implements the renderer of the pixel loss of SketchEmbedNet (Wang et al., ICML
2021, Sec. 3 "pixel loss"), and renders the model's input images from strokes
(inside ``tf.data`` maps) with the same function, so inputs and pixel-loss
targets come from one renderer.

* Points: ``P_i = sum_{k<=i} (dx_k, dy_k)`` of a stroke-5 (row 0 is the start
  token, so ``P_0 = (0, 0)``). Segment ``P_i -> P_{i+1}`` is drawn iff the argmax
  of row i's pen state is p1 and no row ``<= i`` is an end token (argmax p3).
  Pen states are a hard mask without gradient, as in the paper.
* Pixel ``(row r, col c)`` has centre ``(x=c, y=r)``. Its intensity is
  ``sigmoid(2 - 5 d^2)`` with ``d^2`` the squared distance to the nearest drawn
  segment: 0.88 on the line, 0.5 at 0.63 px, 0.05 at 1 px.
* "Fit to canvas": ``scale = (S - pad) / max(w, h)`` of the bounding box of the
  valid points, centred; ``pad = 2 * round(S / 10)`` (6 px at 28, 16 at 84).
* The loss blurs with a normalised 5x5 Gaussian (sigma 2), zero padding.

Differences from the authors' code (``util/drawer_utils.py``) and why:

* Distance: the exact clamped projection ``min_{t in [0, 1]} |p - a - t (b-a)|^2``.
  The original used ``cross^2 / (|ab|^2 + 1e-4)`` inside the segment, which is
  the same quantity up to the 1e-4, except that a zero-length drawn segment gave
  ``d^2 = 0`` on the *whole* canvas; here it is the distance to the point.
* Masking: argmax pen states and explicit end-of-sketch masking, instead of
  ``p1 > 0.5``, so rows after the end token are never drawn.
* Centring: on the pixel-centre grid ``0..S-1`` the canvas centre is
  ``(S - 1) / 2``; the original used ``S / 2`` (a half-pixel shift) and had no
  guard for a degenerate (single point) bounding box, which gave inf/NaN. The
  bounding box covers only the points before the end token.
* Memory: the original held several ``[B, S*S, T]`` tensors, all kept by the tape
  (12.8M floats each at B=256, S=28, T=64). Here :func:`rasterize` runs a
  ``tf.custom_gradient`` core: the forward pass loops over chunks of ``K``
  segments (``tf.while_loop``, one chunk at a time) keeping a running min of
  ``d^2`` and its argmin; the backward pass uses the envelope theorem. With
  ``r = p - a - t (b - a)`` for the nearest segment ``(a, b)`` and its optimal
  ``t``, ``d d^2 / da = -2 r (1 - t)`` and ``d d^2 / db = -2 r t``, scattered to
  the point indices with ``tf.math.unsorted_segment_sum``. This is exact
  wherever ``d^2`` is differentiable (everywhere except where two segments tie).

Working memory of :func:`rasterize` (float32: 4 bytes; ``B`` sketches, canvas
``S``, ``P = S*S`` pixels, ``N`` points, chunk ``K``), bounds from the op graph::

    forward:  4 * B * P * (5 * K + 6) + 64 * B * N   bytes  (<= 5 live [B, K, S, S]
                                                     terms + the running min/argmin)
    backward: 4 * B * P * 24 + 16 * B * N            bytes  (gathered a, b, r, t,
                                                     scattered terms)
    kept by the tape between them: 16 * B * P + 8 * B * N bytes

No term grows with ``N * P``. B=256, S=28, N=65, K=16: <= 70 MB forward, 20 MB
backward; B=64, S=84, N=101, K=16: <= 156 MB and 43 MB (1 MB = 1e6 bytes). TF
frees temporaries eagerly, so about 3 (not 5) ``[B, K, S, S]`` terms are live at
once in practice; ``tools/bench_rasterizer.py`` measures peak RSS. Only chunks
holding a drawn segment are computed (drawn segments are sorted first).

Example:
  >>> stroke3 = tf.constant([[5., 0., 0.], [0., 5., 1.]])  # an "L", pen lifted at the end
  >>> image = render_image(stroke3, 28)
  >>> image.dtype.name, image.shape, int(image[0, 0, 0]), int(image[3, 3, 0])
  ('uint8', TensorShape([28, 28, 1]), 255, 82)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from sketchembednet.data import framing
from sketchembednet.data import strokes

_FAR_D2 = 1e10  # d^2 reported for pixels of a sketch with no drawn segment.
_MIN_EXTENT = 1e-6  # Bounding boxes smaller than this (in both axes) are degenerate.


def intensity_from_distance(d2):
    """Ink intensity from a squared distance in pixels (SketchEmbedNet, Sec. 3 pixel loss).

    Args:
      d2: float tensor of squared distances, any shape.

    Returns:
      ``sigmoid(2 - 5 d2)``, same shape: 0.88 at 0, 0.5 at ``d2 = 0.4``, 0.05 at 1.

    Example:
      >>> round(float(intensity_from_distance(tf.constant(0.4))), 3)
      0.5
    """
    return tf.sigmoid(framing.LINE_OFFSET - framing.LINE_SHARPNESS * d2)


def stroke5_to_points(stroke5):
    """Absolute points and drawing masks of a batch of stroke-5 sketches.

    Args:
      stroke5: float ``[B, N, 5]`` rows ``(dx, dy, p1, p2, p3)``; pen states may be
        one-hot or probabilities (their argmax is used).

    Returns:
      ``(points [B, N, 2], segment_mask [B, N-1] bool, point_mask [B, N] bool)``:
      ``points`` is the cumsum of the offsets, ``segment_mask[b, i]`` says whether
      ``P_i -> P_{i+1}`` is drawn and ``point_mask[b, i]`` whether row i comes
      before the first end token (rows ``0..L`` of a sketch of L stroke-3 rows).

    Example:
      >>> s5 = tf.constant([[[0, 0, 1, 0, 0], [3, 4, 0, 1, 0], [0, 0, 0, 0, 1.]]])
      >>> points, seg, valid = stroke5_to_points(s5)
      >>> points[0, 1].numpy().tolist(), seg.numpy().tolist(), valid.numpy().tolist()
      ([3.0, 4.0], [[True, False]], [[True, True, False]])
    """
    stroke5 = tf.convert_to_tensor(stroke5)  # [B, N, 5]
    points = tf.cumsum(stroke5[..., :2], axis=1)  # [B, N, 2]
    pen = tf.argmax(stroke5[..., 2:5], axis=-1, output_type=tf.int32)  # [B, N]
    n_ends = tf.cumsum(tf.cast(tf.equal(pen, 2), tf.int32), axis=1)  # [B, N]
    point_mask = tf.equal(n_ends, 0)  # [B, N]
    segment_mask = tf.logical_and(tf.equal(pen, 0), point_mask)[:, :-1]  # [B, N-1]
    return points, segment_mask, point_mask


def default_padding(canvas_size: int) -> int:
    """The paper's canvas padding ``2 * round(S / 10)``: :func:`framing.padding`."""
    return framing.padding(canvas_size)


def bbox_transform(points, point_mask, canvas_size, padding=None):
    """Scale and offset fitting the masked bounding box of ``points`` to the canvas.

    ``points * scale + offset`` has its longer bounding-box side equal to
    ``S - padding`` and its centre at the canvas centre ``((S-1)/2, (S-1)/2)``.
    Compute it from one point set (the ground truth) and apply it to another
    (the prediction) for the pixel loss. Degenerate boxes (a single point, or no
    valid point) give ``scale = 1`` with the point centred; never NaN or inf.

    Args:
      points: float ``[B, N, 2]``.
      point_mask: bool ``[B, N]``, the points that count for the box.
      canvas_size: S, a Python int.
      padding: total padding in pixels; ``default_padding(S)`` if None.

    Returns:
      ``(scale [B, 1, 1], offset [B, 1, 2])``.

    Example:
      >>> pts = tf.constant([[[0., 0.], [10., 5.]]])
      >>> scale, offset = bbox_transform(pts, tf.constant([[True, True]]), 28)
      >>> (pts * scale + offset)[0].numpy().tolist()
      [[2.5, 8.0], [24.5, 19.0]]
    """
    points = tf.convert_to_tensor(points)  # [B, N, 2]
    dtype = points.dtype
    pad = default_padding(canvas_size) if padding is None else padding
    mask = tf.convert_to_tensor(point_mask)[..., None]  # [B, N, 1]
    lo = tf.reduce_min(tf.where(mask, points, dtype.max), axis=1)  # [B, 2]
    hi = tf.reduce_max(tf.where(mask, points, dtype.min), axis=1)  # [B, 2]
    any_valid = tf.reduce_any(mask, axis=1)  # [B, 1]
    lo = tf.where(any_valid, lo, tf.zeros_like(lo))  # [B, 2]
    hi = tf.where(any_valid, hi, tf.zeros_like(hi))  # [B, 2]
    extent = tf.reduce_max(hi - lo, axis=1)  # [B]
    ok = extent > _MIN_EXTENT  # [B]
    safe_extent = tf.where(ok, extent, tf.ones_like(extent))  # [B]
    scale = tf.where(ok, tf.cast(canvas_size - pad, dtype) / safe_extent, tf.ones_like(extent))
    offset = (canvas_size - 1) / 2.0 - (lo + hi) / 2.0 * scale[:, None]  # [B, 2]
    return scale[:, None, None], offset[:, None, :]


def _segment_table(points, segment_mask, chunk_size):
    """Per-segment constants, drawn segments first, in whole chunks of K.

    Returns ``(table [C, B, K, 6], mask [C, B, K], n_active, order [B, M+1])``:
    rows ``(ax, ay, abx, aby, abx/|ab|^2, aby/|ab|^2)`` (0 for zero-length
    segments, so ``t = 0``: the distance to ``a``), ``C = ceil(M / K)``, the number
    of chunks holding a drawn segment (the loop stops there: chunks of padding and
    pen lifts only are never computed) and the original index of each sorted one.
    """
    order = tf.argsort(tf.cast(tf.logical_not(segment_mask), tf.int32), axis=1, stable=True)
    a = tf.gather(points[:, :-1], order, batch_dims=1)  # [B, M, 2]
    ab = tf.gather(points[:, 1:], order, batch_dims=1) - a  # [B, M, 2]
    mask = tf.gather(segment_mask, order, batch_dims=1)  # [B, M]
    inv_len2 = tf.math.divide_no_nan(tf.ones_like(a[..., :1]), tf.reduce_sum(ab * ab, -1, True))
    table = tf.concat([a, ab, ab * inv_len2], axis=-1)  # [B, M, 6]
    n_seg = tf.shape(table)[1]
    n_chunks = (n_seg + chunk_size - 1) // chunk_size  # static when M is (XLA)
    extra = n_chunks * chunk_size - n_seg
    table = tf.pad(table, [[0, 0], [0, extra], [0, 0]])  # [B, C*K, 6]
    mask = tf.pad(mask, [[0, 0], [0, extra]])  # [B, C*K]
    batch = tf.shape(table)[0]
    table = tf.transpose(tf.reshape(table, [batch, n_chunks, chunk_size, 6]), [1, 0, 2, 3])
    mask = tf.transpose(tf.reshape(mask, [batch, n_chunks, chunk_size]), [1, 0, 2])
    n_drawn = tf.reduce_max(tf.reduce_sum(tf.cast(segment_mask, tf.int32), 1))
    n_active = tf.maximum((n_drawn + chunk_size - 1) // chunk_size, 0)  # chunks with a drawn one
    return table, mask, n_active, tf.pad(order, [[0, 0], [0, 1]])  # order [B, M+1]: M = 0 ok


def _min_sq_distance_forward(points, segment_mask, canvas_size, chunk_size):
    """Running min / argmin (original segment index) of ``d^2``: ``([B, S, S], [B, S, S])``."""
    table, mask, n_active, order = _segment_table(points, segment_mask, chunk_size)
    grid = tf.range(canvas_size, dtype=points.dtype)  # [S]
    xs, ys = grid[None, None, None, :], grid[None, None, :, None]  # [1, 1, 1, S], [1, 1, S, 1]
    batch = tf.shape(points)[0]
    inf = tf.constant(np.inf, points.dtype)

    def body(i, best, arg):
        seg = table[i][..., None, None]  # [B, K, 6, 1, 1]
        ax, ay, abx, aby, wx, wy = [seg[:, :, j] for j in range(6)]  # [B, K, 1, 1] each
        apx, apy = xs - ax, ys - ay  # [B, K, 1, S], [B, K, S, 1]
        t = tf.clip_by_value(apx * wx + apy * wy, 0.0, 1.0)  # [B, K, S, S]
        rx, ry = apx - t * abx, apy - t * aby  # [B, K, S, S]
        d2 = tf.where(mask[i][:, :, None, None], rx * rx + ry * ry, inf)  # [B, K, S, S]
        chunk_min = tf.reduce_min(d2, axis=1)  # [B, S, S]
        chunk_arg = tf.argmin(d2, axis=1, output_type=tf.int32) + i * chunk_size  # [B, S, S]
        better = chunk_min < best  # [B, S, S]
        return i + 1, tf.where(better, chunk_min, best), tf.where(better, chunk_arg, arg)

    best = tf.fill([batch, canvas_size, canvas_size], inf)  # [B, S, S]
    arg = tf.zeros([batch, canvas_size, canvas_size], tf.int32)  # [B, S, S]
    # parallel_iterations=1: one chunk's temporaries alive at a time (the memory bound).
    _, best, arg = tf.while_loop(
        lambda i, *_: i < n_active, body, [tf.constant(0), best, arg],
        parallel_iterations=1,
    )
    arg = tf.gather(order, tf.reshape(arg, [batch, -1]), batch_dims=1)  # [B, S*S]
    return best, tf.reshape(arg, tf.shape(best))  # [B, S, S] each


def _envelope_gradient(points, best, arg, upstream, canvas_size):
    """``d loss / d points`` from ``d loss / d d^2`` via the envelope theorem: ``[B, N, 2]``."""
    batch, n_points = tf.shape(points)[0], tf.shape(points)[1]
    n_pix = canvas_size * canvas_size
    idx_a = tf.reshape(arg, [batch, n_pix])  # [B, P], segment i = (P_i, P_{i+1})
    idx_b = tf.minimum(idx_a + 1, n_points - 1)  # [B, P]; clamp only matters for N = 1
    a = tf.gather(points, idx_a, batch_dims=1)  # [B, P, 2]
    b = tf.gather(points, idx_b, batch_dims=1)  # [B, P, 2]
    grid = tf.range(canvas_size, dtype=points.dtype)  # [S]
    gy, gx = tf.meshgrid(grid, grid, indexing="ij")  # [S, S] each
    pix = tf.reshape(tf.stack([gx, gy], axis=-1), [1, n_pix, 2])  # [1, P, 2], (x=col, y=row)
    ab, ap = b - a, pix - a  # [B, P, 2]
    inv_len2 = tf.math.divide_no_nan(tf.ones_like(ab[..., :1]), tf.reduce_sum(ab * ab, -1, True))
    t = tf.clip_by_value(tf.reduce_sum(ap * ab, -1, True) * inv_len2, 0.0, 1.0)  # [B, P, 1]
    r = ap - t * ab  # [B, P, 2]
    has_segment = tf.reshape(best < np.inf, [batch, n_pix, 1])  # [B, P, 1]
    g = tf.where(has_segment, tf.reshape(upstream, [batch, n_pix, 1]), tf.zeros_like(t))
    terms = tf.concat([-2.0 * g * r * (1.0 - t), -2.0 * g * r * t], axis=1)  # [B, 2P, 2]
    ids = tf.concat([idx_a, idx_b], axis=1) + n_points * tf.range(batch)[:, None]  # [B, 2P]
    grad = tf.math.unsorted_segment_sum(
        tf.reshape(terms, [-1, 2]), tf.reshape(ids, [-1]), batch * n_points
    )  # [B*N, 2]
    return tf.reshape(grad, tf.shape(points))  # [B, N, 2]


def _min_sq_distance(points, segment_mask, canvas_size, chunk_size):
    """Squared distance of each pixel to the nearest drawn segment, ``[B, S, S]``.

    The loop's outputs go through ``tf.stop_gradient``: without it, once a
    ``tf.function`` holding this was differentiated by an eager tape, TF 2.21 also
    built the loop's own gradient for higher-order use (TensorList accumulators of
    every chunk's ``[B, K, S, S]`` terms) in functions that later reused the trace.
    """

    @tf.custom_gradient
    def core(pts, seg_mask):
        best, arg = _min_sq_distance_forward(pts, seg_mask, canvas_size, chunk_size)
        best = tf.stop_gradient(best)  # [B, S, S]; see the docstring
        d2 = tf.where(best < np.inf, best, tf.cast(_FAR_D2, pts.dtype))  # [B, S, S]

        def grad(upstream):  # upstream: [B, S, S]
            return _envelope_gradient(pts, best, arg, upstream, canvas_size), None

        return d2, grad

    return core(points, segment_mask)


@tf.function(reduce_retracing=True)
def rasterize(points, segment_mask, canvas_size, chunk_size=16):
    """Renders segments given in pixel coordinates (SketchEmbedNet, Sec. 3 pixel loss).

    Args:
      points: float ``[B, N, 2]`` absolute ``(x, y)`` in pixels, ``N >= 1``.
      segment_mask: bool ``[B, N-1]``, whether ``P_i -> P_{i+1}`` is drawn.
      canvas_size: S, a Python int.
      chunk_size: K, segments per loop step (memory ~ K; any K >= 1 works).

    Returns:
      Intensity ``[B, S, S, 1]`` in ``(0, 1)``, differentiable w.r.t. ``points``
      (envelope-theorem gradient, see the module docstring); all-background with
      zero gradient where no segment is drawn.

    Example:
      >>> pts = tf.constant([[[2., 2.], [20., 2.]]])
      >>> img = rasterize(pts, tf.constant([[True]]), 28)
      >>> round(float(img[0, 2, 10, 0]), 2), round(float(img[0, 10, 10, 0]), 2)
      (0.88, 0.0)
    """
    points = tf.convert_to_tensor(points)
    if not points.dtype.is_floating:
        points = tf.cast(points, tf.float32)
    segment_mask = tf.cast(segment_mask, tf.bool)  # [B, N-1]
    d2 = _min_sq_distance(points, segment_mask, canvas_size, chunk_size)  # [B, S, S]
    return intensity_from_distance(d2)[..., None]  # [B, S, S, 1]


@tf.function(reduce_retracing=True)
def render_stroke5(stroke5, canvas_size, padding=None):
    """Fits stroke-5 sketches to the canvas (their own bounding box) and rasterizes them.

    Args:
      stroke5: float ``[B, N, 5]``.
      canvas_size: S, a Python int.
      padding: total padding in pixels; ``default_padding(S)`` if None.

    Returns:
      Intensity ``[B, S, S, 1]`` in ``(0, 1)``, differentiable w.r.t. the offsets.

    Example:
      >>> s5 = tf.constant([[[0, 0, 1, 0, 0], [4, 0, 0, 1, 0], [0, 0, 0, 0, 1.]]])
      >>> render_stroke5(s5, 28).shape
      TensorShape([1, 28, 28, 1])
    """
    points, segment_mask, point_mask = stroke5_to_points(stroke5)
    scale, offset = bbox_transform(points, point_mask, canvas_size, padding)
    return rasterize(points * scale + offset, segment_mask, canvas_size)  # [B, S, S, 1]


@tf.function(reduce_retracing=True)
def render_images(stroke5, canvas_size):
    """Model input images of a batch of stroke-5 sketches.

    Args:
      stroke5: float ``[B, N, 5]``.
      canvas_size: S, a Python int.

    Returns:
      uint8 ``[B, S, S, 1]``: ``round(255 * (1 - intensity))``, white background.

    Example:
      >>> s5 = tf.constant([[[0, 0, 1, 0, 0], [4, 0, 0, 1, 0], [0, 0, 0, 0, 1.]]])
      >>> int(render_images(s5, 28)[0, 0, 0, 0])
      255
    """
    intensity = render_stroke5(tf.cast(stroke5, tf.float32), canvas_size)  # [B, S, S, 1]
    return tf.cast(tf.round(255.0 * (1.0 - intensity)), tf.uint8)  # [B, S, S, 1]


@tf.function(reduce_retracing=True)
def render_image(stroke3, canvas_size):
    """Model input image of ONE stroke-3 sketch; usable inside ``tf.data.Dataset.map``.

    Args:
      stroke3: float ``[L, 3]`` rows ``(dx, dy, pen_lifted)``.
      canvas_size: S, a Python int.

    Returns:
      uint8 ``[S, S, 1]``, white background (255), black ink.

    Example:
      >>> ds = tf.data.Dataset.from_tensors(tf.constant([[5., 5., 1.]]))
      >>> next(iter(ds.map(lambda s: render_image(s, 28)))).shape
      TensorShape([28, 28, 1])
    """
    stroke3 = tf.cast(stroke3, tf.float32)  # [L, 3]
    lift = stroke3[:, 2:3]  # [L, 1]
    rows = tf.concat([stroke3[:, :2], 1.0 - lift, lift, tf.zeros_like(lift)], axis=1)  # [L, 5]
    start = tf.constant([[0.0, 0.0, 1.0, 0.0, 0.0]])  # [1, 5]
    stroke5 = tf.concat([start, rows], axis=0)[None]  # [1, L+1, 5]
    return render_images(stroke5, canvas_size)[0]  # [S, S, 1]


def _gaussian_kernel(sigma, kernel_size):
    """Normalised 2-D Gaussian ``[k, k]`` (float64 NumPy) on offsets ``-k//2 .. k//2``."""
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"gaussian_blur: kernel_size must be odd and positive, got {kernel_size}")
    x = np.arange(kernel_size) - kernel_size // 2
    k = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2.0 * sigma**2))
    return k / k.sum()


def gaussian_blur(images, sigma=2.0, kernel_size=5):
    """Gaussian blur with zero padding (SketchEmbedNet, Sec. 3 pixel loss).

    Replaces ``tfa.image.gaussian_filter2d`` (tensorflow-addons cannot be
    imported under Keras 3) with ``tf.nn.depthwise_conv2d``.

    Args:
      images: float ``[B, H, W, C]`` with a static C.
      sigma: standard deviation in pixels.
      kernel_size: odd size of the square kernel (5: offsets -2..2, as the original).

    Returns:
      Blurred images, same shape and dtype.

    Raises:
      ValueError: for an even or non-positive ``kernel_size``.

    Example:
      >>> delta = tf.pad(tf.ones([1, 1, 1, 1]), [[0, 0], [4, 4], [4, 4], [0, 0]])
      >>> round(float(tf.reduce_sum(gaussian_blur(delta))), 4)
      1.0
    """
    images = tf.convert_to_tensor(images)  # [B, H, W, C]
    channels = images.shape[-1]
    kernel = tf.constant(_gaussian_kernel(sigma, kernel_size), images.dtype)  # [k, k]
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])  # [k, k, C, 1]
    return tf.nn.depthwise_conv2d(images, kernel, [1, 1, 1, 1], padding="SAME")  # [B, H, W, C]


def render_stroke3_list(stroke3_list, canvas_size: int, batch_size: int = 256) -> np.ndarray:
    """Model input images of many stroke-3 sketches of any lengths (NumPy in, NumPy out).

    Sketches are rendered a batch at a time, padded to the batch's longest
    (rounded up to a multiple of 32, so that few shapes are traced); padding
    does not change a rendering.

    Args:
      stroke3_list: float arrays ``[L_i, 3]`` in any units (each is fitted to the canvas).
      canvas_size: S.
      batch_size: sketches per rasterizer call.

    Returns:
      uint8 ``[n, S, S, 1]``, white background (255), black ink.

    Example:
      >>> images = render_stroke3_list([np.array([[5., 0., 1.]]), np.array([[0., 5., 1.]])], 28)
      >>> images.shape, images.dtype
      ((2, 28, 28, 1), dtype('uint8'))
    """
    stroke3_list = list(stroke3_list)
    out = np.empty((len(stroke3_list), canvas_size, canvas_size, 1), np.uint8)
    for start in range(0, len(stroke3_list), batch_size):
        batch = stroke3_list[start : start + batch_size]
        max_len = -(-max(len(s) for s in batch) // 32) * 32
        stroke5 = np.stack([strokes.stroke3_to_stroke5(s, max_len) for s in batch])
        out[start : start + len(batch)] = render_images(stroke5, canvas_size).numpy()
    return out

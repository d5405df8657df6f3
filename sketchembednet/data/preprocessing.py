"""The input contract: users' images -> exactly what the encoder saw in training.

Training images are stroke renderings (:mod:`sketchembednet.data.framing`): the drawing
scaled so that its longer side spans ``S - 2 * round(S / 10)`` pixels (22 at S = 28),
centred, grey anti-aliased ink (darkest 30) on white 255. Real inputs (a 105x105 Omniglot
page, a scan, a phone photo of a drawing, a web-canvas PNG with transparency) arrive
small, off-centre, pure black, sometimes inverted. :func:`preprocess_images` maps any of
them to the training framing; it is used by the evaluator's datasets, the tuner's
validation set, the figures and inside the exported encoder's SavedModel, so every
image enters every model the same way.

``framing="fit_ink"`` (the default for models trained on strokes), per image:

1. **Channels.** 4 channels: composited on white by alpha; 3: ``rgb_to_grayscale``.
2. **Polarity** (``invert_light_on_dark``, on by default): the background level is the
   median of the image's border pixels; if it is nearer the darkest than the lightest
   pixel (light ink on a dark background), the image is inverted.
3. **Contrast.** Ink intensity ``(background - pixel) / (background - darkest)``,
   clipped to 0..1. An image whose darkest pixel is less than ``MIN_CONTRAST`` (10%)
   of the background level below it has no ink and becomes a blank canvas (255).
4. **Ink box.** Pixels above ``framing.INK_THRESHOLD`` (half the darkest ink) are ink;
   the box's edges are found to a fraction of a pixel (where the ink crosses the
   threshold, interpolated between pixel centres), its longer side is scaled to
   ``framing.ink_extent(S)`` (what a training rendering's ink spans: 23.3 px at 28),
   keeping the aspect ratio, and its centre goes to the canvas centre. So a training
   render passes through almost unchanged (scale ~1, shift ~0). A dot (ink at most 1.5
   times as long as its line is wide) is not blown up: it becomes a rendered dot.
5. **Line width.** Lines thinner than a rendered line after scaling (thin pen on a
   large page) are first thickened by 3x3 dilations, a fractional last one blended in,
   so they do not fade away (the width is estimated as 2 x ink area / ink boundary).
6. **Resample** with an anti-aliased Keys cubic filter (``ScaleAndTranslate``), rescale
   the ink so its darkest pixel is ``framing.INK_MAX``, write ``255 * (1 - ink)``.

``framing="none"`` (photo encoders: Sketchy or mini-ImageNet inputs, which must not be
cropped; or images already framed like the training renders): channel conversion and
an area resize of the whole image to ``S x S`` only.

Float inputs are read on the 0..255 scale (uint8 values as floats); NaN, Inf and
values outside 0..255 are errors. With ``fit_ink`` the contrast step makes the scale
irrelevant, so a 0..1 float page gives the same output as its uint8 copy.

Example:
  >>> page = np.full([105, 105, 1], 255, np.uint8)
  >>> page[60:90, 10:14] = 0                         # a small vertical bar, off-centre
  >>> image = preprocess_images(page, image_size=28)
  >>> image.dtype.name, image.shape.as_list(), int(tf.reduce_min(image))
  ('uint8', [28, 28, 1], 30)
"""

from __future__ import annotations

import tensorflow as tf

from sketchembednet.data import framing as framing_lib

FRAMINGS = ("fit_ink", "none")
MIN_CONTRAST = 0.1  # Below this relative contrast an image has no ink (a blank canvas).
MAX_DILATIONS = 64  # Cap on the 3x3 dilations that thicken thin lines (step 5).
DOT_RATIO = 1.5  # Ink no longer than this many line widths is a dot (step 4).
_EPS = 1e-6
_KERNEL = "keyscubic"  # ScaleAndTranslate filter, anti-aliased (chosen by measurement).


def check_framing(framing: str) -> str:
    """Returns ``framing`` if it is one of :data:`FRAMINGS`; raises ``ValueError`` otherwise."""
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {FRAMINGS}, got {framing!r}")
    return framing


def _checked(images):
    """float32 ``[N, H, W, C]`` of valid images, and whether a batch axis was added."""
    images = tf.convert_to_tensor(images)
    expected = "[N, H, W, C] or [H, W, C] with C in (1, 3, 4)"
    if images.dtype != tf.uint8 and not images.dtype.is_floating:
        raise TypeError(f"images must be uint8 or float (0..255), got {images.dtype.name}")
    rank = images.shape.rank
    if rank not in (3, 4):
        raise ValueError(f"images must be {expected}; got shape {images.shape}")
    added_batch = rank == 3
    if added_batch:
        images = images[None]
    if images.shape[-1] is not None and images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"images must be {expected}; got shape {images.shape}")
    shape = tf.shape(images)
    checks = [tf.debugging.Assert(
        tf.reduce_any(tf.equal(shape[-1], [1, 3, 4])),
        [f"images must be {expected}; got shape", shape])]
    checks.append(tf.debugging.Assert(
        tf.logical_and(shape[1] > 0, shape[2] > 0), ["images must not be empty; got shape",
                                                     shape]))
    if images.dtype.is_floating:
        checks.append(tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(images)), ["images hold NaN or Inf"]))
        checks.append(tf.debugging.Assert(
            tf.logical_and(tf.reduce_all(images >= 0.0), tf.reduce_all(images <= 255.0)),
            ["float images must be in 0..255 (uint8 values as floats); got min",
             tf.reduce_min(images), "max", tf.reduce_max(images)]))
    with tf.control_dependencies(checks):
        images = tf.identity(tf.cast(images, tf.float32))
    return images, added_batch


def _to_channels(images, channels: int):
    """float32 ``[N, H, W, C]`` (C dynamic: 1, 3 or 4, alpha composited on white) ->
    ``[N, H, W, channels]``, channels 1 or 3."""

    def from_c(c_in):
        def convert():
            x = tf.ensure_shape(images, [None, None, None, c_in])
            if c_in == 4:
                alpha = x[..., 3:] / 255.0
                x = x[..., :3] * alpha + 255.0 * (1.0 - alpha)  # composite on white
            if x.shape[-1] == channels:
                return x
            return tf.image.rgb_to_grayscale(x) if channels == 1 else tf.image.grayscale_to_rgb(x)
        return convert

    if images.shape[-1] is not None:
        return from_c(int(images.shape[-1]))()
    c_in = tf.shape(images)[-1]
    return tf.case([(tf.equal(c_in, 1), from_c(1)), (tf.equal(c_in, 3), from_c(3))],
                   default=from_c(4))


def _ink_intensity(gray, invert_light_on_dark: bool):
    """Contrast-normalised ink ``[N, H, W]`` in 0..1 (steps 2-3) and ``has_ink [N]``."""
    border = tf.concat([gray[:, 0, :], gray[:, -1, :], gray[:, :, 0], gray[:, :, -1]], 1)
    n_border = tf.shape(border)[1]
    background = tf.sort(border, axis=1)[:, n_border // 2]  # [N], the border's median
    lo, hi = tf.reduce_min(gray, [1, 2]), tf.reduce_max(gray, [1, 2])  # [N] each
    if invert_light_on_dark:
        dark = background < (lo + hi) / 2.0  # [N]: light ink on a dark background
        gray = tf.where(dark[:, None, None], (lo + hi)[:, None, None] - gray, gray)
        background = tf.where(dark, lo + hi - background, background)
    contrast = background - lo  # [N]; the darkest pixel is lo either way
    has_ink = contrast > MIN_CONTRAST * tf.maximum(background, _EPS)  # [N]
    ink = (background[:, None, None] - gray) / tf.maximum(contrast, _EPS)[:, None, None]
    return tf.clip_by_value(ink, 0.0, 1.0), has_ink  # [N, H, W], [N]


def _line_width(mask):
    """Estimated line width (pixels) of a bool ink mask ``[H, W]``: 2 * area / boundary."""
    ink = tf.pad(tf.cast(mask, tf.float32), [[1, 1], [1, 1]])[None, :, :, None]  # outside: no ink
    eroded = -tf.nn.max_pool2d(-ink, 3, 1, "VALID")  # ink pixels whose 8 neighbours are ink
    area = tf.reduce_sum(ink)
    boundary = area - tf.reduce_sum(eroded)
    return 2.0 * area / tf.maximum(boundary, 1.0)


def _ink_edges(profile):
    """Sub-pixel ink edges ``(start, end)`` of a profile ``[n]`` (the max ink across a row or
    a column): where it crosses ``INK_THRESHOLD``, linearly interpolated between pixel
    centres; a hard edge (0 -> 1) is the pixel's border, half a pixel out."""
    n = tf.shape(profile)[0]
    above = tf.cast(profile > framing_lib.INK_THRESHOLD, tf.int32)
    first = tf.argmax(above, output_type=tf.int32)
    last = n - 1 - tf.argmax(above[::-1], output_type=tf.int32)

    def crossing(inside, outside):  # how far beyond pixel `inside` the ink ends (pixels)
        p_in = profile[inside]
        p_out = tf.gather(profile, tf.clip_by_value(outside, 0, n - 1))
        frac = (p_in - framing_lib.INK_THRESHOLD) / tf.maximum(p_in - p_out, _EPS)
        return tf.where((outside < 0) | (outside >= n), 0.5, tf.minimum(frac, 1.0))

    start = tf.cast(first, tf.float32) - crossing(first, first - 1)
    end = tf.cast(last, tf.float32) + crossing(last, last + 1)
    return start, end


def _fit_one(ink, image_size: int):
    """One image's ink ``[H, W]`` (0..1) framed on the canvas: ink ``[S, S]`` (steps 4-6)."""
    mask = ink > framing_lib.INK_THRESHOLD  # [H, W]
    r0, r1 = _ink_edges(tf.reduce_max(ink, 1))  # rows: the ink's top and bottom edges
    c0, c1 = _ink_edges(tf.reduce_max(ink, 0))  # columns
    extent = tf.maximum(tf.maximum(r1 - r0, c1 - c0), _EPS)  # pixels
    width = _line_width(mask)  # pixels
    # Output px per input px. A dot (ink at most 1.5 times as long as its line is wide;
    # a filled square or disc has 2) is drawn at a rendered line's width, as the renderer
    # draws a one-point sketch, not blown up.
    scale = tf.where(extent > DOT_RATIO * width, framing_lib.ink_extent(image_size) / extent,
                     framing_lib.line_width() / width)
    # Thicken lines that would be thinner than a rendered line (thin pen on a large page):
    # k = n + a 3x3 dilations (+2 px each), the fraction a as a blend of n and n + 1, so
    # the width changes continuously. (Thinning thick lines by erosion measured worse.)
    k = tf.clip_by_value((framing_lib.line_width() / scale - width) / 2.0, 0.0, MAX_DILATIONS)
    n = tf.cast(tf.floor(k), tf.int32)
    a = k - tf.floor(k)
    image = _dilate(ink[None, :, :, None], n)  # [1, H, W, 1]
    image = (1.0 - a) * image + a * tf.nn.max_pool2d(image, 3, 1, "SAME")
    # ScaleAndTranslate: output pixel j + 0.5 = scale * (input pixel i + 0.5) + t.
    centre = tf.stack([(r0 + r1) / 2.0, (c0 + c1) / 2.0])  # [2], input pixels
    translation = image_size / 2.0 - scale * (centre + 0.5)  # [2]
    out = tf.raw_ops.ScaleAndTranslate(
        images=image, size=[image_size, image_size], scale=tf.stack([scale, scale]),
        translation=translation, kernel_type=_KERNEL, antialias=True)[0, :, :, 0]  # [S, S]
    return tf.clip_by_value(out / tf.maximum(tf.reduce_max(out), _EPS), 0.0, 1.0)


def _dilate(image, steps):
    """``steps`` 3x3 dilations (max-pools) of ``[1, H, W, 1]``."""
    _, image = tf.while_loop(lambda i, _: i < steps,
                             lambda i, x: (i + 1, tf.nn.max_pool2d(x, 3, 1, "SAME")),
                             [tf.constant(0), image])
    return image


def _fit_ink(gray, image_size: int, invert_light_on_dark: bool):
    """float32 grey ``[N, S, S, 1]`` 0..255 in the training framing (steps 2-6)."""
    ink, has_ink = _ink_intensity(gray[..., 0], invert_light_on_dark)  # [N, H, W], [N]
    framed = tf.map_fn(lambda x: _fit_one(x, image_size), ink,
                       fn_output_signature=tf.TensorSpec([image_size, image_size], tf.float32))
    framed = tf.where(has_ink[:, None, None], framed, 0.0)  # [N, S, S]; blank without ink
    return (255.0 * (1.0 - framing_lib.INK_MAX * framed))[..., None]  # [N, S, S, 1]


def _resize_whole(images, image_size: int):
    """Area resize of whole images to ``S x S`` (skipped when already that size)."""
    shape = tf.shape(images)
    return tf.cond(tf.logical_and(tf.equal(shape[1], image_size), tf.equal(shape[2], image_size)),
                   lambda: images,
                   lambda: tf.image.resize(images, [image_size, image_size], method="area"))


def preprocess_images(images, image_size: int = 28, channels: int = 1,
                      framing: str = "fit_ink", invert_light_on_dark: bool = True) -> tf.Tensor:
    """Maps users' images to the model's training input (see the module docstring).

    Args:
      images: uint8, or float on the 0..255 scale, ``[N, H, W, C]`` or ``[H, W, C]``, any
        ``H`` and ``W``, ``C`` in {1, 3, 4} (4: alpha, composited on white); dark ink on a
        light background, or the reverse (see ``invert_light_on_dark``).
      image_size: the model's canvas ``S`` (28 for strokes, 84 for Sketchy photos).
      channels: the model's channels, 1 or 3 (grey replicated to RGB).
      framing: ``"fit_ink"`` (crop to the ink, fit and centre it as training renders
        are; for stroke-trained models) or ``"none"`` (resize the whole image; for photo
        encoders and already framed images).
      invert_light_on_dark: with ``fit_ink``, invert images whose border is darker than
        their ink (chalk on a blackboard, white-on-black scans). Turn it off for images
        whose border is mostly ink.

    Returns:
      uint8 ``[N, S, S, channels]`` (``[S, S, channels]`` for a rank-3 input): white
      background, grey anti-aliased ink, as ``rasterize.render_images``. An image with
      no ink (blank, a single colour, or contrast below ``MIN_CONTRAST``) is a blank
      white canvas.

    Raises:
      TypeError: for a dtype other than uint8 or float.
      ValueError: for a rank other than 3 or 4, a static channel count other than 1, 3
        or 4, an unknown ``framing``, or ``channels`` not 1 or 3.
      tf.errors.InvalidArgumentError: at run time, for a dynamic channel count other
        than 1, 3 or 4, an empty image, NaN/Inf, or floats outside 0..255.

    Example:
      >>> page = np.zeros([2, 300, 200, 3], np.uint8)   # white chalk on a blackboard
      >>> page[:, 100:200, 50:60] = 255
      >>> preprocess_images(page).shape.as_list()
      [2, 28, 28, 1]
    """
    check_framing(framing)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    images, added_batch = _checked(images)  # [N, H, W, C] float32
    if framing == "none":
        out = _resize_whole(_to_channels(images, channels), image_size)
    else:
        out = _fit_ink(_to_channels(images, 1), image_size, invert_light_on_dark)
        if channels == 3:
            out = tf.tile(out, [1, 1, 1, 3])
    out = tf.cast(tf.clip_by_value(tf.round(out), 0.0, 255.0), tf.uint8)
    out = tf.ensure_shape(out, [None, image_size, image_size, channels])
    return out[0] if added_batch else out  # [N, S, S, channels] or [S, S, channels]


_TRACED = {}


def _traced(dtype, image_size: int, channels: int, framing: str, invert_light_on_dark: bool):
    """A ``tf.function`` of :func:`preprocess_images` for ``[N, H, W, C]`` of any size
    (one trace per dtype and option set, so images of many sizes do not retrace)."""
    key = (tf.as_dtype(dtype).name, image_size, channels, framing, invert_light_on_dark)
    if key not in _TRACED:
        spec = tf.TensorSpec([None, None, None, None], tf.as_dtype(dtype))
        _TRACED[key] = tf.function(
            lambda x: preprocess_images(x, image_size, channels, framing, invert_light_on_dark),
            input_signature=[spec])
    return _TRACED[key]


def preprocess_array(images, image_size: int = 28, channels: int = 1, framing: str = "fit_ink",
                     invert_light_on_dark: bool = True, batch_size: int = 512,
                     progress: str | None = None):
    """:func:`preprocess_images` of a NumPy array, in batches: uint8 ``[n, S, S, channels]``.

    Args:
      images: uint8 or float (0..255) ``[n, H, W, C]`` (or ``[H, W, C]``).
      image_size, channels, framing, invert_light_on_dark: as :func:`preprocess_images`.
      batch_size: images per call (bounds the working memory).
      progress: a tqdm description, or None for no progress bar.

    Returns:
      uint8 NumPy ``[n, S, S, channels]`` (``[S, S, channels]`` for a rank-3 input).

    Example:
      >>> preprocess_array(np.full([3, 50, 40, 1], 255, np.uint8)).shape
      (3, 28, 28, 1)
    """
    import numpy as np

    check_framing(framing)
    images = np.asarray(images)
    if images.ndim == 3:
        return preprocess_array(images[None], image_size, channels, framing,
                                invert_light_on_dark, batch_size)[0]
    if images.ndim != 4:
        raise ValueError("images must be [N, H, W, C] or [H, W, C] with C in (1, 3, 4); got "
                         f"shape {images.shape}")
    fn = _traced(images.dtype, image_size, channels, framing, invert_light_on_dark)
    starts = range(0, len(images), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=progress, unit="batch", leave=False)
    out = [fn(tf.constant(images[i:i + batch_size])).numpy() for i in starts]
    if not out:
        return np.zeros([0, image_size, image_size, channels], np.uint8)
    return np.concatenate(out)

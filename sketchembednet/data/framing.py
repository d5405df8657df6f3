"""How a sketch sits on the model's canvas: one definition for the renderer and the preprocessor.

Every training image is a stroke rendering (:mod:`sketchembednet.data.rasterize`): the
drawing's bounding box is scaled so that its longer side is ``box_size(S)`` pixels
(``S - 2 * round(S / 10)``: 22 at S = 28, 68 at S = 84), centred at ``((S-1)/2,
(S-1)/2)``, drawn with the line profile ``sigmoid(LINE_OFFSET - LINE_SHARPNESS * d^2)``
(``d`` in pixels) as grey ink on white: ``round(255 * (1 - intensity))``, darkest
``255 * (1 - INK_MAX)`` = 30. The image preprocessor
(:mod:`sketchembednet.data.preprocessing`) maps users' images to that framing, so both
read these constants and cannot drift apart.

Example:
  >>> padding(28), box_size(28), round(ink_extent(28), 2), render_ink_grey()
  (6, 22, 23.34, 30)
"""

from __future__ import annotations

import math

LINE_OFFSET = 2.0  # Line profile sigmoid(LINE_OFFSET - LINE_SHARPNESS * d^2) (paper, Sec. 3).
LINE_SHARPNESS = 5.0
INK_MAX = 1.0 / (1.0 + math.exp(-LINE_OFFSET))  # Intensity on the line: 0.881.

# A pixel is ink when its contrast-normalised ink intensity (0 = background, 1 = the
# darkest ink) exceeds this. At half the maximum, a rendered line counts as ink up to
# HALF_WIDTH pixels from its centre line (0.67 px), so its ink is 1.34 px wide.
INK_THRESHOLD = 0.5
HALF_WIDTH = math.sqrt((LINE_OFFSET - math.log(INK_MAX * INK_THRESHOLD
                                               / (1.0 - INK_MAX * INK_THRESHOLD)))
                       / LINE_SHARPNESS)


def padding(canvas_size: int) -> int:
    """The paper's total canvas padding ``2 * round(S / 10)`` (Python rounds half to even,
    as ``tf.round``): 6 px at S = 28, 16 at S = 84."""
    return 2 * round(canvas_size / 10)


def box_size(canvas_size: int) -> int:
    """Longer side of a rendered drawing's bounding box (of its stroke points): ``S - padding``."""
    return canvas_size - padding(canvas_size)


def ink_extent(canvas_size: int) -> float:
    """Longer side of a rendering's *ink* (pixels above ``INK_THRESHOLD``): the points' box
    plus half a line width on each side (23.34 px at S = 28). The preprocessor scales a
    page's ink to this."""
    return box_size(canvas_size) + 2.0 * HALF_WIDTH


def line_width() -> float:
    """Width of a rendered line's ink, in pixels (1.34): ``2 * HALF_WIDTH``."""
    return 2.0 * HALF_WIDTH


def render_ink_grey() -> int:
    """The grey level (0..255) on a rendered line: ``round(255 * (1 - INK_MAX))`` = 30."""
    return round(255 * (1.0 - INK_MAX))

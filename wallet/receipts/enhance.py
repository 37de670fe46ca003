"""Image clean-ups that make a phone photo of a receipt readable: shared by the code finder and the OCR.

Each function takes a Pillow image and returns a new one (or a number); none changes its
input. They work on greyscale ("L") and are plain numpy/Pillow, cheap enough to run on a
2-megapixel photo in tens of milliseconds:

- ``flatten_light`` divides the picture by an estimate of its lighting, so a shadow or a
  light gradient across the paper no longer decides what is ink;
- ``stretch_contrast`` spreads the grey levels of a dim photo over the whole range;
- ``binarise_otsu`` / ``binarise_adaptive`` make black-and-white copies, globally or
  against the neighbourhood of each pixel;
- ``skew_angle`` finds how far the text lines are turned (projection profiles), for
  ``straighten``; ``paper_box`` finds the receipt on the table, to crop to it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

_RESAMPLE = Image.Resampling.BICUBIC


def to_grey(image: Image.Image) -> Image.Image:
    """The picture in greyscale ("L"), as a copy."""
    return image.convert("L") if image.mode != "L" else image.copy()


def resize_to_fit(image: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    """The picture shrunk so that its longer side is at most ``max_side``, and the scale used (1.0: untouched)."""
    side = max(image.size)
    if side <= max_side:
        return image, 1.0
    scale = max_side / side
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS), scale


def upscale(image: Image.Image, factor: float) -> Image.Image:
    """The picture enlarged by ``factor`` (bicubic), for codes and characters too small to read."""
    return image.resize((round(image.width * factor), round(image.height * factor)), _RESAMPLE)


def stretch_contrast(grey: Image.Image, low: float = 1.0, high: float = 99.0) -> Image.Image:
    """Grey levels between the ``low`` and ``high`` percentiles spread over 0-255 (a dim, flat photo made crisp)."""
    a = np.asarray(grey, dtype=np.float32)
    lo, hi = np.percentile(a, [low, high])
    if hi - lo < 1:
        return grey.copy()
    return Image.fromarray(np.clip((a - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8), "L")


def flatten_light(grey: Image.Image) -> Image.Image:
    """The picture divided by its lighting: paper becomes evenly white, ink stays dark.

    The lighting is estimated as the local maximum (the paper around the ink) of an
    eighth-size copy, smoothed; dividing by it removes gradients and soft shadows.
    """
    small = grey.resize((max(1, grey.width // 8), max(1, grey.height // 8)), Image.Resampling.BILINEAR)
    light = small.filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.GaussianBlur(4))
    light = light.resize(grey.size, Image.Resampling.BILINEAR)
    a = np.asarray(grey, dtype=np.float32)
    b = np.maximum(np.asarray(light, dtype=np.float32), 1.0)
    return Image.fromarray(np.clip(a * 255.0 / b, 0, 255).astype(np.uint8), "L")


def otsu_threshold(grey: Image.Image) -> int:
    """Otsu's threshold: the grey level that best splits the histogram into two classes."""
    hist = np.bincount(np.asarray(grey, dtype=np.uint8).ravel(), minlength=256).astype(np.float64)
    p = hist / max(hist.sum(), 1.0)
    w = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    between = (mu[-1] * w - mu) ** 2 / (w * (1.0 - w) + 1e-12)
    return int(np.argmax(between))


def binarise_otsu(grey: Image.Image) -> Image.Image:
    """Black and white at Otsu's threshold (one threshold for the whole picture)."""
    t = otsu_threshold(grey)
    return Image.fromarray(np.where(np.asarray(grey) > t, 255, 0).astype(np.uint8), "L")


def binarise_adaptive(grey: Image.Image, radius: int = 15, offset: int = 10) -> Image.Image:
    """Black where a pixel is ``offset`` darker than the mean of its neighbourhood (``radius`` pixels), else white.

    Copes with uneven light, where one global threshold would swallow the dark side.
    """
    a = np.asarray(grey, dtype=np.int16)
    mean = np.asarray(grey.filter(ImageFilter.BoxBlur(radius)), dtype=np.int16)
    return Image.fromarray(np.where(a < mean - offset, 0, 255).astype(np.uint8), "L")


def paper_mask(grey: Image.Image) -> Image.Image:
    """White where the receipt's paper is (the bright region of the photo), shrunk a little from its edges.

    All white when no region stands out from the rest (the photo is all paper). The edge of
    the paper against the table is left out: it is a long straight line that would outweigh
    the text when the skew is measured.
    """
    radius = max(2, max(grey.size) // 80)
    smooth = grey.filter(ImageFilter.BoxBlur(radius))
    a = np.asarray(smooth, dtype=np.uint8)
    t = otsu_threshold(smooth)
    paper = a > t
    if not paper.any() or paper.all() or float(a[paper].mean()) - float(a[~paper].mean()) < 40:
        return Image.new("L", grey.size, 255)
    mask = Image.fromarray(np.where(paper, 255, 0).astype(np.uint8), "L")
    return mask.filter(ImageFilter.MinFilter(2 * radius + 1))


def _ink(grey: Image.Image, max_side: int) -> Image.Image:
    """Black for the ink of the text on the paper, white elsewhere (table, paper edges), small."""
    small, _ = resize_to_fit(grey, max_side)
    ink = binarise_adaptive(small, radius=max(4, max(small.size) // 60), offset=12)
    mask = np.asarray(paper_mask(small)) > 0
    return Image.fromarray(np.where(mask, np.asarray(ink), 255).astype(np.uint8), "L")


def _profile_score(ink: Image.Image, angle: float) -> float:
    # Turn the picture by -angle and sum the ink of each row: straight text lines give sharp
    # peaks (lines) and valleys (gaps), so the variance of the row sums is highest there.
    turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, expand=True, fillcolor=255)
    rows = (255 - np.asarray(turned, dtype=np.float32)).sum(axis=1)
    return float(np.var(rows))


def skew_angle(grey: Image.Image, *, max_angle: float = 20.0, quarter_turns: bool = True,
               max_side: int = 700) -> float:
    """The angle (degrees, counter-clockwise) by which to turn the picture so its text lines are level.

    Searches +-``max_angle`` in 1-degree steps, then refines to 0.2 degrees; with
    ``quarter_turns`` it also tries around 90 degrees, so a receipt photographed sideways
    is brought upright or upside down (telling those two apart is left to the reader).
    """
    ink = _ink(grey, max_side)
    centres = [0.0, 90.0] if quarter_turns else [0.0]
    coarse = [c + a for c in centres for a in np.arange(-max_angle, max_angle + 0.01, 1.0)]
    best = max(coarse, key=lambda a: _profile_score(ink, a))
    fine = np.arange(best - 1.0, best + 1.01, 0.2)
    return round(float(max(fine, key=lambda a: _profile_score(ink, a))), 1)


def border_grey(grey: Image.Image) -> int:
    """The median grey of the picture's outermost pixels: the table around the receipt, usually."""
    a = np.asarray(grey, dtype=np.uint8)
    edge = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    return int(np.median(edge))


def straighten(image: Image.Image, angle: float, fill: int | tuple[int, ...] = 255) -> Image.Image:
    """The picture turned by ``angle`` degrees counter-clockwise, canvas grown to keep every corner."""
    if abs(angle) < 0.05:
        return image.copy()
    return image.rotate(angle, resample=_RESAMPLE, expand=True, fillcolor=fill)


def paper_box(grey: Image.Image) -> tuple[int, int, int, int] | None:
    """The box (left, top, right, bottom) of the receipt: the bright paper on a darker table.

    None when no clearly brighter region stands out (the photo is all paper, or all table).
    """
    small, scale = resize_to_fit(grey, 500)
    smooth = small.filter(ImageFilter.BoxBlur(max(2, max(small.size) // 80)))
    a = np.asarray(smooth, dtype=np.uint8)
    t = otsu_threshold(smooth)
    paper = a > t
    if a[paper].size == 0 or float(a[paper].mean()) - float(a[~paper].mean() if (~paper).any() else 0) < 40:
        return None
    # Rows and columns that are a tenth paper or more: a receipt seen at an angle is a
    # trapezoid, and a stricter share would cut its corners (and the ends of its lines).
    rows = np.where(paper.mean(axis=1) > 0.1)[0]
    cols = np.where(paper.mean(axis=0) > 0.1)[0]
    if rows.size < 2 or cols.size < 2:
        return None
    pad = max(4, max(small.size) // 60)
    left, top = max(0, cols[0] - pad), max(0, rows[0] - pad)
    right, bottom = min(small.width, cols[-1] + 1 + pad), min(small.height, rows[-1] + 1 + pad)
    if (right - left) * (bottom - top) < 0.05 * small.width * small.height:
        return None
    box = tuple(int(round(v / scale)) for v in (left, top, right, bottom))
    return box[0], box[1], min(grey.width, box[2]), min(grey.height, box[3])

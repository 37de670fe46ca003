"""The icon and logo of a pass, drawn with Pillow from a simple brand mark.

Nothing is read from disk or the network: the mark (a tyre, seen from the side: a thick
ring with tread blocks and a hub) is drawn in code, four times oversized and scaled down
for smooth edges. The logo is the mark followed by two bars that stand for a wordmark, in
the pass's foreground colour on a transparent ground; the icon (shown in notifications and
on the lock screen) is the mark on the pass's background colour.

Wallet wants each image at 1x, 2x and 3x: icon 29, 58 and 87 px square, logo 160x50,
320x100 and 480x150. Drawing all six takes tens of milliseconds, so they are drawn once
per process for each colour pair and cached; Pillow writes the same PNG bytes for the same
pixels, so passes built from the same content stay byte-identical.
"""

from __future__ import annotations

import functools
import io
import math

from PIL import Image, ImageDraw

Color = tuple[int, int, int]

ICON_SIZES = {"icon.png": 29, "icon@2x.png": 58, "icon@3x.png": 87}
LOGO_SIZES = {"logo.png": (160, 50), "logo@2x.png": (320, 100), "logo@3x.png": (480, 150)}
_OVERSAMPLE = 4
_TREAD_BLOCKS = 16


def _mark(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float, color: tuple[int, ...],
          hole: tuple[int, ...]) -> None:
    """The tyre: tread blocks round a ring, the ring, the rim cut out of it, a hub in the rim."""
    half = math.pi / _TREAD_BLOCKS * 0.55  # each block spans a little over half of its slice of the rim
    for i in range(_TREAD_BLOCKS):
        angle = 2 * math.pi * i / _TREAD_BLOCKS
        corners = [(cx + math.cos(a) * r, cy + math.sin(a) * r)
                   for a, r in ((angle - half, radius * 0.8), (angle - half, radius),
                                (angle + half, radius), (angle + half, radius * 0.8))]
        draw.polygon(corners, fill=color)
    ring = radius * 0.86
    draw.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), fill=color)
    rim = radius * 0.52
    draw.ellipse((cx - rim, cy - rim, cx + rim, cy + rim), fill=hole)
    hub = radius * 0.2
    draw.ellipse((cx - hub, cy - hub, cx + hub, cy + hub), fill=color)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _icon(size: int, foreground: Color, background: Color) -> bytes:
    big = size * _OVERSAMPLE
    image = Image.new("RGB", (big, big), background)
    _mark(ImageDraw.Draw(image), big / 2, big / 2, big * 0.4, foreground, background)
    return _png(image.resize((size, size), Image.Resampling.LANCZOS))


def _logo(width: int, height: int, foreground: Color) -> bytes:
    w, h = width * _OVERSAMPLE, height * _OVERSAMPLE
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    solid, clear = (*foreground, 255), (0, 0, 0, 0)
    _mark(draw, h / 2, h / 2, h * 0.45, solid, clear)
    left = h * 1.12
    draw.rounded_rectangle((left, h * 0.26, w * 0.92, h * 0.46), radius=h * 0.1, fill=solid)
    draw.rounded_rectangle((left, h * 0.56, w * 0.7, h * 0.72), radius=h * 0.08, fill=(*foreground, 170))
    return _png(image.resize((width, height), Image.Resampling.LANCZOS))


@functools.lru_cache(maxsize=16)
def pass_images(foreground: Color, background: Color) -> dict[str, bytes]:
    """The six PNGs of a pass (``icon*.png``, ``logo*.png``) for these colours; cached per process."""
    images = {name: _icon(size, foreground, background) for name, size in ICON_SIZES.items()}
    images.update({name: _logo(w, h, foreground) for name, (w, h) in LOGO_SIZES.items()})
    return images

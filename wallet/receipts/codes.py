"""Every QR code and barcode in a receipt photo, found with zxing-cpp.

zxing-cpp already searches for codes at any angle (its finder patterns do not care about a
15-degree turn, and ``try_rotate`` covers quarter turns for linear codes), in inverted
colours and in downscaled copies. What it cannot undo by itself is a photo that is too
dark, too soft or too unevenly lit for its binariser, or a code too small in the frame.
So the photo is read in passes, each on a cleaned-up copy, and the first pass that finds
anything wins (later passes cost time and find the same codes):

1. ``original``: the photo as it is (in grey);
2. ``binarised``: lighting flattened, then an adaptive threshold (Otsu's is tried as well,
   for a photo that is evenly lit but grey);
3. ``upscaled``: twice the size, and 2.5 times evenly lit and sharpened, for small codes;
4. ``contrast``: lighting flattened and grey levels stretched, for low light;
5. ``deblurred``: for a code of under 3 pixels a module that the photo blurred (a Gaussian of
   about 1.6 pixels leaves such modules grey mush no binariser splits): the regions dense with
   ink and about square are cropped, each crop is deconvolved (a Wiener filter for a Gaussian
   blur of 1.8 pixels, in numpy) and read three times the size. Nothing in it runs unless the
   four passes before found nothing, and a photo without a code costs only the search of the
   regions and a read of the few crops that look like one.

Work is capped: a photo whose longer side exceeds ``max_side`` is shrunk first, and the
upscaled pass never goes beyond ``max_upscaled_side``. Positions are given in the pixels
of the image passed in, whatever pass found the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter

from wallet.receipts import enhance

MAX_SIDE = 2400
MAX_UPSCALED_SIDE = 4000

PASSES = ("original", "binarised", "upscaled", "contrast", "deblurred")

# The deblurred pass: each crop is deconvolved and read as these say, in turn: the blur undone
# (Gaussian sigma, pixels of the searched photo), the Wiener filter's noise-to-signal ratio (a
# smaller one sharpens more and lets more noise through) and zxing's binariser. A code this soft
# reads under some of them and not others, and which ones moves with a pixel of the crop, so
# there are several; measured on the photos bench/receipts.py missed (bench/README.md).
DEBLUR_READS = ((1.9, 0.005, zxingcpp.Binarizer.GlobalHistogram), (1.9, 0.005, zxingcpp.Binarizer.LocalAverage),
                (1.7, 0.01, zxingcpp.Binarizer.LocalAverage), (1.9, 0.002, zxingcpp.Binarizer.GlobalHistogram),
                (1.9, 0.002, zxingcpp.Binarizer.LocalAverage))
DEBLUR_FACTOR = 3
MAX_REGIONS = 3
_CELL = 4                # the region search works on cells of 4 x 4 pixels
_DENSE = 0.35            # a cell is dense when this share of it is ink


@dataclass(frozen=True)
class Position:
    """The four corners of a code, (x, y) in the pixels of the image that was searched."""

    top_left: tuple[int, int]
    top_right: tuple[int, int]
    bottom_right: tuple[int, int]
    bottom_left: tuple[int, int]


@dataclass(frozen=True)
class DecodedCode:
    """One code: its text (zxing's human-readable text, "HRI"), its format ("QRCode", "EAN13", ...), where it is."""

    text: str
    format: str
    position: Position


@dataclass(frozen=True)
class CodeScan:
    """What a search found: the codes (one per distinct text, in the order found), the pass that found
    them (None when none did) and the passes tried, in order."""

    codes: tuple[DecodedCode, ...]
    found_by: str | None
    passes_tried: tuple[str, ...]


# Each picture a pass reads: the image, its scale to the searched photo, where its top-left corner
# is in that photo (a crop's) and the options for zxingcpp.read_barcodes.
Pictures = list[tuple[Image.Image, float, tuple[int, int], dict[str, Any]]]
_ALL: dict[str, Any] = {}


def _cells(grey: Image.Image, ink: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Per cell of 4 x 4 pixels: its share of ink (0-1), and the range of grey (max - min) around it (3 x 3 cells)."""
    h, w = grey.height // _CELL * _CELL, grey.width // _CELL * _CELL
    a = np.asarray(grey, dtype=np.uint8)[:h, :w].reshape(h // _CELL, _CELL, w // _CELL, _CELL)
    share = (np.asarray(ink, dtype=np.uint8)[:h, :w] == 0).reshape(a.shape).mean(axis=(1, 3))
    top = Image.fromarray(a.max(axis=(1, 3)), "L").filter(ImageFilter.MaxFilter(3))
    bottom = Image.fromarray(a.min(axis=(1, 3)), "L").filter(ImageFilter.MinFilter(3))
    return share, np.asarray(top, dtype=np.int16) - np.asarray(bottom, dtype=np.int16)


def _code_regions(grey: Image.Image, ink: Image.Image, limit: int = MAX_REGIONS) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of the regions of ``grey`` that could hold a code, densest first.

    ``ink`` is black where the photo is darker than its neighbourhood. A QR code is a square
    about half ink, with the paper's white and the print's black side by side; text is lines
    with gaps between them, the table's edge a long band, a noisy table "ink" of little
    contrast. So the cells of 4 x 4 pixels that are a third ink or more, with a range of grey
    of a third of the photo's or more, are joined (a closing bridges a light module), and a
    joined region is kept when it is 10 cells (about 14 modules) across or more, no more than
    1.6 times as long as wide and fills half its box or more (a square turned by up to 45
    degrees does).
    """
    if min(grey.size) < 12 * _CELL:
        return []
    share, contrast = _cells(grey, ink)
    lo, hi = np.percentile(np.asarray(grey), [1, 99])
    dense = (share >= _DENSE) & (contrast >= max(24.0, (hi - lo) / 3))
    closed = (Image.fromarray(np.where(dense, 255, 0).astype(np.uint8), "L")
              .filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MinFilter(3)))
    mask = np.asarray(closed) == 255
    # Regions are taken from where dense cells are thickest on the ground (7 x 7 cells, a code's
    # inside is all dense, text has gaps between its lines), so that a code is among the first.
    thick = np.asarray(closed.filter(ImageFilter.BoxBlur(3)), dtype=np.float32)
    found: list[tuple[float, tuple[int, int, int, int]]] = []
    labels = closed.copy()
    for _ in range(2 * limit):
        free = np.asarray(labels) == 255
        if not free.any():
            break
        y, x = np.unravel_index(int(np.argmax(np.where(free, thick, -1.0))), free.shape)
        if thick[y, x] < 0.5 * 255:
            break
        ImageDraw.floodfill(labels, (int(x), int(y)), 128)
        region = np.asarray(labels) == 128
        labels.paste(64, mask=Image.fromarray(np.where(region, 255, 0).astype(np.uint8), "L"))
        rows, cols = np.nonzero(region & mask)
        top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        w, h = right - left, bottom - top
        if min(w, h) < 10 or max(w, h) > 1.6 * min(w, h) or rows.size < 0.5 * w * h:
            continue
        found.append((float(share[rows, cols].mean()),
                      (int(left) * _CELL, int(top) * _CELL, int(right) * _CELL, int(bottom) * _CELL)))
    found.sort(key=lambda item: -item[0])
    return [box for _, box in found[:limit]]


def _gaussian_transfer(shape: tuple[int, int], sigma: float) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    return np.exp(-2.0 * np.pi ** 2 * sigma ** 2 * (fx ** 2 + fy ** 2))


def deblur(grey: Image.Image, sigma: float, noise: float) -> Image.Image:
    """``grey`` with a Gaussian blur of ``sigma`` pixels undone by a Wiener filter, grey levels stretched.

    The picture is mirrored at its edges first, so the filter does not ring where the crop was cut.
    """
    pad = max(8, round(9 * sigma))
    a = np.pad(np.asarray(grey, dtype=np.float64), pad, mode="reflect")
    transfer = _gaussian_transfer(a.shape, sigma)
    mean = a.mean()
    sharp = np.fft.irfft2(np.fft.rfft2(a - mean) * transfer / (transfer ** 2 + noise), s=a.shape)[pad:-pad, pad:-pad]
    lo, hi = np.percentile(sharp, [1, 99])
    if hi - lo < 1e-6:
        return grey.copy()
    return Image.fromarray(np.clip((sharp - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8), "L")


def _variants(grey: Image.Image, max_upscaled_side: int) -> list[tuple[str, Callable[[], Pictures]]]:
    """The passes, each a name and a function making its images, each with its scale to ``grey`` and
    where its top-left corner is in ``grey`` (a crop's)."""

    @cache
    def flat() -> Image.Image:
        return enhance.flatten_light(grey)

    @cache
    def adaptive() -> Image.Image:
        return enhance.binarise_adaptive(flat(), radius=max(8, max(grey.size) // 80), offset=8)

    def original() -> Pictures:
        return [(grey, 1.0, (0, 0), _ALL)]

    def binarised() -> Pictures:
        return [(adaptive(), 1.0, (0, 0), _ALL), (enhance.binarise_otsu(flat()), 1.0, (0, 0), _ALL)]

    def upscaled() -> Pictures:
        factor = min(2.0, max_upscaled_side / max(grey.size))
        if factor < 1.25:
            return []
        bigger = enhance.upscale(grey, factor)
        # Upscaling alone leaves a soft code soft; an unsharp mask on a bigger, evenly lit copy
        # restores the module edges (a 2-3 pixel module blurred by 1-1.5 pixels reads only so).
        sharper_factor = min(2.5, max_upscaled_side / max(grey.size))
        sharper = enhance.upscale(flat(), sharper_factor)
        sharpened = sharper.filter(ImageFilter.UnsharpMask(radius=4, percent=200, threshold=0))
        return [(bigger, factor, (0, 0), _ALL), (sharpened, sharper_factor, (0, 0), _ALL)]

    def contrast() -> Pictures:
        return [(enhance.stretch_contrast(flat(), 2, 98), 1.0, (0, 0), _ALL)]

    def deblurred() -> Pictures:
        pictures: Pictures = []
        for left, top, right, bottom in _code_regions(grey, adaptive()):
            margin = max(right - left, bottom - top) // 6 + 8
            box = (max(0, left - margin), max(0, top - margin),
                   min(grey.width, right + margin), min(grey.height, bottom + margin))
            crop = grey.crop(box)
            factor = min(DEBLUR_FACTOR, max_upscaled_side / max(crop.size))
            sharp: dict[tuple[float, float], Image.Image] = {}
            for sigma, noise, binarizer in DEBLUR_READS:
                if (sigma, noise) not in sharp:
                    sharp[sigma, noise] = enhance.upscale(deblur(crop, sigma, noise), factor)
                pictures.append((sharp[sigma, noise], factor, (box[0], box[1]),
                                 {"binarizer": binarizer, "formats": zxingcpp.BarcodeFormat.QRCode}))
        return pictures

    return [("original", original), ("binarised", binarised), ("upscaled", upscaled), ("contrast", contrast),
            ("deblurred", deblurred)]


def _point(p: zxingcpp.Point, scale: float, offset: tuple[float, float], shrink: float) -> tuple[int, int]:
    return round((p.x / scale + offset[0]) / shrink), round((p.y / scale + offset[1]) / shrink)


def _decoded(barcode: zxingcpp.Barcode, scale: float, offset: tuple[int, int], shrink: float) -> DecodedCode:
    pos = barcode.position
    corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    return DecodedCode(
        text=barcode.text,
        format=barcode.format.name,
        position=Position(*(_point(p, scale, offset, shrink) for p in corners)),
    )


def find_codes(image: Image.Image, *, max_side: int = MAX_SIDE, max_upscaled_side: int = MAX_UPSCALED_SIDE,
               passes: tuple[str, ...] = PASSES) -> CodeScan:
    """Every QR code and barcode in ``image``, de-duplicated by text, and which pass found them.

    Returns a ``CodeScan``; its ``codes`` are empty when nothing was found. Never raises for
    a picture with no code; the picture is not changed.
    """
    grey, shrink = enhance.resize_to_fit(enhance.to_grey(image), max_side)
    tried: list[str] = []
    for name, make in _variants(grey, max_upscaled_side):
        if name not in passes:
            continue
        images = make()
        if not images:
            continue
        tried.append(name)
        found: dict[str, DecodedCode] = {}
        for picture, scale, offset, options in images:
            for barcode in zxingcpp.read_barcodes(picture, **options):
                if barcode.valid and barcode.text and barcode.text not in found:
                    found[barcode.text] = _decoded(barcode, scale, offset, shrink)
            if found:
                break
        if found:
            return CodeScan(tuple(found.values()), name, tuple(tried))
    return CodeScan((), None, tuple(tried))

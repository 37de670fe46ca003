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
4. ``contrast``: lighting flattened and grey levels stretched, for low light.

Work is capped: a photo whose longer side exceeds ``max_side`` is shrunk first, and the
upscaled pass never goes beyond ``max_upscaled_side``. Positions are given in the pixels
of the image passed in, whatever pass found the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageFilter

from wallet.receipts import enhance

MAX_SIDE = 2400
MAX_UPSCALED_SIDE = 4000

PASSES = ("original", "binarised", "upscaled", "contrast")


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


def _variants(grey: Image.Image, max_upscaled_side: int) -> list[tuple[str, Callable[[], list[tuple[Image.Image, float]]]]]:
    """The passes, each a name and a function making its images with their scale to ``grey``."""

    def original() -> list[tuple[Image.Image, float]]:
        return [(grey, 1.0)]

    def binarised() -> list[tuple[Image.Image, float]]:
        flat = enhance.flatten_light(grey)
        radius = max(8, max(grey.size) // 80)
        return [(enhance.binarise_adaptive(flat, radius=radius, offset=8), 1.0), (enhance.binarise_otsu(flat), 1.0)]

    def upscaled() -> list[tuple[Image.Image, float]]:
        factor = min(2.0, max_upscaled_side / max(grey.size))
        if factor < 1.25:
            return []
        bigger = enhance.upscale(grey, factor)
        # Upscaling alone leaves a soft code soft; an unsharp mask on a bigger, evenly lit copy
        # restores the module edges (a 2-3 pixel module blurred by 1-1.5 pixels reads only so).
        sharper_factor = min(2.5, max_upscaled_side / max(grey.size))
        sharper = enhance.upscale(enhance.flatten_light(grey), sharper_factor)
        return [(bigger, factor),
                (sharper.filter(ImageFilter.UnsharpMask(radius=4, percent=200, threshold=0)), sharper_factor)]

    def contrast() -> list[tuple[Image.Image, float]]:
        return [(enhance.stretch_contrast(enhance.flatten_light(grey), 2, 98), 1.0)]

    return [("original", original), ("binarised", binarised), ("upscaled", upscaled), ("contrast", contrast)]


def _point(p: zxingcpp.Point, scale: float) -> tuple[int, int]:
    return round(p.x / scale), round(p.y / scale)


def _decoded(barcode: zxingcpp.Barcode, scale: float) -> DecodedCode:
    pos = barcode.position
    return DecodedCode(
        text=barcode.text,
        format=barcode.format.name,
        position=Position(_point(pos.top_left, scale), _point(pos.top_right, scale),
                          _point(pos.bottom_right, scale), _point(pos.bottom_left, scale)),
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
        for picture, scale in images:
            for barcode in zxingcpp.read_barcodes(picture):
                if barcode.valid and barcode.text and barcode.text not in found:
                    found[barcode.text] = _decoded(barcode, scale * shrink)
            if found:
                break
        if found:
            return CodeScan(tuple(found.values()), name, tuple(tried))
    return CodeScan((), None, tuple(tried))

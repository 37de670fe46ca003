"""What a receipt photo says about itself (EXIF, XMP) before it is stripped, and the two weak fraud
signals read from it: edited in a photo editor, or a screenshot rather than a photo.

Neither signal refuses a photo: a reviewer weighs them (``images.intake`` carries both).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from PIL import Image

# Software names (EXIF Software, XMP CreatorTool) of photo editors. Lower case, matched as substrings.
EDITORS = (
    "photoshop", "lightroom", "adobe", "gimp", "snapseed", "picsart", "canva", "pixelmator", "affinity",
    "paint.net", "facetune", "vsco", "photopea", "picmonkey", "fotor", "inshot", "polarr", "airbrush",
    "meitu", "photodirector", "photoroom", "remini", "krita", "luminar", "capture one", "darktable",
    "photo editor", "photoeditor",
)

# Exact screen sizes (portrait; landscape is checked too) of common phones, tablets and desktops.
# A camera photo is almost never exactly one of these; a screenshot always is.
SCREEN_SIZES = frozenset({
    # iPhone
    (640, 1136), (750, 1334), (1242, 2208), (1125, 2436), (828, 1792), (1242, 2688), (1080, 2340),
    (1170, 2532), (1284, 2778), (1179, 2556), (1290, 2796), (1206, 2622), (1320, 2868),
    # Android
    (720, 1280), (720, 1520), (720, 1600), (1080, 1920), (1080, 2160), (1080, 2220), (1080, 2280),
    (1080, 2340), (1080, 2400), (1080, 2408), (1080, 2412), (1440, 2560), (1440, 2960), (1440, 3040),
    (1440, 3088), (1440, 3120), (1440, 3200), (1220, 2712), (1260, 2800), (1240, 2772),
    # tablets
    (1536, 2048), (1620, 2160), (1640, 2360), (1668, 2224), (1668, 2388), (2048, 2732), (1600, 2560),
    (1200, 1920), (800, 1280),
    # desktops
    (768, 1366), (900, 1440), (1080, 1920), (1200, 1920), (1440, 2560), (1600, 2560), (1800, 2880),
    (800, 1280), (1050, 1680), (2160, 3840),
})

_TAG_MAKE, _TAG_MODEL, _TAG_ORIENTATION, _TAG_SOFTWARE, _TAG_DATETIME = 0x010F, 0x0110, 0x0112, 0x0131, 0x0132
_IFD_EXIF, _IFD_GPS = 0x8769, 0x8825
_TAG_DATETIME_ORIGINAL, _TAG_USER_COMMENT = 0x9003, 0x9286
_TEXT_LIMIT = 200


@dataclass(frozen=True)
class PhotoMetadata:
    """What the original file said about itself, read before everything is stripped.

    ``taken_at`` is the camera's local clock (EXIF has no time zone): DateTimeOriginal, else
    DateTime. ``orientation`` is the EXIF value 1-8 (1 when absent). ``has_gps`` says a GPS
    position was present; the position itself is never kept.
    """

    software: str | None = None
    taken_at: dt.datetime | None = None
    make: str | None = None
    model: str | None = None
    orientation: int = 1
    has_gps: bool = False
    creator_tool: str | None = None
    says_screenshot: bool = False


@dataclass(frozen=True)
class Signal:
    """A weak fraud signal: ``flagged`` with the ``reason`` a reviewer reads, or not flagged (reason None)."""

    flagged: bool
    reason: str | None = None


def _exif_text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()[:_TEXT_LIMIT]
    return text or None


def _exif_time(value: object) -> dt.datetime | None:
    text = _exif_text(value)
    if not text:
        return None
    try:
        return dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


_CREATOR_TOOL = re.compile(rb"CreatorTool(?:=\"|>)([^\"<]{1,200})")


def read_metadata(im: Image.Image) -> PhotoMetadata:
    """What EXIF (and XMP, PNG text) say about the photo. A damaged EXIF block reads as no metadata."""
    try:
        exif = im.getexif()
        exif_ifd = exif.get_ifd(_IFD_EXIF)
        has_gps = bool(exif.get_ifd(_IFD_GPS))
    except Exception:  # noqa: BLE001 - EXIF is untrusted input; a broken block is only metadata we drop
        exif, exif_ifd, has_gps = Image.Exif(), {}, False
    orientation = im.info.get("original_orientation") or exif.get(_TAG_ORIENTATION) or 1
    software = _exif_text(exif.get(_TAG_SOFTWARE)) or _exif_text(im.info.get("Software"))
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8", "replace")
    match = _CREATOR_TOOL.search(xmp[:65536])
    creator = _exif_text(match.group(1)) if match else None
    comment = _exif_text(exif_ifd.get(_TAG_USER_COMMENT)) or ""
    says_screenshot = "screenshot" in comment.lower() or b"screenshot" in xmp[:65536].lower()
    return PhotoMetadata(
        software=software,
        taken_at=_exif_time(exif_ifd.get(_TAG_DATETIME_ORIGINAL)) or _exif_time(exif.get(_TAG_DATETIME)),
        make=_exif_text(exif.get(_TAG_MAKE)),
        model=_exif_text(exif.get(_TAG_MODEL)),
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1,
        has_gps=has_gps,
        creator_tool=creator,
        says_screenshot=says_screenshot,
    )


def check_edited(metadata: PhotoMetadata) -> Signal:
    """Flagged when the Software (or XMP CreatorTool) names a photo editor. A weak signal: it can be stripped."""
    for name, value in (("Software", metadata.software), ("CreatorTool", metadata.creator_tool)):
        if value and any(editor in value.lower() for editor in EDITORS):
            return Signal(True, f"{name} names an editor: {value}")
    return Signal(False)


def check_screenshot(metadata: PhotoMetadata, width: int, height: int) -> Signal:
    """Flagged, with the first reason that holds, when the picture looks like a screenshot, not a camera photo.

    In order: the metadata says screenshot; the size is exactly a common screen's. A photo with
    no camera Make/Model is not flagged: many phone apps strip EXIF before they upload, and
    sending every such receipt to a person would send most of them.
    """
    for value in (metadata.software, metadata.creator_tool):
        if value and "screenshot" in value.lower():
            return Signal(True, f"Software says screenshot: {value}")
    if metadata.says_screenshot:
        return Signal(True, "the metadata says screenshot")
    if (min(width, height), max(width, height)) in SCREEN_SIZES:
        return Signal(True, f"exactly a screen's size: {width}x{height}")
    return Signal(False)


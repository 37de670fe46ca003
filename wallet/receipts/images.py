"""Intake of an uploaded receipt photo: what it really is, whether it is safe to decode, and a clean copy.

The type is read from the bytes (magic numbers), never from the client's content type or
file name: those are only compared with the bytes, and a claim that disagrees is refused.
Accepted are JPEG, PNG, WebP and HEIC/HEIF (through pillow-heif, which bundles libheif).

What always holds for a photo that ``intake`` returns:
- it was at most ``max_bytes`` long and at most ``max_pixels`` pixels, and the pixel count
  was checked from the header, before a single pixel was decoded, so a 50-megapixel file or
  a decompression bomb costs a header read, not the memory to inflate it;
- it decoded completely (a truncated or corrupt file is ``UnreadableImage``, never a
  half-grey picture);
- ``stored`` is a fresh encoding of the pixels alone, with the EXIF orientation applied:
  no EXIF (so no GPS position, camera serial or time), no XMP, no ICC profile (the pixels
  are converted to sRGB first), no text chunks. It is what the file store keeps.

What it reads before stripping is a small ``PhotoMetadata`` (software, time taken, camera,
orientation, whether a GPS position was present) and two weak fraud signals,
``looks_edited`` and ``looks_like_screenshot``, each with its reason. Neither refuses a
photo: a reviewer weighs them.

For near-duplicates it returns the SHA-256 of the original bytes (the exact same upload)
and a perceptual hash of the pixels; ``similar`` compares two of the latter.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass, field

from PIL import Image, ImageCms, ImageOps

from wallet.receipts.errors import ImageTooLarge, UnreadableImage, UnsupportedImage
from wallet.receipts.photo_metadata import PhotoMetadata, Signal, check_edited, check_screenshot, read_metadata

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000

# Hamming distance, out of the 64 bits of a pHash, at or below which two photos are "similar".
# Measured on the test corpus (12 receipts): the same picture re-encoded at JPEG quality 40 or
# halved in size stays within 0-2 bits; two different receipts of one shop's layout come as
# close as 6 bits (8-24 usually); the same receipt photographed twice on a table is 28-40 bits
# apart. So 4 catches a picture uploaded again, and nothing more: a weak signal.
SIMILAR_MAX_DISTANCE = 4

SUPPORTED = ("jpeg", "png", "webp", "heic", "heif")
_PIL_FORMATS = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "webp": ["WEBP"], "heic": ["HEIF"], "heif": ["HEIF"]}

# What a client may claim, by file extension or content type, mapped to the type it names.
_CLAIMS = {
    "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "image/jpeg": "jpeg", "image/jpg": "jpeg",
    "image/pjpeg": "jpeg",
    "png": "png", "image/png": "png",
    "webp": "webp", "image/webp": "webp",
    "heic": "heic", "heics": "heic", "image/heic": "heic", "image/heic-sequence": "heic",
    "heif": "heif", "heifs": "heif", "hif": "heif", "image/heif": "heif", "image/heif-sequence": "heif",
    "gif": "gif", "image/gif": "gif",
    "svg": "svg", "image/svg+xml": "svg",
    "pdf": "pdf", "application/pdf": "pdf",
    "bmp": "bmp", "image/bmp": "bmp",
    "tif": "tiff", "tiff": "tiff", "image/tiff": "tiff",
    "avif": "avif", "image/avif": "avif",
}
_HEIF_FAMILY = {"heic", "heif"}

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


@dataclass(frozen=True)
class Photo:
    """An accepted photo: its identity, what it said, the signals, and the clean copy to store.

    ``image`` is the decoded RGB picture (orientation applied), the same pixels as ``stored``
    before encoding, for the code finder and the OCR of the same request or job.
    """

    kind: str
    width: int
    height: int
    sha256: str
    perceptual_hash: str
    metadata: PhotoMetadata
    looks_edited: Signal
    looks_like_screenshot: Signal
    stored_media_type: str
    stored: bytes = field(repr=False)
    image: Image.Image = field(repr=False, compare=False)


def sniff(data: bytes) -> str:
    """The type the bytes really are, from their magic numbers.

    One of ``SUPPORTED`` ("jpeg", "png", "webp", "heic", "heif") or another name ("gif", "pdf",
    "svg", "bmp", "tiff", "avif", "zip", "unknown", ...) for what is refused.
    """
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return _iso_brand(data)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"BM"):
        return "bmp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and b"<svg" in text:
        return "svg"
    if text.startswith((b"<?xml", b"<!doctype", b"<html")):
        return "xml"
    return "unknown"


def _iso_brand(data: bytes) -> str:
    """HEIC, HEIF or AVIF (or "unknown") from an ISO base media ``ftyp`` box."""
    size = int.from_bytes(data[0:4], "big")
    major = data[8:12]
    brands = {major} | {data[i:i + 4] for i in range(16, min(size, 64, len(data)) - 3, 4)}
    if major in _AVIF_BRANDS or (major not in _HEIC_BRANDS and brands & _AVIF_BRANDS and not brands & _HEIC_BRANDS):
        return "avif"
    if major in _HEIC_BRANDS or brands & _HEIC_BRANDS:
        return "heic"
    if major in _HEIF_BRANDS or brands & _HEIF_BRANDS:
        return "heif"
    return "unknown"


def claimed_type(*, filename: str | None = None, content_type: str | None = None) -> str | None:
    """The type the client named (by content type, else file extension), or None when it named none we know.

    ``application/octet-stream``, an empty value or an unknown extension is no claim.
    """
    if content_type:
        claim = _CLAIMS.get(content_type.split(";")[0].strip().lower())
        if claim:
            return claim
    if filename and "." in filename:
        return _CLAIMS.get(filename.rsplit(".", 1)[1].strip().lower())
    return None


_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow to open HEIC/HEIF, once per process, on first need (pillow-heif loads libheif)."""
    global _heif_registered
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True


def _check_size(data: bytes, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the photo is {len(data) / 1_048_576:.1f} MB; at most {max_bytes / 1_048_576:.0f} MB",
                            reason="too_many_bytes")
    if not data:
        raise UnreadableImage("the file is empty", reason="empty")


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Refuse more than ``max_pixels``; four times that or more is called what it is, a decompression bomb."""
    if width * height >= 4 * max_pixels:
        raise ImageTooLarge(f"the photo claims {width}x{height} pixels, far too many", reason="decompression_bomb")
    if width * height > max_pixels:
        raise ImageTooLarge(f"the photo is {width}x{height} ({width * height / 1e6:.1f} megapixels); "
                            f"at most {max_pixels / 1e6:.0f} megapixels", reason="too_many_pixels")


def open_header(data: bytes, kind: str, max_pixels: int) -> Image.Image:
    """Open the photo reading its header only and check the pixel count: what a request can afford
    before answering. Raises ``ImageTooLarge`` and ``UnreadableImage``; decodes no pixel."""
    if kind == "png" and len(data) >= 24 and data[12:16] == b"IHDR":
        # PNG's size sits at a fixed place: refuse a huge one even when nothing follows its header.
        _check_pixels(int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), max_pixels)
    if kind in _HEIF_FAMILY:
        _register_heif()
    try:
        im = Image.open(io.BytesIO(data), formats=_PIL_FORMATS[kind])
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("the photo has far too many pixels", reason="decompression_bomb") from exc
    except ValueError as exc:  # Pillow's chunk limits: a text or ICC chunk that inflates past MAX_TEXT_CHUNK
        if "too large" in str(exc).lower():
            raise ImageTooLarge("the photo carries data that inflates far beyond its size",
                                reason="decompression_bomb") from exc
        raise UnreadableImage(reason="corrupt") from exc
    except (OSError, SyntaxError, EOFError, IndexError, KeyError, TypeError) as exc:
        raise UnreadableImage(reason="corrupt") from exc
    width, height = im.size
    if width <= 0 or height <= 0:
        raise UnreadableImage(reason="corrupt")
    _check_pixels(width, height, max_pixels)
    return im


def _open(data: bytes, kind: str, max_pixels: int) -> Image.Image:
    """Open (header only) and check the pixel count, then decode fully. Raises the intake errors."""
    im = open_header(data, kind, max_pixels)
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge("the photo has far too many pixels", reason="decompression_bomb") from exc
    except ValueError as exc:
        if "too large" in str(exc).lower():
            raise ImageTooLarge("the photo carries data that inflates far beyond its size",
                                reason="decompression_bomb") from exc
        raise UnreadableImage(reason="corrupt") from exc
    except (OSError, SyntaxError, EOFError, IndexError, KeyError, TypeError) as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else "corrupt"
        raise UnreadableImage(reason=reason) from exc
    return im


def _to_srgb(im: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: alpha composited on white, an embedded ICC profile converted away."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(white, rgba).convert("RGB")
    elif im.mode in ("I;16", "I;16B", "I;16L", "I"):
        rgb = im.convert("I").point(lambda v: v * (1 / 256)).convert("L").convert("RGB")
    else:
        rgb = im.convert("RGB")
    icc = im.info.get("icc_profile")
    if icc and im.mode in ("RGB", "RGBA", "P"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            rgb = ImageCms.profileToProfile(rgb, source, ImageCms.createProfile("sRGB"), outputMode="RGB") or rgb
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    return rgb



def check_type(data: bytes, *, filename: str | None = None, content_type: str | None = None,
               max_bytes: int = MAX_BYTES) -> str:
    """The photo's real type, if it is one we take and what the client called it. Raises
    ``ImageTooLarge`` (bytes), ``UnsupportedImage`` (another type, or a claim that disagrees) and
    ``UnreadableImage`` (empty)."""
    _check_size(data, max_bytes)
    kind = sniff(data)
    claim = claimed_type(filename=filename, content_type=content_type)
    if kind not in SUPPORTED:
        raise UnsupportedImage(kind, claimed=claim)
    if claim and claim != kind and not (claim in _HEIF_FAMILY and kind in _HEIF_FAMILY):
        raise UnsupportedImage(kind, f"the file is {kind} but was sent as {claim}", claimed=claim,
                               reason="type_mismatch")
    return kind


def decode(data: bytes, *, filename: str | None = None, content_type: str | None = None,
           max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> tuple[str, Image.Image, PhotoMetadata]:
    """The real type, the decoded RGB (sRGB) picture with its orientation applied, and its metadata.

    Raises ``ImageTooLarge`` (bytes, pixels, bomb), ``UnsupportedImage`` (another type, or a claim
    that disagrees with the bytes) or ``UnreadableImage`` (truncated, corrupt, empty).
    """
    kind = check_type(data, filename=filename, content_type=content_type, max_bytes=max_bytes)
    im = _open(data, kind, max_pixels)
    metadata = read_metadata(im)
    try:
        oriented = ImageOps.exif_transpose(im) if kind not in _HEIF_FAMILY else im  # libheif already rotated
    except Exception:  # noqa: BLE001 - a broken orientation tag: keep the pixels as stored
        oriented = im
    return kind, _to_srgb(oriented or im), metadata


def _clean_copy(rgb: Image.Image) -> Image.Image:
    """A new image made from the pixels alone, so that nothing of the original's ``info`` can travel."""
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _encode(clean: Image.Image, kind: str) -> tuple[bytes, str]:
    out = io.BytesIO()
    if kind == "png":  # screenshots and scans stay lossless
        clean.save(out, "PNG", optimize=False)
        return out.getvalue(), "image/png"
    clean.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue(), "image/jpeg"


def perceptual_hash(image: Image.Image) -> str:
    """The 64-bit DCT perceptual hash (imagehash.phash) of the picture, as 16 hex digits."""
    import imagehash  # numpy and scipy with it: loaded by the worker that reads photos, not the web process

    return str(imagehash.phash(image))


def similar(hash_a: str, hash_b: str, *, max_distance: int = SIMILAR_MAX_DISTANCE) -> bool:
    """Whether two perceptual hashes are near-duplicates (Hamming distance <= ``max_distance``).

    A weak signal: it finds the same picture uploaded again (re-encoded, resized, cropped a
    little), not the same receipt photographed anew.
    """
    import imagehash

    return (imagehash.hex_to_hash(hash_a) - imagehash.hex_to_hash(hash_b)) <= max_distance


def intake(data: bytes, *, filename: str | None = None, content_type: str | None = None,
           max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Photo:
    """Check, decode, read and strip an uploaded photo. ``filename``/``content_type`` are the client's
    claims: never trusted to accept, only compared with the bytes.

    Returns a ``Photo``. Raises ``ImageTooLarge``, ``UnsupportedImage`` or ``UnreadableImage``.
    """
    kind, rgb, metadata = decode(data, filename=filename, content_type=content_type,
                                 max_bytes=max_bytes, max_pixels=max_pixels)
    clean = _clean_copy(rgb)
    stored, media_type = _encode(clean, kind)
    width, height = clean.size
    return Photo(
        kind=kind,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        perceptual_hash=perceptual_hash(clean),
        metadata=metadata,
        looks_edited=check_edited(metadata),
        looks_like_screenshot=check_screenshot(metadata, width, height),
        stored_media_type=media_type,
        stored=stored,
        image=clean,
    )


__all__ = [
    "MAX_BYTES", "MAX_PIXELS", "SIMILAR_MAX_DISTANCE", "SUPPORTED", "Photo", "PhotoMetadata", "Signal",
    "check_edited", "check_screenshot", "check_type", "claimed_type", "decode", "open_header", "intake", "perceptual_hash", "read_metadata",
    "similar", "sniff",
]

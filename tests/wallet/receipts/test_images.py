"""Photo intake: the type comes from the bytes, bad files are refused for the right reason, and the
stored copy carries no metadata."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from tests.wallet.receipts import corpus
from wallet.receipts import images
from wallet.receipts.errors import ImageTooLarge, UnreadableImage, UnsupportedImage

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Adobe Photoshop 25.1"/>'
       b'</rdf:RDF></x:xmpmeta>')
RED = (220, 20, 20)


def marked(width: int = 120, height: int = 80) -> Image.Image:
    """A white picture with a red square in its top-left corner, to see where orientation puts it."""
    im = Image.new("RGB", (width, height), "white")
    im.paste(RED, (0, 0, 20, 20))
    return im


def camera_exif(*, orientation: int = 1, software: str = "17.1") -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x0131] = software
    exif[0x0132] = "2026:11:23 14:06:00"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2026:11:23 14:05:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (24.0, 42.0, 36.0), "E", (46.0, 40.0, 12.0)
    return exif


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_by_hand(width: int, height: int, *, idat: bytes | None, depth: int = 8, colour: int = 2,
                extra: bytes = b"") -> bytes:
    """A PNG from its chunks: IHDR of the given size, optional extra chunks, then IDAT and IEND if given."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    body = b"" if idat is None else png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + header + extra + body


def assert_no_metadata(stored: bytes) -> None:
    """The stored copy carries no EXIF, XMP, GPS, ICC profile or text: only pixels."""
    assert b"Exif\x00\x00" not in stored
    assert b"http://ns.adobe.com/xap/1.0/" not in stored and b"xmpmeta" not in stored
    assert b"iPhone" not in stored and b"Apple" not in stored and b"Photoshop" not in stored
    reopened = Image.open(io.BytesIO(stored))
    assert dict(reopened.getexif()) == {}
    assert not reopened.getexif().get_ifd(0x8825)
    assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp", "Software"} & set(reopened.info)


# ---- refused -------------------------------------------------------------------------------------

def _gif() -> bytes:
    return encode(marked(), "GIF")


def _truncated_jpeg() -> bytes:
    whole = encode(corpus.qr_image("a receipt", 4), "JPEG", quality=90)
    return whole[: len(whole) // 2]


def _fifty_megapixel_png_header() -> bytes:
    # 10,000 x 5,000 pixels, and garbage where the pixels should be: decoding would fail, so
    # ImageTooLarge (not UnreadableImage) shows the size was refused from the header.
    return png_by_hand(10_000, 5_000, idat=b"\x00garbage, never decoded")


def _fifty_megapixel_png_header_alone() -> bytes:
    return png_by_hand(10_000, 5_000, idat=None)


def _decompression_bomb() -> bytes:
    # 15,000 x 15,000 one-bit pixels (225 megapixels, 28 MB once inflated) in about 27 kB.
    row = b"\x00" * (15_000 // 8 + 1)
    return png_by_hand(15_000, 15_000, idat=zlib.compress(row * 15_000, 9), depth=1, colour=0)


def _text_chunk_bomb() -> bytes:
    # A 10 x 10 picture whose comment inflates from 48 kB to 50 MB.
    comment = png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"A" * 50_000_000, 9))
    return png_by_hand(10, 10, idat=zlib.compress(b"\x00" * 31 * 10), extra=comment)


@pytest.mark.parametrize(("make", "error", "reason", "detected"), [
    pytest.param(_gif, UnsupportedImage, "unsupported_type", "gif", id="GIF"),
    pytest.param(lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
                 UnsupportedImage, "unsupported_type", "svg", id="SVG"),
    pytest.param(lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n", UnsupportedImage, "unsupported_type",
                 "pdf", id="PDF"),
    pytest.param(lambda: encode(marked(), "BMP"), UnsupportedImage, "unsupported_type", "bmp", id="BMP"),
    pytest.param(lambda: encode(marked(), "TIFF"), UnsupportedImage, "unsupported_type", "tiff", id="TIFF"),
    pytest.param(lambda: b"PK\x03\x04 a zip of photos", UnsupportedImage, "unsupported_type", "zip", id="ZIP"),
    pytest.param(lambda: b"just some text", UnsupportedImage, "unsupported_type", "unknown", id="text"),
    pytest.param(_truncated_jpeg, UnreadableImage, "truncated", None, id="truncated JPEG"),
    pytest.param(lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 40, UnreadableImage, "corrupt", None, id="corrupt JPEG"),
    pytest.param(lambda: b"", UnreadableImage, "empty", None, id="empty file"),
    pytest.param(_fifty_megapixel_png_header, ImageTooLarge, "too_many_pixels", None, id="50-megapixel PNG header"),
    pytest.param(_fifty_megapixel_png_header_alone, ImageTooLarge, "too_many_pixels", None,
                 id="50-megapixel PNG, header and nothing else"),
    pytest.param(_decompression_bomb, ImageTooLarge, "decompression_bomb", None, id="decompression bomb"),
    pytest.param(_text_chunk_bomb, ImageTooLarge, "decompression_bomb", None, id="text chunk bomb"),
    pytest.param(lambda: b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), ImageTooLarge, "too_many_bytes", None,
                 id="over 10 MB"),
])
def test_a_bad_upload_is_refused_with_its_reason(make, error, reason, detected) -> None:
    with pytest.raises(error) as caught:
        images.intake(make())
    assert caught.value.reason == reason
    assert caught.value.message
    if detected:
        assert caught.value.detected == detected
        assert detected in caught.value.message


def test_a_png_sent_as_a_jpeg_is_refused_naming_what_it_really_is() -> None:
    data = encode(marked(), "PNG")
    with pytest.raises(UnsupportedImage) as caught:
        images.intake(data, filename="receipt.jpg")
    assert (caught.value.detected, caught.value.claimed, caught.value.reason) == ("png", "jpeg", "type_mismatch")
    with pytest.raises(UnsupportedImage):
        images.intake(data, content_type="image/jpeg")


def test_the_clients_content_type_never_makes_a_file_acceptable() -> None:
    with pytest.raises(UnsupportedImage) as caught:
        images.intake(_gif(), filename="receipt.jpg", content_type="image/jpeg")
    assert caught.value.detected == "gif"


def test_an_upload_that_names_no_known_type_is_judged_by_its_bytes_alone() -> None:
    photo = images.intake(encode(marked(), "PNG"), filename="upload.bin", content_type="application/octet-stream")
    assert photo.kind == "png"


def test_a_smaller_pixel_limit_is_honoured() -> None:
    with pytest.raises(ImageTooLarge):
        images.intake(encode(marked(300, 300), "PNG"), max_pixels=50_000)


# ---- accepted and stripped ------------------------------------------------------------------------

def test_a_camera_jpeg_is_read_turned_upright_and_stored_without_its_metadata() -> None:
    original = encode(marked(120, 80), "JPEG", quality=95, exif=camera_exif(orientation=6), xmp=XMP)
    assert b"Exif" in original and b"xmpmeta" in original  # the test's own premise

    photo = images.intake(original, filename="IMG_0001.JPG", content_type="image/jpeg")

    assert photo.kind == "jpeg"
    assert photo.metadata == images.PhotoMetadata(
        software="17.1", taken_at=dt.datetime(2026, 11, 23, 14, 5), make="Apple", model="iPhone 15 Pro",
        orientation=6, has_gps=True, creator_tool="Adobe Photoshop 25.1", says_screenshot=False)
    # orientation 6: the camera was turned a quarter clockwise; upright, the red corner is top right
    assert (photo.width, photo.height) == (80, 120)
    stored = Image.open(io.BytesIO(photo.stored)).convert("RGB")
    assert stored.size == (80, 120) and photo.stored_media_type == "image/jpeg"
    r, g, b = stored.getpixel((75, 5))
    assert r > 180 and g < 80 and b < 80
    assert stored.getpixel((5, 5)) > (230, 230, 230)
    assert_no_metadata(photo.stored)
    assert photo.sha256 == hashlib.sha256(original).hexdigest()


def test_the_gps_position_of_the_original_is_gone_from_the_stored_copy() -> None:
    original = encode(marked(), "JPEG", exif=camera_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)[2] == (24.0, 42.0, 36.0)

    photo = images.intake(original)

    assert photo.metadata.has_gps
    assert not Image.open(io.BytesIO(photo.stored)).getexif().get_ifd(0x8825)
    assert struct.pack(">I", 24) not in photo.stored[:200]  # no GPS IFD rational at the head of the file


def test_a_webp_with_exif_and_xmp_is_stored_as_a_clean_jpeg() -> None:
    original = encode(marked(), "WEBP", exif=camera_exif().tobytes(), xmp=XMP)
    photo = images.intake(original, content_type="image/webp")
    assert photo.kind == "webp" and photo.metadata.make == "Apple" and photo.metadata.has_gps
    assert_no_metadata(photo.stored)


def test_a_heic_photo_is_accepted_upright_and_stored_without_its_metadata() -> None:
    pytest.importorskip("pillow_heif")
    images._register_heif()
    original = encode(marked(120, 80), "HEIF", exif=camera_exif(orientation=6).tobytes(), quality=90)
    assert images.sniff(original) == "heic"

    photo = images.intake(original, filename="IMG_0002.HEIC")

    assert photo.kind == "heic" and (photo.width, photo.height) == (80, 120)
    assert photo.metadata.make == "Apple" and photo.metadata.has_gps and photo.metadata.orientation == 6
    assert_no_metadata(photo.stored)


def test_a_png_keeps_its_pixels_losslessly_and_loses_its_text_chunks() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Screenshot")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    im = marked()
    photo = images.intake(encode(im, "PNG", pnginfo=info))
    assert photo.stored_media_type == "image/png"
    assert Image.open(io.BytesIO(photo.stored)).convert("RGB").tobytes() == im.tobytes()
    assert_no_metadata(photo.stored)


def test_a_transparent_png_is_put_on_white() -> None:
    im = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    photo = images.intake(encode(im, "PNG"))
    assert Image.open(io.BytesIO(photo.stored)).convert("RGB").getpixel((5, 5)) == (255, 255, 255)


# ---- signals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("software", "flagged"), [
    ("Adobe Photoshop 25.1 (Macintosh)", True),
    ("GIMP 2.10.36", True),
    ("Snapseed 2.0", True),
    ("PicsArt", True),
    ("Canva", True),
    ("Lightroom Mobile", True),
    ("17.1", False),
    ("HDR+ 1.0.641377693zd", False),
    ("G998BXXU7EWCH", False),
])
def test_an_editor_named_in_software_flags_the_photo_as_edited(software, flagged) -> None:
    photo = images.intake(encode(marked(), "JPEG", exif=camera_exif(software=software)))
    assert photo.looks_edited.flagged is flagged
    if flagged:
        assert software in photo.looks_edited.reason
    else:
        assert photo.looks_edited.reason is None


def test_a_camera_photo_does_not_look_like_a_screenshot() -> None:
    photo = images.intake(encode(marked(4032 // 10, 3024 // 10), "JPEG", exif=camera_exif()))
    assert photo.looks_like_screenshot == images.Signal(False)


@pytest.mark.parametrize(("width", "height", "exif", "pnginfo", "reason"), [
    (1170, 2532, None, {"Software": "Screenshot"}, "Software says screenshot: Screenshot"),
    (1170, 2532, None, None, "exactly a screen's size: 1170x2532"),
    (2400, 1080, None, None, "exactly a screen's size: 2400x1080"),
])
def test_a_screenshot_is_flagged_with_the_reason(width, height, exif, pnginfo, reason) -> None:
    info = None
    if pnginfo:
        info = PngImagePlugin.PngInfo()
        for key, value in pnginfo.items():
            info.add_text(key, value)
    photo = images.intake(encode(Image.new("RGB", (width, height), "white"), "PNG", pnginfo=info))
    assert photo.looks_like_screenshot == images.Signal(True, reason)


def test_a_photo_whose_exif_an_app_stripped_is_not_taken_for_a_screenshot() -> None:
    photo = images.intake(encode(Image.new("RGB", (1000, 1500), "white"), "PNG"))
    assert photo.looks_like_screenshot == images.Signal(False)


# ---- duplicates -------------------------------------------------------------------------------------

def test_the_same_receipt_re_encoded_and_resized_is_similar_and_another_receipt_is_not(fonts) -> None:
    first = corpus.render(corpus.sample(1, language="en"))
    other = corpus.render(corpus.sample(2, language="pl"))
    a = images.intake(encode(first, "PNG"))
    again = images.intake(encode(first.resize((first.width // 2, first.height // 2)), "JPEG", quality=40))
    b = images.intake(encode(other, "PNG"))

    assert a.sha256 != again.sha256
    assert images.similar(a.perceptual_hash, again.perceptual_hash)
    assert not images.similar(a.perceptual_hash, b.perceptual_hash)
    assert len(a.perceptual_hash) == 16


@pytest.mark.parametrize(("data", "kind"), [
    (b"\xff\xd8\xff\xe1....", "jpeg"),
    (b"\x89PNG\r\n\x1a\n....", "png"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),
    (b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1", "heif"),
    (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
    (b"GIF89a....", "gif"),
    (b"%PDF-1.4", "pdf"),
    (b"\xef\xbb\xbf  <svg width='1'/>", "svg"),
])
def test_the_type_is_read_from_the_magic_numbers(data, kind) -> None:
    assert images.sniff(data) == kind

"""Text recognition of receipt photos with Tesseract, in-process through tesserocr.

tesserocr's manylinux wheel bundles libtesseract (5.5) and leptonica, so no system library
is needed; the language data is not bundled. It comes from Debian's ``tesseract-ocr-eng``,
``tesseract-ocr-ara`` and ``tesseract-ocr-pol`` (tessdata "fast" models) and is looked for
under ``/usr/share/tesseract-ocr/*/tessdata`` unless a directory is passed.

A ``PyTessBaseAPI`` is not thread-safe and loading a model costs about 0.1-0.5 s, so each
thread keeps its own, built on first use for a (tessdata, languages) pair and reused. It
releases the GIL while it recognises, so threads really run in parallel.

Before recognition the photo is prepared (``prepare``): turned so the text lines are level
(a quarter turn included), cropped to the paper, its lighting flattened, and scaled so the
receipt is about ``PAPER_WIDTH`` pixels wide (receipts have 32-48 characters a line, so
that puts characters near the height Tesseract reads best). A page read upside down
scores poorly, so a low-confidence page is read again turned half-way round and the
better reading kept.

The page is read as one block of text (page segmentation mode 6, the best of the modes on
receipts here). Tesseract's layout now and then drops a whole line, a bold total most often,
so every band of ink as tall as a text line that no line read covers is read again on its
own as a single line.

Arabic receipts: the Arabic model misreads Latin digits set next to Arabic words
("751.00 ر.س" comes out as "0 ر.س"). When Arabic is asked for and English is installed,
the page is read twice, and on each line the Arabic words of the Arabic reading are kept
while its numbers are taken from the English reading of the same place; a line without
Arabic letters is taken from the English reading whole, and a page with (almost) no Arabic
is the English reading. Debian's Arabic model has no Arabic-Indic digits in its character
set (٤, ٥, ٦ and ٩ are missing), so numbers printed in them cannot be read here; such lines
are left as the Arabic model read them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from wallet.receipts import enhance
from wallet.receipts.errors import OcrUnavailable

TESSDATA_GLOBS = ("/usr/share/tesseract-ocr/*/tessdata", "/usr/share/tessdata", "/usr/local/share/tessdata")
DEBIAN_PACKAGES = {"eng": "tesseract-ocr-eng", "ara": "tesseract-ocr-ara", "pol": "tesseract-ocr-pol"}
LANGUAGES = ("eng", "ara", "pol")
PAPER_WIDTH = 1000
RETRY_BELOW_CONFIDENCE = 70.0
_MAX_SIDE = 4000

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\ufb50-\ufdff\ufe70-\ufefc]")
_EASTERN_DIGIT = re.compile(r"[\u0660-\u0669\u06f0-\u06f9]")
_NUMERIC = re.compile(r"^[\d\u0660-\u0669\u06f0-\u06f9.,:/\-\u066b\u066c%]*\d[\d.,:/\-%]*$|^[\u0660-\u0669\u06f0-\u06f9][\u0660-\u0669\u06f0-\u06f9.,:/\-\u066b\u066c]*$")


@dataclass(frozen=True)
class OcrLine:
    """One line of text as read, with Tesseract's confidence (0-100) and its box (left, top, right, bottom)
    in the prepared image."""

    text: str
    confidence: float
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class OcrResult:
    """The text of the page (lines joined by newlines), the mean confidence of its words (0-100), the
    lines, the languages used and the angle (degrees) the photo was turned by before reading."""

    text: str
    mean_confidence: float
    lines: tuple[OcrLine, ...]
    languages: tuple[str, ...]
    angle: float


def find_tessdata(languages: Iterable[str] = LANGUAGES, search: Sequence[str] = TESSDATA_GLOBS) -> Path | None:
    """The first tessdata directory holding every one of ``languages``; else the first that exists; else None."""
    wanted = list(languages)
    found: list[Path] = []
    for pattern in search:
        if "*" in pattern:  # newest version directory first: /usr/share/tesseract-ocr/5 before 4.00
            found.extend(p for p in sorted(Path("/").glob(pattern.lstrip("/")), reverse=True) if p.is_dir())
        elif Path(pattern).is_dir():
            found.append(Path(pattern))
    for directory in found:
        if all((directory / f"{lang}.traineddata").is_file() for lang in wanted):
            return directory
    return found[0] if found else None


def available(languages: Iterable[str] = LANGUAGES, *, tessdata: str | Path | None = None) -> str | None:
    """None when OCR can run here for every one of ``languages``; else the reason, for a person.

    E.g. "OCR not available: tesseract language data for ara is missing (apt-get install -y
    tesseract-ocr-ara)".
    """
    wanted = list(languages)
    try:
        import tesserocr  # noqa: F401
    except ImportError as exc:
        return f"OCR not available: tesserocr cannot be loaded ({exc})"
    directory = Path(tessdata) if tessdata else find_tessdata(wanted)
    if directory is None or not directory.is_dir():
        return "OCR not available: no tessdata directory (apt-get install -y tesseract-ocr-eng)"
    for lang in wanted:
        if not (directory / f"{lang}.traineddata").is_file():
            package = DEBIAN_PACKAGES.get(lang, f"tesseract-ocr-{lang}")
            return f"OCR not available: tesseract language data for {lang} is missing (apt-get install -y {package})"
    return None


_local = threading.local()


def _api(tessdata: Path, lang: str):  # -> tesserocr.PyTessBaseAPI
    """This thread's API for ``lang`` ("ara+eng"), built on first use and kept."""
    apis = getattr(_local, "apis", None)
    if apis is None:
        apis = _local.apis = {}
    key = (str(tessdata), lang)
    if key not in apis:
        import tesserocr

        try:
            api = tesserocr.PyTessBaseAPI(path=str(tessdata).rstrip("/") + "/", lang=lang,
                                          psm=tesserocr.PSM.SINGLE_BLOCK)
        except RuntimeError as exc:
            raise OcrUnavailable(f"OCR not available: Tesseract could not load {lang} from {tessdata}") from exc
        api.SetVariable("user_defined_dpi", "300")
        apis[key] = api
    return apis[key]


def prepare(image: Image.Image, *, paper_width: int = PAPER_WIDTH) -> tuple[Image.Image, float]:
    """The photo made ready for Tesseract (grey, level, cropped to the paper, evenly lit, scaled), and the
    angle it was turned by."""
    grey, _ = enhance.resize_to_fit(enhance.to_grey(image), _MAX_SIDE)
    angle = enhance.skew_angle(grey)
    level = enhance.straighten(grey, angle, fill=enhance.border_grey(grey))  # corners filled like the table
    box = enhance.paper_box(level)
    if box:
        level = level.crop(box)
    flat = enhance.flatten_light(level)
    factor = paper_width / flat.width
    if abs(factor - 1) > 0.1:
        flat = flat.resize((max(1, round(flat.width * factor)), max(1, round(flat.height * factor))),
                           Image.Resampling.LANCZOS if factor < 1 else Image.Resampling.BICUBIC)
    return flat, angle


@dataclass
class _Word:
    text: str
    confidence: float
    box: tuple[int, int, int, int]


@dataclass
class _Line:
    text: str
    confidence: float
    box: tuple[int, int, int, int]
    words: list[_Word]


_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def _read(api, picture: Image.Image) -> list[_Line]:  # noqa: ANN001 - tesserocr has no type stubs
    """Recognise ``picture`` and return its lines with their words, in reading order.

    Read from Tesseract's TSV output: its words are in logical order (right to left for
    Arabic), where tesserocr's result iterator hands RTL words back reversed.
    """
    api.SetImage(picture)
    api.Recognize()
    lines: dict[tuple[str, str, str], _Line] = {}
    for row in (api.GetTSVText(0) or "").splitlines():
        cells = row.split("\t")
        if len(cells) < 12:
            continue
        level, block, para, line_no = cells[0], cells[2], cells[3], cells[4]
        try:
            left, top, width, height = (int(v) for v in cells[6:10])
            confidence = float(cells[10])
        except ValueError:
            continue
        box = (left, top, left + width, top + height)
        key = (block, para, line_no)
        if level == "4":
            lines[key] = _Line("", 0.0, box, [])
        elif level == "5" and key in lines:
            text = cells[11].translate(_BIDI_MARKS).strip()
            if text:
                lines[key].words.append(_Word(text, confidence, box))
    result = []
    for line in lines.values():
        if line.words:
            line.text = " ".join(w.text for w in line.words)
            line.confidence = sum(w.confidence for w in line.words) / len(line.words)
            result.append(line)
    return result


def _mean(lines: list[_Line]) -> float:
    words = [w.confidence for line in lines for w in line.words]
    return sum(words) / len(words) if words else 0.0


def _inside(word: _Word, line: _Line) -> bool:
    centre = (word.box[1] + word.box[3]) / 2
    return line.box[1] <= centre <= line.box[3] and word.box[0] < line.box[2] and word.box[2] > line.box[0]


def _merge(arabic: list[_Line], latin: list[_Line]) -> list[_Line]:
    """Arabic reading's lines, with their numbers (and whole non-Arabic lines) from the Latin reading."""
    latin_words = [w for line in latin for w in line.words]
    merged: list[_Line] = []
    for line in arabic:
        inside = sorted((w for w in latin_words if _inside(w, line)), key=lambda w: w.box[0])
        if not _ARABIC_LETTER.search(line.text):
            if inside:  # a Latin line: the Latin reading has its words in left-to-right order
                text = " ".join(w.text for w in inside)
                merged.append(_Line(text, sum(w.confidence for w in inside) / len(inside), line.box, inside))
            else:
                merged.append(line)
            continue
        there = [w for w in inside if w.confidence >= 50]
        numbers = [w for w in there if _NUMERIC.match(w.text)]
        if not numbers or _EASTERN_DIGIT.search(line.text):
            merged.append(line)
            continue
        kept = [token for token in line.text.split() if not _NUMERIC.match(token)]
        text = " ".join(kept + [w.text for w in numbers])
        merged.append(_Line(text, line.confidence, line.box, line.words))
    return merged


def _read_page(picture: Image.Image, tessdata: Path, languages: tuple[str, ...], psm: int) -> list[_Line]:
    """One reading of ``picture`` in page-segmentation mode ``psm``, Arabic and Latin readings merged."""
    primary = _api(tessdata, "+".join(languages))
    primary.SetPageSegMode(psm)
    lines = _read(primary, picture)
    if "ara" in languages and "eng" in languages:
        english = _api(tessdata, "eng")
        english.SetPageSegMode(psm)
        latin = _read(english, picture)
        letters = [ch for line in lines for ch in line.text if ch.isalpha()]
        arabic = sum(1 for ch in letters if _ARABIC_LETTER.match(ch))
        if arabic < max(3, 0.05 * len(letters)):
            return latin  # no Arabic to speak of: the English model alone reads it best
        lines = _merge(lines, latin)
    return lines


def _ink_bands(picture: Image.Image) -> list[tuple[int, int]]:
    """The horizontal bands (top, bottom) of the picture that hold ink: its printed lines."""
    ink = np.asarray(enhance.binarise_adaptive(picture, radius=max(8, picture.width // 60), offset=15)) == 0
    left, right = int(picture.width * 0.03), int(picture.width * 0.97)  # leave out the paper's edges
    rows = ink[:, left:right].sum(axis=1)
    # Gaps between lines are not quite empty (the paper's edge, specks): count a row as ink
    # only well above the emptiest rows.
    on = rows > float(np.percentile(rows, 20)) + max(6, picture.width // 60)
    bands: list[tuple[int, int]] = []
    start = None
    for y, row in enumerate(on):
        if row and start is None:
            start = y
        elif not row and start is not None:
            bands.append((start, y))
            start = None
    if start is not None:
        bands.append((start, len(on)))
    return bands


def _recover_missed(picture: Image.Image, lines: list[_Line], tessdata: Path,
                    languages: tuple[str, ...]) -> list[_Line]:
    """Lines Tesseract's page layout skipped (it drops a bold line now and then), read one by one.

    A band of ink as tall as a text line that no line read covers is read again on its own
    as a single line; what it yields joins the lines in top-to-bottom order.
    """
    from tesserocr import PSM

    if not lines:
        return lines
    heights = sorted(line.box[3] - line.box[1] for line in lines)
    typical = heights[len(heights) // 2]
    found = list(lines)
    for top, bottom in _ink_bands(picture):
        height = bottom - top
        if not 0.6 * typical <= height <= 2.5 * typical:
            continue  # a rule, a speck, a QR code or a logo
        covered = max((min(bottom, l.box[3]) - max(top, l.box[1]) for l in lines), default=0)
        if covered >= 0.4 * height:
            continue
        pad = max(4, height // 3)
        y0, y1 = max(0, top - pad), min(picture.height, bottom + pad)
        for line in _read_page(picture.crop((0, y0, picture.width, y1)), tessdata, languages, PSM.SINGLE_LINE):
            line.box = (line.box[0], line.box[1] + y0, line.box[2], line.box[3] + y0)
            for word in line.words:
                word.box = (word.box[0], word.box[1] + y0, word.box[2], word.box[3] + y0)
            found.append(line)
    return sorted(found, key=lambda l: (l.box[1] + l.box[3]) / 2)


def _recognise_prepared(picture: Image.Image, tessdata: Path, languages: tuple[str, ...]) -> list[_Line]:
    from tesserocr import PSM

    lines = _read_page(picture, tessdata, languages, PSM.SINGLE_BLOCK)
    return _recover_missed(picture, lines, tessdata, languages)


def recognise(image: Image.Image, languages: Sequence[str] = ("eng",), *, tessdata: str | Path | None = None,
              prepared: bool = False) -> OcrResult:
    """The text of a receipt photo, read in ``languages`` (Tesseract codes: "eng", "ara", "pol").

    The photo is prepared first (see the module's docstring) unless ``prepared`` says it already
    is. Raises ``OcrUnavailable`` when tesserocr or a language's data is missing.
    """
    langs = tuple(dict.fromkeys(languages)) or ("eng",)
    reason = available(langs, tessdata=tessdata)
    if reason:
        raise OcrUnavailable(reason)
    directory = Path(tessdata) if tessdata else find_tessdata(langs)
    assert directory is not None  # available() said so
    picture, angle = (enhance.to_grey(image), 0.0) if prepared else prepare(image)
    lines = _recognise_prepared(picture, directory, langs)
    confidence = _mean(lines)
    if confidence < RETRY_BELOW_CONFIDENCE:
        turned = picture.rotate(180)
        again = _recognise_prepared(turned, directory, langs)
        if _mean(again) > confidence:
            lines, confidence, angle = again, _mean(again), (angle + 180) % 360
    return OcrResult(
        text="\n".join(line.text for line in lines),
        mean_confidence=round(confidence, 1),
        lines=tuple(OcrLine(line.text, round(line.confidence, 1), line.box) for line in lines),
        languages=langs,
        angle=angle,
    )

"""A test corpus of receipts, rendered here and photographed badly on purpose.

``render(spec)`` draws a till receipt (English for the Gulf, Arabic for Saudi Arabia,
Polish fiscal) with Pillow and real fonts from Debian packages: DejaVu Sans Mono for Latin
text (``fonts-dejavu-core``) and Noto Sans Arabic (``fonts-noto-core``) shaped right to
left by libraqm, which Pillow's wheel carries. A QR code holding whatever text the test
gives may be printed at the foot; the corpus knows nothing of what that text means.

``photograph(image, seed, ...)`` turns the clean receipt into what a phone gives: the paper
on a table, turned up to 15 degrees (or a quarter turn), seen at an angle, out of focus,
unevenly lit, noisy, and saved at JPEG quality 40. Everything is drawn from
``random.Random(seed)``: the same seed gives the same bytes.

``sample(seed)`` makes a whole ``ReceiptSpec`` (language, merchant, items, date format...)
from a seed, for the benchmark and the wider tests.

A missing font raises ``CorpusUnavailable`` naming the Debian package to install; the
tests turn it into a skip (a failure in CI).
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

LATIN_FONT = ("fonts-dejavu-core", ["/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"])
LATIN_BOLD_FONT = ("fonts-dejavu-core", ["/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"])
ARABIC_FONT = ("fonts-noto-core", ["/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
                                   "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf"])
ARABIC_BOLD_FONT = ("fonts-noto-core", ["/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf",
                                        "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"])

WIDTH = 640          # an 80 mm till roll at 8 pixels a millimetre
MARGIN = 28
BODY = 24            # font size in pixels
PAPER = (250, 249, 244)
INK = (25, 25, 30)

ARABIC_DIGITS = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩٫٬")


class CorpusUnavailable(RuntimeError):
    """The corpus cannot be drawn here (a font or libraqm is missing); the message says what to install."""


def _font_path(which: tuple[str, list[str]]) -> str:
    package, paths = which
    for path in paths:
        if Path(path).is_file():
            return path
    raise CorpusUnavailable(f"font {Path(paths[0]).name} is missing: apt-get install -y {package}")


_fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def font(which: tuple[str, list[str]], size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font at ``size`` pixels, laid out by libraqm (needed for Arabic shaping)."""
    if not features.check("raqm"):
        raise CorpusUnavailable("Pillow was built without libraqm: Arabic cannot be shaped")
    path = _font_path(which)
    key = (path, size)
    if key not in _fonts:
        _fonts[key] = ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)
    return _fonts[key]


@dataclass(frozen=True)
class Item:
    """One line of the receipt: ``quantity`` x ``unit_price`` = ``amount``."""

    description: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class ReceiptSpec:
    """What a receipt says. ``date_style`` is a strftime pattern for the date (and time) line;
    ``arabic_digits`` prints the Arabic receipt's numbers in Arabic-Indic digits."""

    language: str                    # "en", "ar", "pl"
    merchant: str
    address: str
    tax_number: str                  # as printed ("123-456-32-18", "310123456700003")
    receipt_number: str
    issued_at: dt.datetime
    items: tuple[Item, ...]
    currency: str                    # "AED", "SAR", "PLN"
    vat_rate: Decimal
    qr_text: str | None = None
    qr_box: int = 4                  # pixels per QR module on the paper
    date_style: str = "%d/%m/%Y %H:%M"
    arabic_digits: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0"))

    @property
    def vat(self) -> Decimal:
        """The VAT inside the total (prices include VAT, as on Gulf and Polish till receipts)."""
        return (self.total * self.vat_rate / (100 + self.vat_rate)).quantize(Decimal("0.01"))


def money(amount: Decimal, style: str) -> str:
    """``1,234.56`` (style "en"), ``1 234,56`` ("pl", with a thin space optional), ``1234,56`` ("pl-plain")."""
    text = f"{amount:,.2f}"
    if style == "en":
        return text
    if style == "en-plain":
        return text.replace(",", "")
    if style == "pl":
        return text.replace(",", " ").replace(".", ",")
    return text.replace(",", "").replace(".", ",")


# ---- drawing ---------------------------------------------------------------------------------

@dataclass
class _Canvas:
    image: Image.Image
    draw: ImageDraw.ImageDraw
    y: int = MARGIN


def _latin(size: int = BODY, bold: bool = False) -> ImageFont.FreeTypeFont:
    return font(LATIN_BOLD_FONT if bold else LATIN_FONT, size)


def _arabic(size: int = BODY, bold: bool = False) -> ImageFont.FreeTypeFont:
    return font(ARABIC_BOLD_FONT if bold else ARABIC_FONT, size)


def _is_arabic(text: str) -> bool:
    """Arabic letters in it (Arabic-Indic digits alone are drawn with the Latin font, which has them)."""
    return any("\u0621" <= ch <= "\u064a" for ch in text)


def _font_for(text: str, size: int, bold: bool) -> tuple[ImageFont.FreeTypeFont, str]:
    if _is_arabic(text):
        return _arabic(size, bold), "rtl"
    return _latin(size, bold), "ltr"


def _width(text: str, size: int, bold: bool = False) -> float:
    f, direction = _font_for(text, size, bold)
    return f.getlength(text, direction=direction)


def _put(c: _Canvas, x: float, text: str, size: int, bold: bool) -> None:
    f, direction = _font_for(text, size, bold)
    baseline = c.y + round(size * 0.95)  # Arabic and Latin fonts share the baseline, as on a printed line
    c.draw.text((x, baseline), text, font=f, fill=INK, anchor="ls", direction=direction,
                language="ar" if direction == "rtl" else None)


def _line(c: _Canvas, left: str = "", right: str = "", *, center: str = "", size: int = BODY,
          bold: bool = False, gap: int = 10) -> None:
    """One printed line: text at the left edge, at the right edge, or centred."""
    if center:
        _put(c, (WIDTH - _width(center, size, bold)) / 2, center, size, bold)
    if left:
        _put(c, MARGIN, left, size, bold)
    if right:
        _put(c, WIDTH - MARGIN - _width(right, size, bold), right, size, bold)
    c.y += int(size * 1.25) + gap


def _rule(c: _Canvas) -> None:
    for x in range(MARGIN, WIDTH - MARGIN, 14):
        c.draw.line((x, c.y + 12, x + 7, c.y + 12), fill=INK, width=2)
    c.y += 30


def qr_image(text: str, box: int) -> Image.Image:
    """The QR code of ``text`` (error correction M, quiet zone of 4 modules), ``box`` pixels a module."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _qr(c: _Canvas, text: str, box: int) -> None:
    picture = qr_image(text, box)
    c.image.paste(picture, ((WIDTH - picture.width) // 2, c.y))
    c.y += picture.height + 12


def _digits(spec: ReceiptSpec, text: str) -> str:
    return text.translate(ARABIC_DIGITS) if spec.arabic_digits else text


def _english(c: _Canvas, spec: ReceiptSpec) -> None:
    style = spec.extra.get("money", "en")
    _line(c, center=spec.merchant, size=28, bold=True)
    _line(c, center=spec.address)
    _line(c, center=f"TRN: {spec.tax_number}")
    _line(c, center="TAX INVOICE", bold=True)
    _line(c, f"Invoice No: {spec.receipt_number}")
    _line(c, f"Date: {spec.issued_at.strftime(spec.date_style)}")
    _rule(c)
    for item in spec.items:
        _line(c, item.description, gap=2)
        _line(c, f"  {item.quantity} x {money(item.unit_price, style)}", money(item.amount, style))
    _rule(c)
    _line(c, "Subtotal excl. VAT", money(spec.total - spec.vat, style))
    _line(c, f"VAT {spec.vat_rate}%", money(spec.vat, style))
    _line(c, f"TOTAL {spec.currency}", money(spec.total, style), bold=True)
    _line(c, "Paid by card", money(spec.total, style))
    _rule(c)
    _line(c, center="Thank you for your visit")


def _arabic_receipt(c: _Canvas, spec: ReceiptSpec) -> None:
    d = lambda text: _digits(spec, text)  # noqa: E731
    cur = "ر.س" if spec.currency == "SAR" else "د.إ"
    _line(c, center=spec.merchant, size=30, bold=True)
    _line(c, center=spec.address)
    _line(c, center="فاتورة ضريبية مبسطة", bold=True)
    _line(c, d(spec.tax_number), "الرقم الضريبي")
    _line(c, d(spec.receipt_number), "رقم الفاتورة")
    _line(c, d(spec.issued_at.strftime(spec.date_style)), "التاريخ")
    _rule(c)
    for item in spec.items:
        _line(c, item.description, gap=2)
        _line(c, d(f"  {item.quantity} x {money(item.unit_price, 'en')}"), d(money(item.amount, "en")))
    _rule(c)
    _line(c, d(money(spec.total - spec.vat, "en")), "الإجمالي قبل الضريبة")
    _line(c, d(money(spec.vat, "en")), f"ضريبة القيمة المضافة {d(str(spec.vat_rate))}٪")
    _line(c, f"{d(money(spec.total, 'en'))} {cur}", "الإجمالي", bold=True)
    _rule(c)
    _line(c, center="شكرا لزيارتكم")


def _polish(c: _Canvas, spec: ReceiptSpec) -> None:
    style = spec.extra.get("money", "pl-plain")
    vat_letter = "A"
    _line(c, center=spec.merchant, size=28, bold=True)
    _line(c, center=spec.address)
    _line(c, center=f"NIP {spec.tax_number}")
    _line(c, spec.issued_at.strftime(spec.date_style), f"nr wydr. {spec.extra.get('print_no', '012345')}")
    _line(c, center="PARAGON FISKALNY", bold=True)
    _rule(c)
    for item in spec.items:
        _line(c, item.description, gap=2)
        _line(c, f"  {item.quantity} x {money(item.unit_price, style)}", f"{money(item.amount, style)} {vat_letter}")
    _rule(c)
    _line(c, f"Sprzedaż opodatkowana {vat_letter}", money(spec.total, style))
    _line(c, f"PTU {vat_letter} {spec.vat_rate}%", money(spec.vat, style))
    _line(c, "SUMA PTU", money(spec.vat, style))
    _line(c, f"SUMA {spec.currency}", money(spec.total, style), size=30, bold=True)
    _line(c, "Karta płatnicza", money(spec.total, style))
    _rule(c)
    _line(c, f"Paragon nr {spec.receipt_number}", spec.issued_at.strftime("%H:%M"))


_LAYOUTS = {"en": _english, "ar": _arabic_receipt, "pl": _polish}


def render(spec: ReceiptSpec) -> Image.Image:
    """The receipt as printed: an RGB image ``WIDTH`` pixels wide, as tall as its lines (and QR) need."""
    canvas = _Canvas(Image.new("RGB", (WIDTH, 4000), PAPER), None)  # type: ignore[arg-type]
    canvas.draw = ImageDraw.Draw(canvas.image)
    _LAYOUTS[spec.language](canvas, spec)
    if spec.qr_text is not None:
        canvas.y += 8
        _qr(canvas, spec.qr_text, spec.qr_box)
    return canvas.image.crop((0, 0, WIDTH, canvas.y + MARGIN))


# ---- photographing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Degradation:
    """How badly the phone photographs the receipt. The defaults are a plain, straight, sharp photo."""

    rotation: float = 0.0            # degrees, counter-clockwise; 90/180/270 for a quarter turn
    perspective: float = 0.0         # how far (share of the size) each corner may move
    blur: float = 0.0                # Gaussian radius, pixels
    light: float = 0.0               # 0..1: the dark end of a light gradient is this much darker
    dim: float = 0.0                 # 0..1: the whole photo this much darker and flatter (low light)
    noise: float = 0.0               # sigma of Gaussian noise, grey levels
    jpeg_quality: int | None = None  # None: PNG, lossless
    scale: float = 1.0               # the photo's size relative to the paper


VARIANTS: dict[str, Degradation] = {
    "straight": Degradation(),
    "rotated 15 degrees": Degradation(rotation=15),
    "rotated -12 degrees": Degradation(rotation=-12),
    "quarter turn": Degradation(rotation=90),
    "upside down": Degradation(rotation=180),
    "three-quarter turn": Degradation(rotation=270),
    "perspective": Degradation(perspective=0.08),
    "blurred": Degradation(blur=1.6),
    "jpeg quality 40": Degradation(jpeg_quality=40),
    "uneven light": Degradation(light=0.65),
    "low light": Degradation(dim=0.6, noise=6),
    "noisy": Degradation(noise=18),
    "phone photo": Degradation(rotation=8, perspective=0.05, blur=1.0, light=0.45, noise=8, jpeg_quality=40),
}


def _perspective_coefficients(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """The 8 coefficients PIL's PERSPECTIVE transform needs to map output corners ``dst`` to input ``src``."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.extend([u, v])
    return list(np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)))


def photograph(receipt: Image.Image, seed: int, how: Degradation = Degradation()) -> bytes:
    """The receipt photographed on a table as ``how`` says, deterministic from ``seed``: JPEG or PNG bytes."""
    rng = random.Random(seed)
    table = tuple(rng.randint(90, 150) for _ in range(3))
    pad = int(max(receipt.size) * 0.12)
    photo = Image.new("RGB", (receipt.width + 2 * pad, receipt.height + 2 * pad), table)
    photo.paste(receipt, (pad + rng.randint(-pad // 3, pad // 3), pad + rng.randint(-pad // 3, pad // 3)))
    if how.rotation:
        photo = photo.rotate(how.rotation, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=table)
    if how.perspective:
        w, h = photo.size
        m = how.perspective
        corners = [(0, 0), (w, 0), (w, h), (0, h)]
        moved = [(x + rng.uniform(-m, m) * w, y + rng.uniform(-m, m) * h) for x, y in corners]
        photo = photo.transform((w, h), Image.Transform.PERSPECTIVE, _perspective_coefficients(moved, corners),
                                resample=Image.Resampling.BICUBIC, fillcolor=table)
    if how.scale != 1.0:
        photo = photo.resize((int(photo.width * how.scale), int(photo.height * how.scale)), Image.Resampling.LANCZOS)
    if how.blur:
        photo = photo.filter(ImageFilter.GaussianBlur(how.blur))
    pixels = np.asarray(photo, dtype=np.float32)
    if how.light:
        h, w = pixels.shape[:2]
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
        pixels *= (1 - how.light * ramp)[..., None]
    if how.dim:
        pixels = pixels * (1 - how.dim) + 20 * how.dim
    if how.noise:
        pixels += np.random.default_rng(seed).normal(0, how.noise, pixels.shape).astype(np.float32)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    if how.jpeg_quality:
        photo.save(out, "JPEG", quality=how.jpeg_quality)
    else:
        photo.save(out, "PNG")
    return out.getvalue()


def random_degradation(rng: random.Random) -> Degradation:
    """A phone photo as it comes: each of the degradations drawn at random, within the goals' bounds."""
    return Degradation(
        rotation=rng.uniform(-15, 15) + rng.choice([0, 0, 0, 0, 0, 0, 90, 180, 270]),
        perspective=rng.uniform(0, 0.06),
        blur=rng.choice([0, 0, 0.8, 1.2, 1.6]),
        light=rng.uniform(0, 0.6),
        dim=rng.choice([0, 0, 0, 0.4]),
        noise=rng.uniform(0, 12),
        jpeg_quality=rng.choice([40, 40, 60, 85]),
        scale=rng.uniform(0.8, 1.3),
    )


# ---- specs -------------------------------------------------------------------------------------

TYRES = (
    ("Michelin Pilot Sport 5 205/55 R16 91W", Decimal("450.00")),
    ("Bridgestone Turanza T005 225/45 R17 94Y", Decimal("520.00")),
    ("Continental EcoContact 6 195/65 R15 91H", Decimal("310.50")),
    ("Pirelli P Zero 245/40 R18 97Y XL", Decimal("780.00")),
    ("Goodyear EfficientGrip 2 215/60 R16 95V", Decimal("389.90")),
    ("Hankook Ventus Prime 4 205/60 R16 92H", Decimal("299.00")),
    ("Yokohama Geolandar A/T 265/65 R17 112H", Decimal("615.25")),
    ("Dunlop Sport Maxx RT2 225/40 R18 92Y", Decimal("560.00")),
)
SERVICES_EN = (("Wheel balancing", Decimal("40.00")), ("Tyre fitting", Decimal("25.00")),
               ("Nitrogen fill", Decimal("10.00")), ("Valve stem", Decimal("7.50")))
SERVICES_PL = (("Wyważanie kół", Decimal("80.00")), ("Montaż opon", Decimal("120.00")),
               ("Wentyl gumowy", Decimal("12.50")), ("Utylizacja opon", Decimal("20.00")))

MERCHANTS_EN = (("AL NOOR TYRES TRADING LLC", "Shop 12, Sheikh Zayed Rd, Dubai"),
                ("GULF WHEELS AUTO SERVICE", "Al Quoz Ind. Area 3, Dubai"),
                ("DESERT ROAD TYRES LLC", "Musaffah M-9, Abu Dhabi"))
MERCHANTS_AR = (("شركة النور للإطارات", "الرياض، طريق الملك فهد"),
                ("مؤسسة الخليج لخدمات السيارات", "جدة، شارع التحلية"),
                ("شركة الطريق للإطارات", "الدمام، حي الفيصلية"))
MERCHANTS_PL = (("OPONY-SERWIS Sp. z o.o.", "ul. Marszałkowska 10, 00-001 Warszawa"),
                ("AUTO-KOŁO s.c.", "ul. Długa 5, 31-147 Kraków"),
                ("GUMIX Łódź Sp. j.", "ul. Piotrkowska 120, 90-006 Łódź"))

EN_DATE_STYLES = ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M")
AR_DATE_STYLES = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
PL_DATE_STYLES = ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y")


def nip(rng: random.Random) -> str:
    """A Polish NIP with a good check digit, printed ``123-456-32-18``."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, (6, 5, 7, 2, 3, 4, 5, 6, 7))) % 11
        if check < 10:
            s = "".join(map(str, digits + [check]))
            return f"{s[:3]}-{s[3:6]}-{s[6:8]}-{s[8:]}"


def saudi_vat(rng: random.Random) -> str:
    """A Saudi VAT number: 15 digits, starting and ending with 3."""
    return "3" + "".join(str(rng.randint(0, 9)) for _ in range(13)) + "3"


def uae_trn(rng: random.Random) -> str:
    """A UAE TRN: 15 digits starting 100."""
    return "100" + "".join(str(rng.randint(0, 9)) for _ in range(12))


def sample(seed: int, *, language: str | None = None, qr_text: str | None = None,
           arabic_digits: bool = False) -> ReceiptSpec:
    """A receipt drawn from ``seed``: language (unless given), merchant, 1-4 lines, date, numbers.

    ``arabic_digits`` prints an Arabic receipt's numbers in Arabic-Indic digits (٠-٩).
    """
    rng = random.Random(seed)
    language = language or rng.choice(["en", "ar", "pl"])
    issued = dt.datetime(2026, 1, 1, 8, 0) + dt.timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 12 * 60))
    tyre, price = rng.choice(TYRES)
    items = [Item(tyre, rng.choice([1, 2, 4]), price)]
    services = SERVICES_PL if language == "pl" else SERVICES_EN
    for name, fee in rng.sample(services, rng.randint(0, 3)):
        items.append(Item(name, rng.choice([1, 2, 4]), fee))
    if language == "en":
        merchant, address = rng.choice(MERCHANTS_EN)
        spec = ReceiptSpec("en", merchant, address, uae_trn(rng), f"INV-{rng.randint(2025, 2026)}-{rng.randint(1, 99999):05d}",
                           issued, tuple(items), "AED", Decimal("5"), date_style=rng.choice(EN_DATE_STYLES))
    elif language == "ar":
        merchant, address = rng.choice(MERCHANTS_AR)
        spec = ReceiptSpec("ar", merchant, address, saudi_vat(rng), str(rng.randint(1000, 999999)), issued,
                           tuple(items), "SAR", Decimal("15"), date_style=rng.choice(AR_DATE_STYLES),
                           arabic_digits=arabic_digits)
    else:
        merchant, address = rng.choice(MERCHANTS_PL)
        spec = ReceiptSpec("pl", merchant, address, nip(rng), str(rng.randint(100, 99999)), issued, tuple(items),
                           "PLN", Decimal("23"), date_style=rng.choice(PL_DATE_STYLES),
                           extra={"money": rng.choice(["pl-plain", "pl"]), "print_no": f"{rng.randint(1, 999999):06d}"})
    return replace(spec, qr_text=qr_text)

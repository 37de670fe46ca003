"""The whole reading of a receipt photo, as the ``receipts.recognise`` job does it (issue #15).

What it measures
    N receipt photos (default 200), made deterministically from ``--seed``, each read the way
    the job reads an upload: ``images.intake(bytes)`` then ``reading.read_receipt(photo.image,
    country=..., now=...)`` (codes, fiscal codes, OCR), one receipt at a time in this process.
    - Even-numbered receipts carry a fiscal QR code built as the issuer builds it, in turn:
      ZATCA phase 1 on an English Saudi receipt, ZATCA phase 2 (signed) on an Arabic one, KSeF
      KOD I on a Polish one, then phase 2 on English, phase 1 on Arabic, KOD I on Polish. The
      code is printed 3-5 pixels a module; the photo gets ``corpus.random_degradation`` (a
      quarter, half or three-quarter turn one time in three). A success is the format, the
      seller's tax number, the issue time and (ZATCA) the total all equal to what was put in
      the code. Each code's text is also read by ``fiscal.read`` directly, untimed: a control
      that tells a reader bug from a photo that could not be read.
    - Odd-numbered receipts carry no code: English (AE), Arabic (SA) and Polish (PL) in turn,
      made by ``receipt_vision.make``, so for one seed they are the very photos that
      benchmark reads (no quarter turns). A success is the total and the date both right.
    Seconds are wall clock and CPU (this process, all threads) per receipt, for intake and
    reading only: rendering and photographing are not counted. Before the clock starts, one
    receipt per country is read to load Tesseract's models, as a worker that has run one job
    already has them.

Run from the project root::

    .venv/bin/python bench/receipts.py                         # 200 receipts, about 5 minutes
    .venv/bin/python bench/receipts.py --receipts 60 --seed 7 --json /tmp/receipts.json

Needs the Debian packages fonts-dejavu-core, fonts-noto-core, tesseract-ocr-eng,
tesseract-ocr-ara and tesseract-ocr-pol.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import random
import statistics
import sys
import time
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from harness import git_revision, machine_cpu  # bench/ is on sys.path when the script runs
from receipt_vision import make as make_plain, percentile  # it puts the project root on sys.path too

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from tests.wallet.receipts import corpus  # noqa: E402
from tests.wallet.receipts.fiscal import builders  # noqa: E402
from wallet.receipts import fiscal, images, ocr  # noqa: E402
from wallet.receipts.reading import ZONES, Reading, read_receipt  # noqa: E402

NOW = dt.datetime(2027, 1, 2, tzinfo=dt.timezone.utc)  # after every corpus date (2026 and New Year's morning)
COUNTRY = {"en": "AE", "ar": "SA", "pl": "PL"}
QR_KINDS = (("zatca-1", "en"), ("zatca-2", "ar"), ("ksef", "pl"), ("zatca-2", "en"), ("zatca-1", "ar"), ("ksef", "pl"))
KIND_NAMES = {"zatca-1": "ZATCA phase 1", "zatca-2": "ZATCA phase 2, signed", "ksef": "KSeF KOD I", "ocr": "OCR only"}
SAUDI_ADDRESSES = ("King Fahd Rd, Riyadh", "Tahlia St, Jeddah", "Al Faisaliyah, Dammam")
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
QR_FIELDS = ("format", "seller_tax_number", "issued_at", "total")


@dataclass(frozen=True)
class Case:
    """One photo and what a right reading of it says."""

    index: int
    kind: str  # "zatca-1", "zatca-2", "ksef" or "ocr"
    country: str
    spec: corpus.ReceiptSpec
    how: corpus.Degradation
    photo: bytes
    want: dict[str, Any]


def _key(label: str, seed: int) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(f"bench/receipts {label} {seed}".encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest, "big") % (SECP256K1_ORDER - 1) + 1, ec.SECP256K1())


def signed_stamp(invoice: bytes, seed: int) -> list[tuple[int, bytes | str]]:
    """Tags 6-9 encoded as ``builders.stamp`` writes them (ZATCA's SDK), but with keys derived from
    the seed and RFC 6979 signatures: ``stamp(egs_key())`` draws a new key and nonce each run, and
    the same seed must print the same code."""
    till, ca = _key("till", seed), _key("zatca ca", seed)
    deterministic = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    digest = hashlib.sha256(invoice).digest()
    public_key = till.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    return [(6, builders.b64(digest)), (7, builders.b64(till.sign(digest, deterministic))), (8, public_key),
            (9, ca.sign(public_key, deterministic))]


def _qr_case(i: int, seed: int) -> Case:
    kind, language = QR_KINDS[(i // 2) % len(QR_KINDS)]
    rng = random.Random(seed * 100_003 + i)
    spec = corpus.sample(seed * 100_003 + i, language=language)
    if language == "en":  # an English receipt from a Saudi seller
        spec = replace(spec, tax_number=corpus.saudi_vat(rng), currency="SAR", vat_rate=Decimal(15),
                       address=rng.choice(SAUDI_ADDRESSES))
    how = corpus.random_degradation(rng)
    if kind == "ksef":
        nip = spec.tax_number.replace("-", "")
        invoice = f"<Faktura><NIP>{nip}</NIP><P_2>{spec.receipt_number}</P_2><P_15>{spec.total}</P_15></Faktura>"
        text = builders.kod_i(nip=nip, date=spec.issued_at.strftime("%d-%m-%Y"),
                              hash_=builders.invoice_hash(invoice.encode()))
        want = {"format": "ksef", "seller_tax_number": nip, "total": None,
                "issued_at": dt.datetime.combine(spec.issued_at.date(), dt.time(), ZoneInfo("Europe/Warsaw"))}
    else:
        local = spec.issued_at.replace(tzinfo=ZoneInfo("Asia/Riyadh"))
        records = builders.phase_1(seller=spec.merchant, vat_number=spec.tax_number, total=f"{spec.total:.2f}",
                                   vat=f"{spec.vat:.2f}",
                                   timestamp=local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if kind == "zatca-2":
            invoice = f"<Invoice><cbc:ID>{spec.receipt_number}</cbc:ID><Total>{spec.total}</Total></Invoice>"
            records += signed_stamp(invoice.encode(), seed * 100_003 + i)
        text = builders.zatca(records)
        want = {"format": "zatca", "seller_tax_number": spec.tax_number, "total": spec.total, "issued_at": local}
    spec = replace(spec, qr_text=text, qr_box=rng.choice([3, 4, 4, 5]))
    photo = corpus.photograph(corpus.render(spec), seed * 7 + i, how)
    country = "PL" if kind == "ksef" else "SA"
    return Case(i, kind, country, spec, how, photo, want)


def make_case(i: int, seed: int) -> Case:
    """Receipt ``i`` of ``seed``: even ones carry a fiscal QR code, odd ones none (receipt_vision's photos)."""
    if i % 2 == 0:
        return _qr_case(i, seed)
    spec, how, photo = make_plain(i, seed)
    want = {"total": spec.total, "date": spec.issued_at.date(), "time": spec.issued_at.time(),
            "seller_tax_number": spec.tax_number.replace("-", ""), "currency": spec.currency}
    return Case(i, "ocr", COUNTRY[spec.language], spec, how, photo, want)


def control(case: Case) -> list[str]:
    """The fields ``fiscal.read`` gets wrong from the printed text itself (no photo): should be none."""
    try:
        found = fiscal.read(case.spec.qr_text or "", now=NOW, keys=None)
    except fiscal.FiscalCodeRefused as refused:
        return [f"refused: {refused.reason}"]
    if found is None:
        return ["not a fiscal code"]
    got = {"format": found.format, "seller_tax_number": found.seller_tax_number, "issued_at": found.issued_at,
           "total": found.total}
    wrong = [name for name in QR_FIELDS if got[name] != case.want[name]]
    if found.warnings:
        wrong.append("warnings: " + ", ".join(found.warning_codes))
    if case.kind == "zatca-2" and found.signature != "valid":
        wrong.append(f"signature {found.signature}")
    return wrong


def judge(case: Case, reading: Reading) -> dict[str, Any]:
    """What was read right, as booleans, with the values read for the misses."""
    signals = [s["code"] for s in reading.signals]
    if case.kind != "ocr":
        got = {"format": reading.format, "seller_tax_number": reading.seller_tax_number,
               "issued_at": reading.purchased_at, "total": reading.total}
        fields = {name: got[name] == case.want[name] for name in QR_FIELDS if case.want[name] is not None}
        fields["format"] = fields["format"] and reading.machine_read
        out: dict[str, Any] = {f"{name}_ok": ok for name, ok in fields.items()}
        out["ok"] = all(fields.values())
        out["code_text_read"] = case.spec.qr_text in reading.codes
        out["codes_found"] = len(reading.codes)
        out["got"] = {name: str(value) for name, value in got.items()}
        out["ocr_total_ok"] = reading.total == case.spec.total  # KSeF: the total comes from OCR
        out["total_mismatch"] = "total_mismatch" in signals
        out["fiscal_warnings"] = [code for code in signals if code.startswith(("zatca.", "ksef."))]
        out["signature_invalid"] = "signature_invalid" in signals
        out["merchant_ok"] = reading.merchant == case.spec.merchant if case.kind != "ksef" else None
    else:
        when = reading.purchased_at
        out = {
            "total_ok": reading.total == case.want["total"],
            "date_ok": when is not None and when.date() == case.want["date"],
            "time_ok": when is not None and "ocr_no_time" not in signals and when.time() == case.want["time"],
            "tax_ok": reading.seller_tax_number == case.want["seller_tax_number"],
            "currency_ok": reading.currency == case.want["currency"],
            "format_ok": reading.format == "ocr" and not reading.codes,
            "content_key": reading.content_key is not None,
            "got": {"total": str(reading.total), "purchased_at": str(when), "tax": reading.seller_tax_number},
        }
        out["ok"] = out["total_ok"] and out["date_ok"]
    out["lines_ok"] = sorted(line.amount for line in reading.lines) == sorted(i.amount for i in case.spec.items)
    out["signals"] = signals
    out["signal_messages"] = [f"{x['code']}: {x['message']}" for x in reading.signals if x["code"].startswith(("ocr", "total"))]
    out["no_signal"] = not signals  # decision.decide sends a receipt with any signal to a person
    return out


def run_one(case: Case) -> dict[str, Any]:
    """Intake and reading of one photo, timed as the job runs them."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    photo = images.intake(case.photo)
    reading = read_receipt(photo.image, country=case.country, now=NOW)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    result = {"index": case.index, "kind": case.kind, "country": case.country, "language": case.spec.language,
              "seconds": wall, "cpu_seconds": cpu, "bytes": len(case.photo), "degradation": asdict(case.how)}
    if case.kind != "ocr":
        result["qr_box"] = case.spec.qr_box
        result["module_px"] = round(case.spec.qr_box * case.how.scale, 2)
        result["control"] = control(case)
    result.update(judge(case, reading))
    return result


def describe_miss(r: dict[str, Any]) -> str:
    d = r["degradation"]
    how = (f"rot={d['rotation']:.1f} persp={d['perspective']:.3f} blur={d['blur']} light={d['light']:.2f} "
           f"dim={d['dim']} noise={d['noise']:.1f} q={d['jpeg_quality']} scale={d['scale']:.2f}")
    if r["kind"] == "ocr":
        wrong = [k[:-3] for k in ("total_ok", "date_ok") if not r[k]]
        return f"#{r['index']} OCR {r['country']}: {'/'.join(wrong)} wrong, read {r['got']}; {how}"
    why = ("no code read" if not r["codes_found"] else "code read, but not the printed text"
           if not r["code_text_read"] else "code read right, fields wrong: "
           + ", ".join(k[:-3] for k in r if k.endswith("_ok") and r[k] is False and k[:-3] in QR_FIELDS))
    return f"#{r['index']} {KIND_NAMES[r['kind']]} ({r['language']}): {why}; module {r['module_px']} px; {how}"


def share(rows: list[dict[str, Any]], key: str) -> tuple[int, int]:
    return sum(bool(r.get(key)) for r in rows), len(rows)


def fmt(pair: tuple[int, int]) -> str:
    good, total = pair
    return f"{good}/{total} ({100 * good / max(total, 1):.1f}%)"


def timings(rows: list[dict[str, Any]]) -> dict[str, float]:
    wall, cpu = [r["seconds"] for r in rows], [r["cpu_seconds"] for r in rows]
    return {"median": statistics.median(wall), "p95": percentile(wall, 0.95), "max": max(wall),
            "cpu_median": statistics.median(cpu), "cpu_p95": percentile(cpu, 0.95)}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    qr = [r for r in results if r["kind"] != "ocr"]
    plain = [r for r in results if r["kind"] == "ocr"]
    zatca = [r for r in qr if r["kind"] != "ksef"]
    summary: dict[str, Any] = {
        "qr_fields_right": share(qr, "ok"), "ocr_total_and_date_right": share(plain, "ok"),
        "qr_by_kind": {kind: share([r for r in qr if r["kind"] == kind], "ok") for kind in ("zatca-1", "zatca-2", "ksef")},
        "qr_by_field": {name: share([r for r in qr if f"{name}_ok" in r], f"{name}_ok") for name in QR_FIELDS},
        "qr_code_text_read": share(qr, "code_text_read"),
        "qr_control_clean": (sum(not r["control"] for r in qr), len(qr)),
        "zatca_printed_total_agrees": (sum(not r["total_mismatch"] for r in zatca if r["ok"]),
                                       sum(1 for r in zatca if r["ok"])),
        "ksef_total_from_ocr_right": share([r for r in qr if r["kind"] == "ksef" and r["ok"]], "ocr_total_ok"),
        "qr_any_fiscal_warning": (sum(bool(r["fiscal_warnings"]) for r in qr), len(qr)),
        "ocr_by_field": {name: share(plain, f"{name}_ok") for name in
                         ("total", "date", "time", "tax", "currency", "format")},
        "ocr_by_country": {c: share([r for r in plain if r["country"] == c], "ok") for c in ("AE", "SA", "PL")},
        "seconds": {name: timings(rows) for name, rows in (("qr", qr), ("ocr", plain), ("all", results)) if rows},
    }
    summary["qr_right_and_no_signal"] = share([r for r in qr if r["ok"]], "no_signal")
    summary["ocr_right_and_no_signal"] = share([r for r in plain if r["ok"]], "no_signal")
    summary["lines_all_read"] = {"qr": share(qr, "lines_ok"), "ocr": share(plain, "lines_ok")}
    signals: dict[str, int] = {}
    for r in results:
        for code in set(r["signals"]):
            name = f"{'ocr' if r['kind'] == 'ocr' else 'qr'}:{code}"
            signals[name] = signals.get(name, 0) + 1
    summary["signals"] = dict(sorted(signals.items()))
    return summary


def print_table(s: dict[str, Any], seed: int, n: int) -> None:
    print(f"\nreceipts: {n} (seed {seed}), read with images.intake + read_receipt")
    print(f"QR receipts, fields decoded right:      {fmt(s['qr_fields_right'])}   (goal >= 99%)")
    for kind, pair in s["qr_by_kind"].items():
        print(f"  {KIND_NAMES[kind]:36s} {fmt(pair)}")
    for name, pair in s["qr_by_field"].items():
        print(f"  field {name:30s} {fmt(pair)}")
    print(f"  code text read exactly               {fmt(s['qr_code_text_read'])}")
    print(f"  control (fiscal.read of the text)    {fmt(s['qr_control_clean'])} clean")
    print(f"  ZATCA read right, printed total agrees (no total_mismatch) {fmt(s['zatca_printed_total_agrees'])}")
    print(f"  KSeF read right, total from OCR right                      {fmt(s['ksef_total_from_ocr_right'])}")
    print(f"  with a fiscal warning                                      {fmt(s['qr_any_fiscal_warning'])}")
    print(f"  read right and no signal at all (no review needed)         {fmt(s['qr_right_and_no_signal'])}")
    print(f"  every product line read (amounts)                          {fmt(s['lines_all_read']['qr'])}")
    print(f"OCR-only receipts, total and date right: {fmt(s['ocr_total_and_date_right'])}   (goal >= 90%)")
    for name, pair in s["ocr_by_field"].items():
        print(f"  {name:37s} {fmt(pair)}")
    for country, pair in s["ocr_by_country"].items():
        print(f"  {country}: total and date                   {fmt(pair)}")
    print(f"  read right and no signal at all       {fmt(s['ocr_right_and_no_signal'])}")
    print(f"  every product line read (amounts)     {fmt(s['lines_all_read']['ocr'])}")
    print("\nseconds per receipt   median    p95    max   CPU median  CPU p95")
    for name, t in s["seconds"].items():
        label = {"qr": "QR receipts", "ocr": "OCR-only receipts", "all": "all"}[name]
        print(f"  {label:18s} {t['median']:7.2f} {t['p95']:6.2f} {t['max']:6.2f} {t['cpu_median']:11.2f} {t['cpu_p95']:8.2f}")
    print("\nsignals (receipts):", ", ".join(f"{k} {v}" for k, v in s["signals"].items()) or "none")


def warm_up(seed: int) -> float:
    """Read one OCR-only receipt per country, untimed by the benchmark, so the models are loaded."""
    started = time.perf_counter()
    for i in (1_000_001, 1_000_003, 1_000_005):  # odd, so no code: Polish, Arabic, English
        case = make_case(i, seed)
        read_receipt(images.intake(case.photo).image, country=case.country, now=NOW)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the summary and every receipt's result here")
    args = parser.parse_args()
    reason = ocr.available(("eng", "ara", "pol"))
    if reason:
        sys.exit(reason)

    started_at = dt.datetime.now(dt.timezone.utc)
    warm = warm_up(args.seed)
    busy0, wall0, cpu0 = machine_cpu()[0], time.perf_counter(), time.process_time()
    results = []
    for i in range(args.receipts):
        case = make_case(i, args.seed)
        busy_case, cpu_case = machine_cpu()[0], time.process_time()
        r = run_one(case)
        r["others_cpu_seconds"] = machine_cpu()[0] - busy_case - (time.process_time() - cpu_case)
        results.append(r)
        if not r["ok"] or r.get("control"):
            print("  miss " + describe_miss(r) + (f"; control: {r['control']}" if r.get("control") else ""), flush=True)
    elapsed, own = time.perf_counter() - wall0, time.process_time() - cpu0
    others = machine_cpu()[0] - busy0 - own  # includes rendering and photographing the receipts (ours)

    summary = summarise(results)
    print_table(summary, args.seed, len(results))
    print(f"\nrun: {elapsed:.0f} s wall, this process {own:.0f} s CPU (incl. making the photos), others' CPU "
          f"{others / elapsed:.2f} cores on average; warm-up {warm:.1f} s; code {git_revision()}; "
          f"Python {platform.python_version()}")
    if args.json:
        meta = {"seed": args.seed, "receipts": args.receipts, "started_at": started_at.isoformat(),
                "code": git_revision(), "elapsed_seconds": elapsed, "others_cores": others / elapsed,
                "warm_up_seconds": warm}
        args.json.write_text(json.dumps({"meta": meta, "summary": summary, "results": results}, indent=1, default=str))


if __name__ == "__main__":
    main()

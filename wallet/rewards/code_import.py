"""Importing a vendor's CSV of codes into a reward's pool, line by line.

The file is read as a stream, one physical line at a time (at most ``MAX_LINE`` bytes each),
decoded as strict UTF-8 (a BOM is allowed) and split by the ``csv`` module; codes are sealed
(``wallet.rewards.codes``) and inserted a thousand at a time with ON CONFLICT DO NOTHING on
the lookup hash. Nothing but the current batch is held in memory: a duplicate is found by
the database, not by a set of everything read. A code the insert skipped was already there:
if this very import put it there, the line repeats an earlier line of the file; otherwise
the program already held it (from an earlier upload, or another reward's). So uploading the
same file again imports nothing and says so line by line.

The first line is the header: a ``code`` column, optionally ``expires_at`` (an ISO date or
time; a date means the end of that day, UTC; also DD.MM.YYYY) and ``pin``; other columns
are ignored. Commas, or semicolons or tabs when the header uses them (a spreadsheet's export
in Poland uses semicolons). Lines are numbered from 1, the header being line 1.

Everything happens in the caller's transaction: a file refused halfway (not UTF-8, too many
rows) leaves nothing imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db import insert_ignoring, is_postgres
from wallet.rewards.codes import CodeRefused, CodeVault
from wallet.rewards.errors import CodeFileTooLarge, CodeFileUnreadable, InvalidRewardInput, RewardNotFound
from wallet.rewards.models import CodeImport, Reward, RewardCode

MAX_LINE = 4096
BATCH = 1000
LIST_CAP = 100  # line numbers listed per kind of problem; the counts are always whole
PROBLEMS = ("duplicates_in_file", "already_held", "blank", "too_long", "bad_characters", "bad_expiry", "malformed")
_DMY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


@dataclass
class ImportReport:
    import_id: int
    rows: int = 0
    imported: int = 0
    lines: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in PROBLEMS})
    counts: dict[str, int] = field(default_factory=lambda: {name: 0 for name in PROBLEMS})

    def refuse(self, problem: str, line: int) -> None:
        self.counts[problem] += 1
        if len(self.lines[problem]) < LIST_CAP:
            self.lines[problem].append(line)

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "rows": self.rows, "imported": self.imported, **self.lines,
                "counts": dict(self.counts), "lists_capped_at": LIST_CAP}


def _lines(stream: BinaryIO, digest: Any) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the line break) per physical line; None for a line over MAX_LINE."""
    number = 0
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return
        digest.update(raw)
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the over-long line
                raw = stream.readline(MAX_LINE + 1)
                digest.update(raw)
            yield number, None
            continue
        yield number, raw.rstrip(b"\r\n")


def _text(raw: bytes, number: int) -> str:
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodeFileUnreadable(f"line {number} is not UTF-8 text (byte {exc.start + 1}); save the file as "
                                 "CSV UTF-8 and upload it again; nothing was imported", line=number) from exc


def _split(text: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return None


def _expiry(value: str, now: dt.datetime) -> dt.datetime | None:
    """The moment a code stops working, or None when ``value`` is empty. Raises ``ValueError``."""
    value = value.strip()
    if not value:
        return None
    match = _DMY.fullmatch(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        value = f"{year:04d}-{month:02d}-{day:02d}"
    if len(value) == 10:
        at = dt.datetime.combine(dt.date.fromisoformat(value) + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    else:
        at = dt.datetime.fromisoformat(value)
        at = at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at.astimezone(dt.timezone.utc)
    if not 2000 <= at.year <= 2100 or at <= now:
        raise ValueError("in the past or out of range")
    return at


class _Batch:
    """Up to BATCH sealed codes, unique by hash within the batch, waiting to be inserted."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, dict[str, Any]]] = {}

    def add(self, report: ImportReport, line: int, values: dict[str, Any]) -> None:
        if values["lookup_hash"] in self.rows:
            report.refuse("duplicates_in_file", line)
        else:
            self.rows[values["lookup_hash"]] = (line, values)


# On PostgreSQL a batch goes as four arrays (unnest), in psycopg's binary format: one statement of
# eight parameters. A multi-row VALUES of 11,000 placeholders cost psycopg 80 ms a batch just to
# rewrite the query; the same arrays in text format, 21 ms to encode; in binary, 3 ms. SQLAlchemy
# would send them as text (its placeholders are %(name)s), so this goes to the driver's cursor, on
# the session's own connection and transaction.
_PG_INSERT = """
    INSERT INTO reward_codes (reward_id, lookup_hash, key_id, ciphertext, pin_ciphertext, source, status,
                              expires_at, import_id, created_at, issued_at)
    SELECT %b, v.h, %b, v.c, v.p, 'vendor', 'available', v.e, %b, %b, NULL
    FROM unnest(CAST(%b AS varchar[]), CAST(%b AS bytea[]), CAST(%b AS bytea[]), CAST(%b AS timestamptz[]))
         AS v(h, c, p, e)
    ON CONFLICT (lookup_hash) DO NOTHING
    RETURNING lookup_hash
"""


def _insert(session: Session, values: list[dict[str, Any]]) -> set[str]:
    """Insert the rows that are new; returns the lookup hashes inserted."""
    if is_postgres(session):
        first = values[0]
        driver = session.connection().connection.driver_connection
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(_PG_INSERT, (
                first["reward_id"], first["key_id"], first["import_id"], first["created_at"],
                [v["lookup_hash"] for v in values], [v["ciphertext"] for v in values],
                [v["pin_ciphertext"] for v in values], [v["expires_at"] for v in values]))
            return {row[0] for row in cursor.fetchall()}
    # SQLAlchemy's "insertmanyvalues": multi-row VALUES with RETURNING, compiled once.
    table = RewardCode.__table__
    return set(session.scalars(
        insert_ignoring(session, table).on_conflict_do_nothing(index_elements=["lookup_hash"])
        .returning(table.c.lookup_hash), values))


def _flush(session: Session, batch: _Batch, report: ImportReport) -> None:
    if not batch.rows:
        return
    inserted = _insert(session, [row for _, row in batch.rows.values()])
    report.imported += len(inserted)
    skipped = [digest for digest in batch.rows if digest not in inserted]
    if skipped:
        holder = dict(session.execute(select(RewardCode.lookup_hash, RewardCode.import_id)
                                      .where(RewardCode.lookup_hash.in_(skipped))).all())
        for digest in skipped:
            line = batch.rows[digest][0]
            report.refuse("duplicates_in_file" if holder.get(digest) == report.import_id else "already_held", line)
    batch.rows.clear()


def _cell(fields: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return fields[index] if index is not None and index < len(fields) else ""


def _header(fields: list[str] | None, number: int) -> dict[str, int]:
    names = [name.strip().lower() for name in fields or []]
    if "code" not in names:
        raise CodeFileUnreadable(f"line {number} must be the header, with a column called code "
                                 "(and optionally expires_at and pin)", line=number)
    return {name: names.index(name) for name in ("code", "expires_at", "pin") if name in names}


def import_codes(session: Session, *, reward_id: int, stream: BinaryIO, vault: CodeVault, user_id: int,
                 now: dt.datetime, max_rows: int, batch_size: int = BATCH) -> ImportReport:
    """Import the codes of a CSV read from ``stream`` into the reward's pool. Returns the report.

    Raises ``RewardNotFound``, ``InvalidRewardInput`` (a reward without a vendor pool),
    ``CodeFileUnreadable`` (not UTF-8, no header with a code column: nothing imported) and
    ``CodeFileTooLarge`` (more than ``max_rows`` codes: nothing imported).
    """
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise RewardNotFound("no such reward")
    if reward.code_source != "pool":
        raise InvalidRewardInput("this reward has no vendor pool: its codes are made by the program"
                                 if reward.code_source else "a physical reward has no codes", field="file")
    record = CodeImport(reward_id=reward.id, user_id=user_id, file_sha256="", created_at=now)
    session.add(record)
    session.flush()
    report = ImportReport(import_id=record.id)
    digest = hashlib.sha256()
    columns: dict[str, int] | None = None
    delimiter = ","
    batch = _Batch()
    for number, raw in _lines(stream, digest):
        if raw is None:
            if columns is None:
                raise CodeFileUnreadable(f"line {number} (the header) is longer than {MAX_LINE} bytes", line=number)
            report.rows += 1
            report.refuse("too_long", number)
            continue
        text = _text(raw, number)
        if columns is None:
            delimiter = ";" if text.count(";") > text.count(",") else "\t" if "\t" in text else ","
            columns = _header(_split(text, delimiter), number)
            continue
        report.rows += 1
        if report.rows > max_rows:
            raise CodeFileTooLarge(f"more than {max_rows:,} codes in one file; split it and upload the parts; "
                                   "nothing was imported")
        fields = _split(text, delimiter)
        if fields is None:
            report.refuse("malformed", number)
            continue
        try:
            expires_at = _expiry(_cell(fields, columns, "expires_at"), now)
        except ValueError:
            report.refuse("bad_expiry", number)
            continue
        try:
            sealed = vault.seal(_cell(fields, columns, "code"), pin=_cell(fields, columns, "pin") or None)
        except CodeRefused as refused:
            report.refuse(refused.reason, number)
            continue
        batch.add(report, number, {
            "reward_id": reward.id, "lookup_hash": sealed.lookup_hash, "key_id": sealed.key_id,
            "ciphertext": sealed.ciphertext, "pin_ciphertext": sealed.pin_ciphertext, "source": "vendor",
            "status": "available", "expires_at": expires_at, "import_id": record.id, "created_at": now,
            "issued_at": None})
        if len(batch.rows) >= batch_size:
            _flush(session, batch, report)
    if columns is None:
        raise CodeFileUnreadable("the file is empty: the first line is the header, with a column called code", line=1)
    _flush(session, batch, report)
    record.file_sha256 = digest.hexdigest()
    record.rows, record.imported = report.rows, report.imported
    record.refused = sum(report.counts.values())
    reward.updated_at = now  # a refilled pool may warn of low stock again (stock.warn_if_low)
    session.flush()
    return report

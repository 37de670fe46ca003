"""Apple's PassKit web service, the domain half: which phones want updates of which passes.

Apple's protocol (developer.apple.com, "Wallet Passes web service"):
- a phone registers itself (its device library id and push token) for a pass; unregisters;
- asks which of its passes changed since a tag it got last time (``passesUpdatedSince``);
- fetches a pass, with ``If-Modified-Since``.

A pass row (``WalletPass``) is made when the member first downloads the pass (with the hash
of what was served), or at the latest when a phone registers it. Its ``updated_at``, in whole
seconds and moving forward by at least a second at each change, is both the pass's
Last-Modified and the tag: a phone that fetched a pass within the second it changed would
otherwise be told "not modified" for good.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from infra.db import insert_ignoring
from passes import tracking
from passes.cards import parse_serial
from passes.models import PassRegistration, WalletPass
from wallet.members.models import Member
from wallet.rewards.models import Voucher


def whole_second(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


def next_update_time(previous: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """A time after ``previous`` by a whole second at least: Last-Modified and tags only move forward."""
    moment = whole_second(now)
    if previous is not None and moment <= previous:
        moment = previous + dt.timedelta(seconds=1)
    return moment


def tag_of(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


def moment_of(tag: str | None) -> dt.datetime | None:
    """The time a tag names, or None for no tag or one we did not make (then: every pass)."""
    if not tag or not tag.isdigit() or len(tag) > 12:
        return None
    return dt.datetime.fromtimestamp(int(tag), dt.timezone.utc)


def owner_of(session: Session, serial: str) -> tuple[str, int, int | None] | None:
    """``(kind, member_id, voucher_id)`` of a serial we issued for a thing that exists, else None."""
    parsed = parse_serial(serial)
    if parsed is None:
        return None
    kind, thing_id = parsed
    if kind == "member":
        return (kind, thing_id, None) if session.get(Member, thing_id) is not None else None
    voucher = session.get(Voucher, thing_id)
    return (kind, voucher.member_id, voucher.id) if voucher is not None else None


def ensure_pass(session: Session, serial: str, *, now: dt.datetime, content_hash: str | None = None,
                google_hash: str | None = None) -> WalletPass | None:
    """The serial's pass row, made if missing (one INSERT ... ON CONFLICT DO NOTHING, safe when two
    requests race). A hash given fills the row's when it has none: the phone holds that version.
    Returns None for a serial that names nothing."""
    row = session.scalar(select(WalletPass).where(WalletPass.serial_number == serial))
    if row is None:
        owner = owner_of(session, serial)
        if owner is None:
            return None
        kind, member_id, voucher_id = owner
        if kind == "member":  # before the row: a serve that stops between the two leaves no pass unwatched
            _now_held(session, member_id, now)
        session.execute(insert_ignoring(session, WalletPass).values(
            serial_number=serial, kind=kind, member_id=member_id, voucher_id=voucher_id, content_hash=content_hash,
            notified_hash=content_hash, google_hash=google_hash, updated_at=whole_second(now), created_at=now,
        ).on_conflict_do_nothing(index_elements=["serial_number"]))
        row = session.scalar(select(WalletPass).where(WalletPass.serial_number == serial))
        assert row is not None
        return row
    if row.kind == "member":  # also for a row a version before the flag made
        _now_held(session, row.member_id, now)
    if content_hash is not None and row.content_hash is None:
        row.content_hash = row.notified_hash = content_hash
    if google_hash is not None and row.google_hash is None:
        row.google_hash = google_hash
    session.flush()
    return row


def _now_held(session: Session, member_id: int, now: dt.datetime) -> None:
    """From now on the till queues this member's pass updates (it reads the flag with the member it
    locks); a no-op once set. A purchase that read the flag a moment before it was set, and commits
    after this pass was made without it, is caught by the update queued here when the flag
    changes: for the minute after this one, so it runs a minute or two later, when such a purchase
    has long committed."""
    flipped = session.execute(update(Member).where(Member.id == member_id, Member.holds_wallet_pass.is_(False))
                              .values(holds_wallet_pass=True).execution_options(synchronize_session=False)).rowcount
    if flipped:
        tracking.schedule(session, "member", member_id, now + dt.timedelta(seconds=tracking.COALESCE_SECONDS))


def register(session: Session, *, serial: str, device_id: str, push_token: str, now: dt.datetime,
             content_hash: str | None) -> bool | None:
    """Register the phone for the pass. True: newly (Apple's 201); False: it already was (200; a
    new push token replaces the old). None: no such pass."""
    row = ensure_pass(session, serial, now=now, content_hash=content_hash)
    if row is None:
        return None
    existing = session.scalar(select(PassRegistration).where(PassRegistration.pass_id == row.id,
                                                             PassRegistration.device_library_id == device_id))
    if existing is not None:
        existing.push_token = push_token
        session.flush()
        return False
    created = session.execute(insert_ignoring(session, PassRegistration).values(
        device_library_id=device_id, pass_id=row.id, push_token=push_token, created_at=now,
    ).on_conflict_do_nothing(index_elements=["device_library_id", "pass_id"]))
    return bool(created.rowcount)


def unregister(session: Session, *, serial: str, device_id: str) -> bool:
    """Forget the phone for the pass; True when it was registered."""
    pass_id = select(WalletPass.id).where(WalletPass.serial_number == serial).scalar_subquery()
    done = session.execute(delete(PassRegistration).where(PassRegistration.device_library_id == device_id,
                                                          PassRegistration.pass_id == pass_id)
                           .execution_options(synchronize_session=False))
    return bool(done.rowcount)


def remove_push_tokens(session: Session, pass_id: int, push_tokens: list[str]) -> int:
    """Drop the registrations APNs said are gone (410); returns how many."""
    if not push_tokens:
        return 0
    done = session.execute(delete(PassRegistration).where(PassRegistration.pass_id == pass_id,
                                                          PassRegistration.push_token.in_(push_tokens))
                           .execution_options(synchronize_session=False))
    return int(done.rowcount or 0)


def updated_since(session: Session, *, device_id: str, since: str | None) -> tuple[list[str], str] | None:
    """The serials of the phone's passes changed after the tag, and the tag to ask with next time;
    None when none changed (Apple's 204)."""
    query = (select(WalletPass.serial_number, WalletPass.updated_at)
             .join(PassRegistration, PassRegistration.pass_id == WalletPass.id)
             .where(PassRegistration.device_library_id == device_id).order_by(WalletPass.serial_number))
    after = moment_of(since)
    if after is not None:
        query = query.where(WalletPass.updated_at > after)
    rows = session.execute(query).all()
    if not rows:
        return None
    return [serial for serial, _ in rows], tag_of(max(updated for _, updated in rows))


def pass_row(session: Session, serial: str, *, lock: bool = False) -> WalletPass | None:
    """The serial's pass row, or None. ``lock``: FOR UPDATE (two update jobs of one pass take turns)."""
    query = select(WalletPass).where(WalletPass.serial_number == serial)
    return session.scalar(query.with_for_update() if lock else query)

"""Ledger accounts: a member's points account (locked for a posting), the program's accounts.

An account is its own row with an owner, not a column of the member: today a member owns
one points account; a partner company whose staff collect into one shared account can
follow without rewriting the ledger.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db import insert_ignoring
from wallet.ledger.models import PROGRAM_OWNER, AccountKind, LedgerAccount


def _get_or_create_account(
    session: Session, owner_type: str, owner_id: int, kind: str, now: dt.datetime, *, lock: bool
) -> LedgerAccount:
    query = select(LedgerAccount).where(
        LedgerAccount.owner_type == owner_type, LedgerAccount.owner_id == owner_id, LedgerAccount.kind == kind
    )
    if lock:
        query = query.with_for_update()
    account = session.scalar(query)
    if account is not None:
        return account
    # Made if missing: an upsert, not a savepoint, so a read outside a transaction may make it too.
    # A concurrent transaction that made it meanwhile wins; theirs is read (and locked).
    session.execute(insert_ignoring(session, LedgerAccount).values(
        owner_type=owner_type, owner_id=owner_id, kind=kind, balance=0, lifetime_earned=0, created_at=now)
        .on_conflict_do_nothing(index_elements=["owner_type", "owner_id", "kind"]))
    account = session.scalar(query)
    assert account is not None
    return account


def member_account(session: Session, member_id: int, now: dt.datetime, *, lock: bool = False) -> LedgerAccount:
    """The member's points account, created on first use; locked for the transaction with ``lock``."""
    return _get_or_create_account(session, "member", member_id, AccountKind.POINTS, now, lock=lock)


# Program account ids per database: the migrations create them and nothing deletes an account
# (the application's role may not), so an id read once stays right for the process.
_PROGRAM_IDS: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


def program_account(session: Session, kind: AccountKind, now: dt.datetime) -> LedgerAccount:
    return _get_or_create_account(session, *PROGRAM_OWNER, kind, now, lock=False)


def program_account_id(session: Session, kind: AccountKind, now: dt.datetime) -> int:
    """The id of the program's account of ``kind`` (issuance, redemption, expiry, adjustment), cached."""
    ids = _PROGRAM_IDS.setdefault(session.get_bind().engine, {})
    if kind not in ids:
        ids[kind] = program_account(session, kind, now).id
    return ids[kind]

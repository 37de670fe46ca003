"""The points ledger: append-only, double-entry (models, accounts, posting, reading).

An *entry* moves points into (+) or out of (-) one *account*; a *transaction* is a
set of entries that sums to zero. A member's points account is balanced against the
program's accounts: issuance (points created), redemption (points spent), expiry
(points that lapsed) and adjustment (an admin's correction). Nothing is updated or
deleted: a mistake is undone by a reversal transaction that points at the original,
and the database refuses a second reversal of the same transaction.

What always holds, for every member account, and is checked by the tests:
cached ``balance`` = sum of its entries = sum of ``remaining`` over its lots >= 0.

Earned points go into *lots* with their own expiry. Spending consumes the oldest
lots first, and every consumption is a *lot movement*, so a reversal can put points
back into the very lots they came from.

Concurrency: every posting locks the member's account row first (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite the whole write transaction is serialised, see
``infra.db``) and checks the balance under that lock. A posting locks exactly one
member account and never updates a program account (their balances are the sum of
their entries, read when needed), so there is no second lock to take in the wrong
order and no hot row that every posting would queue on.

Idempotency: a transaction may carry a key, unique in the database. Posting again
with a key already used returns the first transaction when it describes the same
movement, and raises ``IdempotencyConflict`` when it does not.
"""

from wallet.ledger.accounts import member_account, program_account, program_account_id
from wallet.ledger.credit import Credited, NewRow, credit_locked
from wallet.ledger.models import (
    LIVE,
    PROGRAM_OWNER,
    QUALIFYING,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    LotMovement,
    PointLot,
    QualifyingDay,
    TxType,
)
from wallet.ledger.posting import Posting, adjust, earn, expire_due, reverse, spend
from wallet.ledger.reading import EXPIRING_DAYS, earned_since, expiring, expiring_days, expiring_for, history, qualifying_points

__all__ = [
    "Credited", "NewRow", "credit_locked", "EXPIRING_DAYS", "LIVE", "PROGRAM_OWNER", "QUALIFYING", "AccountKind", "LedgerAccount", "LedgerEntry", "LedgerTransaction",
    "LotMovement", "PointLot", "QualifyingDay", "TxType", "Posting", "member_account", "program_account", "program_account_id",
    "adjust", "earn", "expire_due", "reverse", "spend", "earned_since", "expiring", "expiring_days", "expiring_for", "history", "qualifying_points",
]

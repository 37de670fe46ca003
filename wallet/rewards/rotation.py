"""Re-encrypting stored codes with the newest key, so an old key can be dropped.

Put a new key first in ``VOUCHER_CODE_KEYS`` (new codes are sealed with it at once, old ones
still open with theirs), run ``flask rewards rotate-codes``, then remove the old key. Rows are
taken a batch at a time with ``SKIP LOCKED`` and each batch is committed, so the run can stop
anywhere and start again, and redemptions meanwhile are not held up. The lookup hash does not
change (it is not made with these keys), so the till finds every code throughout.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wallet.rewards.codes import CodeVault
from wallet.rewards.models import RewardCode

BATCH = 1000


def reseal_batch(session: Session, vault: CodeVault, *, after_id: int = 0, limit: int = BATCH) -> tuple[int, int | None]:
    """Re-encrypt up to ``limit`` rows under an older key, past ``after_id``; returns (how many, the
    last id looked at, None when none was left). Raises ``LookupError`` for a row whose key is gone."""
    rows = session.scalars(
        select(RewardCode).where(RewardCode.key_id != vault.newest, RewardCode.id > after_id)
        .order_by(RewardCode.id).limit(limit).with_for_update(skip_locked=True, of=RewardCode)).all()
    done = sum(vault.reseal(row) for row in rows)
    session.flush()
    return done, rows[-1].id if rows else None


def reseal_all(factory: sessionmaker[Session], vault: CodeVault, *, batch: int = BATCH) -> int:
    """``reseal_batch`` until no row under an older key is left, committing each; returns how many."""
    total, after = 0, 0
    while True:
        with factory() as session:
            done, last = reseal_batch(session, vault, after_id=after, limit=batch)
            session.commit()
        if last is None:
            return total
        total, after = total + done, last

"""Taking stock: codes out of a vendor's pool, codes the program makes, physical stock, and the
warning when a reward runs low.

*No code is ever issued twice*, even when many partners take the last codes at once: a claim
locks the codes it takes (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two claims
never pick the same row, and the one that cannot find enough unlocked codes is told the
reward is out of stock instead of waiting. The UNIQUE ``vouchers.code_id`` is the last word
should anything slip. (On SQLite the whole write transaction is serialised: ``infra.db``.)
Under that contention a claim may answer "out of stock" while another transaction holds the
last codes and later rolls back; the partner tries again and gets one.

Codes are claimed soonest-expiring first, so a vendor's short-lived codes go before they lapse,
and never one with less than a day to live (``catalog.MIN_CODE_LIFE``).

A stock figure (generated codes, physical rewards) goes down by a conditional UPDATE (``stock
>= wanted``), which queues redemptions of that one reward on its row; a pool claim touches
only the codes, so redemptions of a pooled reward do not queue on anything they share.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.db import insert_ignoring
from infra.jobs import Job, enqueue
from wallet.rewards import codes
from wallet.rewards.catalog import AVAILABLE, usable
from wallet.rewards.codes import CodeVault
from wallet.rewards.errors import OutOfStock
from wallet.rewards.models import Reward, RewardCode

logger = logging.getLogger(__name__)

LOW_STOCK_JOB = "rewards.low_stock"
GENERATE_ATTEMPTS = 5


def _claim_pool(session: Session, reward: Reward, quantity: int, now: dt.datetime) -> list[RewardCode]:
    taken = list(session.scalars(
        select(RewardCode)
        .where(RewardCode.reward_id == reward.id, AVAILABLE, usable(now))
        .order_by(RewardCode.expires_at.asc().nulls_last(), RewardCode.id)
        .limit(quantity)
        .with_for_update(skip_locked=True, of=RewardCode)
    ))
    if len(taken) < quantity:
        raise OutOfStock(wanted=quantity, left=len(taken))
    for code in taken:
        code.status, code.issued_at = "issued", now
    session.flush()
    return taken


def take_stock(session: Session, reward: Reward, quantity: int) -> None:
    """Lower the reward's stock figure by ``quantity`` (nothing when it has none: unlimited).
    Raises ``OutOfStock``."""
    if reward.stock is None:
        return
    done = session.execute(update(Reward).where(Reward.id == reward.id, Reward.stock >= quantity)
                           .values(stock=Reward.stock - quantity).execution_options(synchronize_session=False))
    session.refresh(reward, ["stock"])
    if done.rowcount == 0:
        raise OutOfStock(wanted=quantity, left=reward.stock or 0)


def give_back(session: Session, reward: Reward, quantity: int) -> None:
    """Put ``quantity`` back into the stock figure (a cancelled order); nothing for unlimited stock."""
    if reward.stock is not None:
        session.execute(update(Reward).where(Reward.id == reward.id, Reward.stock.is_not(None))
                        .values(stock=Reward.stock + quantity).execution_options(synchronize_session=False))
        session.refresh(reward, ["stock"])


def _generate(session: Session, reward: Reward, now: dt.datetime, vault: CodeVault) -> RewardCode:
    for _ in range(GENERATE_ATTEMPTS):
        sealed = vault.seal(codes.generate())
        code_id = session.scalar(
            insert_ignoring(session, RewardCode).values(
                reward_id=reward.id, lookup_hash=sealed.lookup_hash, key_id=sealed.key_id,
                ciphertext=sealed.ciphertext, pin_ciphertext=None, source="generated", status="issued",
                expires_at=None, import_id=None, created_at=now, issued_at=now)
            .on_conflict_do_nothing(index_elements=["lookup_hash"]).returning(RewardCode.id))
        if code_id is not None:  # 75 random bits: a clash is a miracle, and is simply drawn again
            code = session.get(RewardCode, code_id)
            assert code is not None
            return code
    raise RuntimeError("could not draw a free voucher code")


def claim(session: Session, reward: Reward, quantity: int, *, now: dt.datetime, vault: CodeVault) -> list[RewardCode]:
    """``quantity`` codes for vouchers of ``reward``, now issued: from its pool, or made (after
    taking its stock). Raises ``OutOfStock``; the caller's transaction rolls back what was taken."""
    if reward.code_source == "pool":
        taken = _claim_pool(session, reward, quantity, now)
    else:
        take_stock(session, reward, quantity)
        taken = [_generate(session, reward, now, vault) for _ in range(quantity)]
    warn_if_low(session, reward, now)
    return taken


def left(session: Session, reward: Reward, now: dt.datetime, *, at_most: int) -> int | None:
    """How many can still be handed out, counted up to ``at_most`` (cheap on a big pool); None: unlimited."""
    if reward.code_source != "pool":
        return reward.stock
    bounded = (select(RewardCode.id).where(RewardCode.reward_id == reward.id, AVAILABLE, usable(now))
               .limit(at_most).subquery())
    return int(session.scalar(select(func.count()).select_from(bounded)) or 0)


def warn_if_low(session: Session, reward: Reward, now: dt.datetime) -> None:
    """Queue the low-stock warning when the reward has fewer than its threshold left: once per
    reward until it is refilled or changed (the job's dedupe key names its last change)."""
    remaining = left(session, reward, now, at_most=reward.low_stock_threshold)
    if remaining is None or remaining >= reward.low_stock_threshold:
        return
    key = f"{LOW_STOCK_JOB}:{reward.id}:{int(reward.updated_at.timestamp())}"
    # Looked up first: the insert below would queue every redemption after the crossing behind
    # the first one's transaction (a UNIQUE insert waits for a concurrent one with the same key).
    if session.scalar(select(Job.id).where(Job.dedupe_key == key)) is None:
        enqueue(session, LOW_STOCK_JOB, now=now, dedupe_key=key, reward_id=reward.id)


def report_low(session: Session, reward_id: int, now: dt.datetime) -> int | None:
    """Log the warning (the job's work); returns what is left, or None when the reward is gone or has enough."""
    reward = session.get(Reward, reward_id)
    if reward is None:
        return None
    remaining = left(session, reward, now, at_most=reward.low_stock_threshold)
    if remaining is None or remaining >= reward.low_stock_threshold:
        return None
    logger.warning("rewards: reward %s (%s, %s) is running low: %s left, below its threshold of %s; %s",
                   reward.id, reward.names.get("en"), reward.country, remaining, reward.low_stock_threshold,
                   "upload more codes" if reward.code_source == "pool" else "raise its stock")
    return remaining

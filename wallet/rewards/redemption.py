"""Redeeming a reward, in the caller's one database transaction: points out through the ledger
(oldest lots first, an entry naming the reward), codes out of the pool (or stock taken), and
vouchers into the wallet, or an order on its way. Any refusal raises, and the caller's
rollback leaves nothing of it: no points spent, no code taken.

Lock order, fixed: the member's points account first, then the reward's codes (or its stock
row). The account lock is what makes a member's limits and balance exact when the member
redeems from two phones at once (the second waits, then counts the first's vouchers); taking
it before any code means a transaction never holds codes while it waits for an account, so
two redemptions can never wait on each other in a circle, and a member queued behind its own
other redemption keeps no code from anyone meanwhile.

Each voucher is bought by a ledger transaction of its own (a redemption of three is three
debits), so an admin cancelling one voucher refunds exactly that voucher with a reversal. An
order is one debit, refunded whole when it is cancelled.

Redeeming twice by mistake is the client's ``Idempotency-Key`` (``api.idempotency``): the
retry gets the first answer, and this code runs once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from wallet import ledger
from wallet.errors import InsufficientPoints
from wallet.members.models import Member
from wallet.rewards import catalog, limits, orders, stock
from wallet.rewards.codes import CodeVault
from wallet.rewards.errors import InvalidRewardInput, NotEnoughPoints, RewardNotFound
from wallet.rewards.models import Order, Redemption, Reward, Voucher
from wallet.rewards.vouchers import new_voucher

MAX_QUANTITY = 10


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    reward: Reward
    vouchers: list[Voucher]
    order: Order | None
    balance: int

    @property
    def id(self) -> int:
        return self.redemption.id

    @property
    def points_spent(self) -> int:
        return self.redemption.points_spent


def _spend(session: Session, member: Member, points: int, now: dt.datetime, description: str,
           redemption: Redemption) -> ledger.LedgerTransaction:
    try:
        return ledger.spend(session, member_id=member.id, points=points, now=now, description=description[:255],
                            reference=f"redemption:{redemption.id}")
    except InsufficientPoints as exc:  # points that lapsed at this very moment (the spend sweeps due lots)
        raise NotEnoughPoints(needed=redemption.points_spent, balance=exc.balance) from exc


def redeem(session: Session, *, member: Member, reward_id: int, now: dt.datetime, vault: CodeVault,
           quantity: int = 1, address: dict[str, Any] | None = None) -> Redeemed:
    """Spend the member's points on ``quantity`` of the reward.

    Raises ``RewardNotFound`` (not in the member's catalog), ``NotForYourTier``,
    ``NotAvailableNow``, ``InvalidRewardInput`` (quantity, delivery address), ``LimitReached``,
    ``NotEnoughPoints`` and ``OutOfStock``: each a refusal with a reason the partner can read.
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidRewardInput(f"a redemption is of 1 to {MAX_QUANTITY}", field="quantity")
    reward = catalog.offered_to(session, reward_id, member, now)
    if reward.kind == "physical" and not address:
        raise InvalidRewardInput("a physical reward is shipped: give a delivery address", field="delivery_address")
    if reward.kind != "physical" and address:
        raise InvalidRewardInput("only physical rewards are shipped; this one goes into your wallet",
                                 field="delivery_address")
    total = reward.points_cost * quantity

    # The fixed lock order (module docstring): the account, then codes or stock.
    account = ledger.member_account(session, member.id, now, lock=True)
    limits.check(session, reward, member, quantity, now)
    if account.balance < total:
        raise NotEnoughPoints(needed=total, balance=account.balance)

    redemption = Redemption(member_id=member.id, reward_id=reward.id, quantity=quantity, points_spent=total,
                            created_at=now)
    session.add(redemption)
    session.flush()
    name = reward.name_in(member.language)
    issued: list[Voucher] = []
    order = None
    if reward.kind == "physical":
        stock.take_stock(session, reward, quantity)
        stock.warn_if_low(session, reward, now)
        tx = _spend(session, member, total, now, f"Redeemed: {name}" + (f" x{quantity}" if quantity > 1 else ""),
                    redemption)
        order = orders.place(session, reward=reward, member=member, redemption=redemption, transaction=tx,
                             quantity=quantity, address=address or {}, now=now)
    else:
        for code in stock.claim(session, reward, quantity, now=now, vault=vault):
            tx = _spend(session, member, reward.points_cost, now, f"Redeemed: {name}", redemption)
            issued.append(new_voucher(session, reward=reward, member=member, code=code, now=now,
                                      points=reward.points_cost, transaction_id=tx.id, redemption_id=redemption.id))
    session.flush()
    return Redeemed(redemption=redemption, reward=reward, vouchers=issued, order=order, balance=account.balance)


def grant(session: Session, *, member: Member, reward_id: int, now: dt.datetime, vault: CodeVault) -> Voucher:
    """A voucher of the reward given, not bought (a campaign's offer): no points move, no limit
    applies. The reward must be switched on and for the member's country. Raises
    ``RewardNotFound``, ``InvalidRewardInput`` (a physical reward) and ``OutOfStock``."""
    reward = session.get(Reward, reward_id)
    if reward is None or not reward.active or reward.country != member.country:
        raise RewardNotFound("this offer's reward is not offered in your country any more")
    if reward.kind == "physical":
        raise InvalidRewardInput("a campaign offer is a voucher, not a shipped reward", field="reward_id")
    (code,) = stock.claim(session, reward, 1, now=now, vault=vault)
    voucher = new_voucher(session, reward=reward, member=member, code=code, now=now, source="offer")
    session.flush()
    return voucher

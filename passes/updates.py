"""Keeping passes current: the content of a pass now, and the jobs that announce a change.

``passes.tracking`` queues ``passes.member_changed`` / ``passes.voucher_changed`` after a
change; the job (safe to run twice or late) rebuilds the pass's content and compares hashes:

1. Apple (a pass that was downloaded): a new content hash moves ``updated_at`` (the pass's
   Last-Modified and tag) and is committed *before* any push, so a phone woken by the push
   finds it. Each registered phone then gets one empty push; a 410 removes its
   registration. ``notified_hash`` is committed after the pushes: a job that dies between
   the two pushes again on its next run; one that finds the hash unchanged sends nothing.
2. Google (an object put in a save link): the object is PATCHed when its hash changed; a
   404 means the member never saved it (nothing to update, tried again at the next change).

A push or PATCH that failed otherwise raises ``PassUpdateFailed``, and the job is retried.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from infra.jobs import JobContext, job
from passes import apns, cards, registrations
from passes.apple import Coupon, StoreCard, build_coupon, build_store_card, content_hash
from passes.google import WalletApiError, WalletClient
from passes.google.client import DEFAULT_ENDPOINT
from passes.identity import apple_identity
from passes.models import WalletPass
from passes.tracking import MEMBER_JOB, VOUCHER_JOB
from wallet.members.models import Member
from wallet.rewards.codes import CodeVault, vault_from_settings

logger = logging.getLogger(__name__)


class PassUpdateFailed(Exception):
    """Some phones or Google did not take the update; the job runs again."""


@dataclasses.dataclass(frozen=True)
class Contents:
    apple: StoreCard | Coupon
    google: dict[str, Any] | None  # None without GOOGLE_WALLET_*
    google_kind: str  # "loyalty" | "offer"


def contents(session: Session, serial: str, *, settings: Any, vault: CodeVault, now: Any) -> Contents | None:
    """What the pass of ``serial`` shows now, for Apple and Google; None when it names nothing."""
    parsed = cards.parse_serial(serial)
    if parsed is None:
        return None
    kind, thing_id = parsed
    google = settings.google_wallet_configured
    if kind == "member":
        member = session.get(Member, thing_id)
        if member is None:
            return None
        facts = cards.member_facts(session, member, now)
        return Contents(cards.store_card(facts, settings),
                        cards.google_member_object(facts, settings) if google else None, "loyalty")
    voucher = cards.voucher_facts(session, thing_id, vault, now)
    if voucher is None:
        return None
    return Contents(cards.coupon(voucher, settings), cards.google_voucher_object(voucher, settings) if google else None,
                    "offer")


def build(content: StoreCard | Coupon, identity: Any) -> bytes:
    return build_store_card(content, identity) if isinstance(content, StoreCard) else build_coupon(content, identity)


def code_vault(resources: Any) -> CodeVault:
    return resources.get("code_vault", vault_from_settings)  # type: ignore[no-any-return]


def push_sender(ctx: JobContext) -> Any:
    """The process's APNs sender, built on first use (its provider token renews by the job clock)."""
    return ctx.resources.get("pass_push_sender", lambda settings: apns.build_sender(settings, ctx.clock))


def _google_client(settings: Any) -> WalletClient:
    return WalletClient(json.loads(settings.google_wallet_credentials),
                        endpoint=settings.google_wallet_endpoint or DEFAULT_ENDPOINT)


def google_client(resources: Any) -> WalletClient:
    return resources.get("google_wallet_client", _google_client)  # type: ignore[no-any-return]


def refresh(ctx: JobContext, serial: str) -> dict[str, Any]:
    """Bring the pass of ``serial`` up to date everywhere it is held; returns what was done."""
    settings, now = ctx.settings, ctx.clock()
    identity = apple_identity(ctx.resources)
    done: dict[str, Any] = {"changed": False, "pushed": 0, "removed": 0, "patched": False}
    with ctx.factory() as session:
        row = registrations.pass_row(session, serial, lock=True)
        if row is None:
            return done  # never downloaded nor saved: nobody holds it
        now_contents = contents(session, serial, settings=settings, vault=code_vault(ctx.resources), now=now)
        if now_contents is None:
            return done
        if row.content_hash is not None:
            fresh = content_hash(now_contents.apple, identity)
            if fresh != row.content_hash:
                row.content_hash = fresh
                row.updated_at = registrations.next_update_time(row.updated_at, now)
                done["changed"] = True
        need_push = row.notified_hash != row.content_hash
        tokens = [r.push_token for r in row.registrations] if need_push else []
        pushed_for, pass_id = row.content_hash, row.id
        patch: tuple[dict[str, Any], str] | None = None
        if now_contents.google is not None and row.google_hash is not None:
            google_hash = cards.object_hash(now_contents.google)
            if google_hash != row.google_hash:
                patch = (now_contents.google, google_hash)
        session.commit()

    failed: list[str] = []
    if need_push:
        outcomes = push_sender(ctx).send(tokens)
        gone = [o.push_token for o in outcomes if o.status == "gone"]
        failed = [o.reason or "failed" for o in outcomes if o.status == "failed"]
        done["pushed"] = sum(o.status == "sent" for o in outcomes)
        with ctx.factory() as session:
            done["removed"] = registrations.remove_push_tokens(session, pass_id, gone)
            if not failed:
                session.execute(update(WalletPass).where(WalletPass.id == pass_id,
                                                         WalletPass.content_hash == pushed_for)
                                .values(notified_hash=pushed_for))
            session.commit()
    if patch is not None:
        obj, google_hash = patch
        try:
            google_client(ctx.resources).patch_object(obj["id"], obj, kind=now_contents.google_kind)  # type: ignore[arg-type]
        except WalletApiError as exc:
            if exc.status != 404:
                raise PassUpdateFailed(f"Google Wallet: {serial}: {exc.message}") from exc
            logger.info("Google Wallet: %s was never saved; nothing to update", serial)
        else:
            done["patched"] = True
            with ctx.factory() as session:
                session.execute(update(WalletPass).where(WalletPass.id == pass_id).values(google_hash=google_hash))
                session.commit()
    if failed:
        raise PassUpdateFailed(f"APNs: {len(failed)} phone(s) did not take the update of {serial}: {failed[0]}")
    return done


@job(MEMBER_JOB)
def member_changed(ctx: JobContext, *, member_id: int) -> dict[str, Any]:
    return refresh(ctx, cards.member_serial(member_id))


@job(VOUCHER_JOB)
def voucher_changed(ctx: JobContext, *, voucher_id: int) -> dict[str, Any]:
    return refresh(ctx, cards.voucher_serial(voucher_id))

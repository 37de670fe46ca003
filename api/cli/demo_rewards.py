"""The demo's catalog: a few rewards of each kind, so a newcomer can redeem, see a voucher in the
wallet and take it at a till. Vendor codes are made up here and uploaded the way an admin would."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

from sqlalchemy.orm import Session

from wallet.rewards import catalog, code_import
from wallet.rewards.codes import CodeVault

VENDOR_CODES = 40


def seed_rewards(session: Session, *, today: dt.datetime, admin_id: int, vault: CodeVault, rng: random.Random) -> int:
    """Write the demo rewards; returns how many. The caller commits."""
    grocery = catalog.create_reward(
        session, now=today, kind="voucher", code_source="pool", category="grocery", country="AE", points_cost=500,
        face_value={"amount": Decimal("50.00"), "currency": "AED"}, validity_days=180, limit_per_day=2,
        names={"en": "Carrefour voucher AED 50", "ar": "قسيمة كارفور ٥٠ درهم", "pl": "Bon Carrefour 50 AED"},
        descriptions={"en": "Spend it at any Carrefour in the UAE.", "ar": "استخدمها في أي كارفور في الإمارات."})
    codes = "\n".join(f"CRF-{rng.randrange(16**8):08X}-{n:03d}" for n in range(VENDOR_CODES))
    code_import.import_codes(session, reward_id=grocery.id, stream=io.BytesIO(f"code\n{codes}\n".encode()), vault=vault,
                             user_id=admin_id, now=today, max_rows=VENDOR_CODES)
    catalog.create_reward(
        session, now=today, kind="physical", category="workshop", country="AE", points_cost=2500, stock=20,
        names={"en": "Digital torque wrench", "ar": "مفتاح عزم رقمي", "pl": "Klucz dynamometryczny"},
        descriptions={"en": "Delivered to your workshop in about three working days."})
    catalog.create_reward(
        session, now=today, kind="voucher", code_source="generated", category="merchandise", country="AE",
        points_cost=1500, tiers=["gold", "platinum"], names={"en": "Service cap and jacket", "ar": "قبعة وسترة الخدمة"},
        descriptions={"en": "Collect them at your store with this voucher."})
    catalog.create_reward(
        session, now=today, kind="digital", code_source="generated", category="gaming", country="PL", points_cost=400,
        face_value={"amount": Decimal("50.00"), "currency": "PLN"}, limit_per_month=1,
        names={"en": "Steam Wallet 50 PLN", "pl": "Doładowanie Steam 50 zł"})
    return 4

"""``flask demo seed``: a demo program a newcomer can sign in to and click through at once.

Two countries (the UAE in AED, Poland in PLN), three stores with a cashier each, a marketer
and an admin, fifty partners with a year of purchases behind them (so tiers, history and
points about to expire all show), a catalog of rewards (``demo_rewards``), a segment and a
draft campaign. Everything goes through
the domain functions the API uses, at the past times the history needs.

Idempotent: the first run writes the demo and keeps its passwords in
``instance/demo-credentials.json`` (owner-only); a second run adds nothing and prints them again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.cli.demo_rewards import seed_rewards
from api.clock import now
from notifications import campaigns, segments
from wallet import ledger
from wallet.earning import purchases, rules, tiers
from wallet.members import accounts
from wallet.members.models import Store, User
from wallet.rewards.codes import CodeVault, vault_from_settings

cli = AppGroup("demo", help="A demo program to try the API with.")

DOMAIN = "demo.partnerwallet.example"
PARTNERS = 50
# Points live 12 months in the demo (24 in a fresh install), so last winter's points expire soon.
EXPIRY_MONTHS = 12
STORES = (("Al Quoz Tyre Centre", "AE", "Dubai", "AED"), ("Mussafah Auto Hub", "AE", "Abu Dhabi", "AED"),
          ("Opony Wola", "PL", "Warsaw", "PLN"))
PRODUCTS = (("MPS5-2055516", "Pilot Sport 5 205/55 R16 91W", "tyres-summer", Decimal("420.00")),
            ("ALP7-2256517", "Alpin 7 225/65 R17 106H", "tyres-winter", Decimal("610.00")),
            ("PRM4-1956515", "Primacy 4 195/65 R15 91H", "tyres-summer", Decimal("350.00")),
            ("LTX-2657017", "LTX Trail 265/70 R17 115T", "tyres-4x4", Decimal("890.00")),
            ("BAT-70AH", "Battery 70 Ah", "batteries", Decimal("480.00")))
NAMES = ("Ahmed", "Fatima", "Omar", "Layla", "Yousef", "Mariam", "Khalid", "Noura", "Hassan", "Aisha",
         "Piotr", "Anna", "Tomasz", "Katarzyna", "Marek")
COMPANIES = ("Tyres", "Auto Service", "Garage", "Motors", "Car Care")


def _credentials_file() -> Path:
    return Path(current_app.config["SETTINGS"].instance_dir) / "demo-credentials.json"


def _write_credentials(path: Path, credentials: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(credentials, fh, indent=2)


def _print(credentials: dict[str, Any]) -> None:
    click.echo("Sign in at POST /api/v1/auth/login with any of these:")
    for who, (email, password) in credentials.items():
        click.echo(f"  {who:<22} {email:<44} {password}")


def _history(session: Session, rng: random.Random, *, partner_index: int, member_number: str, store: Store,
             cashier: User, today: dt.datetime) -> None:
    """A year of purchases at the partner's store, biggest spenders first, some with tyre lines."""
    scale = Decimal(3 if store.currency == "PLN" else 1)
    # From a few big dealers (Platinum) down to workshops that buy a set now and then (Blue).
    purchases_a_year = 2 + (PARTNERS - partner_index) // 4
    sets = 6 if partner_index < 5 else 2 if partner_index < 20 else 1
    for n in range(purchases_a_year):
        days_ago = rng.randint(3, 355)
        at = (today - dt.timedelta(days=days_ago)).replace(hour=rng.randint(8, 19), minute=rng.randint(0, 59),
                                                           second=0, microsecond=0)
        sku, _, _, price = rng.choice(PRODUCTS)
        quantity = rng.choice((1, 2, 4)) * sets
        unit_price = price * scale
        purchases.book(session, store=store, cashier_user_id=cashier.id, member_number=member_number,
                       receipt_number=f"DEMO-{partner_index:02d}-{n:03d}", total=unit_price * quantity,
                       currency=store.currency, items=[{"sku": sku, "quantity": quantity, "unit_price": unit_price}],
                       now=at)


def seed_demo(session: Session, *, today: dt.datetime, rng: random.Random, vault: CodeVault) -> dict[str, Any]:
    """Write the demo program; returns the credentials to print. The caller commits."""
    credentials: dict[str, Any] = {}

    def password() -> str:
        return secrets.token_urlsafe(9)

    for country in ("AE", "PL"):
        program = rules.get_program(session, country)
        rules.save_program(session, country=country, now=today, currency=program.currency,
                           points_per_unit=program.points_per_unit, per_amount=program.per_amount,
                           rounding=program.rounding, min_purchase=program.min_purchase, daily_cap=None,
                           expiry_months=EXPIRY_MONTHS)
    for sku, name, category, _ in PRODUCTS:
        rules.save_product(session, sku=sku, name=name, category=category)
    admin_password = password()
    admin = accounts.create_staff(session, email=f"admin@{DOMAIN}", password=admin_password, name="Demo Admin",
                                  role="admin", now=today)
    credentials["admin"] = (f"admin@{DOMAIN}", admin_password)
    marketer_password = password()
    marketer = accounts.create_staff(session, email=f"marketer@{DOMAIN}", password=marketer_password,
                                     name="Demo Marketer", role="marketer", now=today)
    credentials["marketer"] = (f"marketer@{DOMAIN}", marketer_password)
    tills = []
    for i, (name, country, city, currency) in enumerate(STORES, start=1):
        store = accounts.create_store(session, name=name, country=country, city=city, currency=currency, now=today)
        cashier_password = password()
        cashier = accounts.create_staff(session, email=f"cashier{i}@{DOMAIN}", password=cashier_password,
                                        name=f"Cashier at {name}", role="cashier", store_id=store.id, now=today)
        credentials[f"cashier ({city})"] = (f"cashier{i}@{DOMAIN}", cashier_password)
        tills.append((store, cashier))

    partner_password = password()
    for i in range(PARTNERS):
        store, cashier = tills[0] if i % 5 < 3 else tills[1] if i % 5 == 3 else tills[2]
        first = NAMES[i % 10] if store.country == "AE" else NAMES[10 + i % 5]
        joined = today - dt.timedelta(days=370)
        member = accounts.register_member(
            session, email=f"partner{i + 1}@{DOMAIN}", password=partner_password, name=f"{first} {i + 1}",
            country=store.country, city=store.city, company_name=f"{first} {rng.choice(COMPANIES)}",
            language="pl" if store.country == "PL" else ("ar" if i % 4 == 1 else "en"),
            marketing_opt_in=i % 3 != 2, now=joined)
        _history(session, rng, partner_index=i, member_number=member.member_number, store=store, cashier=cashier,
                 today=today)
    credentials["partners 1-50"] = (f"partner1@{DOMAIN} .. partner{PARTNERS}@{DOMAIN}", partner_password)

    seed_rewards(session, today=today, admin_id=admin.id, vault=vault, rng=rng)
    ledger.expire_due(session, now=today, limit=10 * PARTNERS)
    tiers.recalculate_all(session, now=today)
    segment = segments.create(session, name="Gold and Platinum partners in the UAE", created_by_user_id=marketer.id,
                              now=today, rules={"all": [{"field": "country", "op": "in", "value": ["AE"]},
                                                        {"field": "tier", "op": "in", "value": ["gold", "platinum"]}]})
    campaigns.create(session, name="Winter tyres 2x points", segment_id=segment.id, created_by_user_id=marketer.id,
                     now=today, message={"title": {"en": "Double points on winter tyres", "ar": "نقاط مضاعفة على إطارات الشتاء",
                                                   "pl": "Podwójne punkty za opony zimowe"},
                                         "body": {"en": "Until 15 December at your usual store.",
                                                  "ar": "حتى ١٥ ديسمبر في متجرك المعتاد",
                                                  "pl": "Do 15 grudnia w Twoim sklepie."}})
    session.flush()
    return credentials


@cli.command("seed")
@click.option("--seed", "seed_value", default=2026, show_default=True, help="Random seed of the demo's history.")
def seed(seed_value: int) -> None:
    """Write a demo program (two countries, stores, staff, 50 partners with a year of history)."""
    path = _credentials_file()
    with current_app.extensions["sessionmaker"]() as session:
        if session.scalar(select(User.id).where(User.email == f"admin@{DOMAIN}")) is not None:
            click.echo("The demo is already there; nothing was added.")
            if path.exists():
                _print(json.loads(path.read_text()))
            return
        credentials = seed_demo(session, today=now(), rng=random.Random(seed_value),
                                vault=vault_from_settings(current_app.config["SETTINGS"]))
        session.commit()
    _write_credentials(path, credentials)
    click.echo(f"Demo program written ({PARTNERS} partners, {len(STORES)} stores); passwords kept in {path}.")
    _print(credentials)

"""The rule engine: which rule gave how many points."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.conftest import START
from wallet.earning.rules import BonusRule, Line, Program, add_months, compute

WINTER = dict(starts_at=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc),
              ends_at=dt.datetime(2026, 12, 16, tzinfo=dt.timezone.utc))


def program(**kw):
    values = dict(country="AE", currency="AED", points_per_unit=1, per_amount=Decimal(1), rounding="down",
                  min_purchase=Decimal(0), daily_cap=None, expiry_months=24, max_bonus_multiplier=Decimal(3),
                  max_bonus_per_item=50, max_bonus_per_purchase=10_000) | kw
    return Program(**values)


def bonus(**kw):
    values = dict(id=7, name="Winter tyres ×2", country="AE", kind="multiplier", value=Decimal(2), skus=[],
                  categories=["winter-tyres"], tiers=[], active=True, approved_at=START) | WINTER | kw
    return BonusRule(**values)


def run(total, *, lines=(), bonuses=(), tier=("blue", "Blue", Decimal(1)), earned_today=0, at=START, **prog):
    return compute(program=program(**prog), bonuses=list(bonuses), tier_code=tier[0], tier_name=tier[1],
                   tier_multiplier=tier[2], total=Decimal(total), lines=list(lines), at=at, earned_today=earned_today)


@pytest.mark.parametrize("rounding, expected", [("down", 129), ("half_up", 130), ("up", 130)])
def test_the_base_rate_rounds_as_the_program_says(rounding, expected):
    assert run("129.50", rounding=rounding).points == expected


def test_below_the_minimum_purchase_nothing_is_earned_and_the_breakdown_says_why():
    result = run("49.99", min_purchase=Decimal(50))
    assert result.points == 0
    assert result.breakdown[0]["rule"] == "minimum_purchase"


def test_the_tier_multiplies_the_base():
    result = run("200", tier=("gold", "Gold", Decimal("1.5")))
    assert [(b["rule"], b["points"]) for b in result.breakdown] == [("base", 200), ("tier", 100)]


def test_a_category_bonus_doubles_only_the_winter_tyres_on_the_receipt():
    lines = [Line("WT-205", 4, Decimal("100"), "winter-tyres"), Line("OIL-5L", 1, Decimal("60"), "oil")]
    result = run("460", lines=lines, bonuses=[bonus()])
    assert result.points == 460 + 400
    assert result.breakdown[-1] == {"rule": "bonus", "label": "Winter tyres ×2", "points": 400, "rule_id": 7}


def test_a_bonus_counts_only_inside_its_window():
    lines = [Line("WT-205", 1, Decimal("100"), "winter-tyres")]
    assert run("100", lines=lines, bonuses=[bonus()], at=WINTER["ends_at"]).points == 100
    assert run("100", lines=lines, bonuses=[bonus()], at=WINTER["ends_at"] - dt.timedelta(seconds=1)).points == 200


def test_a_bonus_for_gold_partners_skips_blue_ones():
    rule = bonus(categories=[], tiers=["gold"])
    assert run("100", bonuses=[rule]).points == 100
    assert run("100", bonuses=[rule], tier=("gold", "Gold", Decimal(1))).points == 200


def test_points_per_item_for_a_sku():
    rule = bonus(kind="per_item", value=Decimal(50), skus=["WT-205"], categories=[])
    lines = [Line("WT-205", 4, Decimal("100")), Line("X", 1, Decimal("10"))]
    assert run("410", lines=lines, bonuses=[rule]).points == 410 + 200


def test_the_daily_cap_cuts_the_last_purchase_of_the_day():
    result = run("300", daily_cap=1000, earned_today=900)
    assert result.points == 100
    assert result.breakdown[-1] == {"rule": "daily_cap", "label": "daily cap of 1000 points", "points": -200}
    assert run("300", daily_cap=1000, earned_today=1200).points == 0


@pytest.mark.parametrize("start, months, end", [
    ((2026, 1, 31), 1, (2026, 2, 28)),
    ((2024, 2, 29), 12, (2025, 2, 28)),
    ((2026, 11, 23), 24, (2028, 11, 23)),
    ((2026, 12, 15), 1, (2027, 1, 15)),
])
def test_adding_months_keeps_the_day_or_takes_the_months_last(start, months, end):
    at = dt.datetime(*start, 12, tzinfo=dt.timezone.utc)
    assert add_months(at, months) == dt.datetime(*end, 12, tzinfo=dt.timezone.utc)


def test_zero_priced_lines_earn_no_per_item_points():
    per_item = bonus(kind="per_item", value=Decimal(10), categories=[])
    result = run("100.00", lines=[Line("GIFT", 500, Decimal(0)), Line("T1", 2, Decimal(50))], bonuses=[per_item])
    assert [b for b in result.breakdown if b["rule"] == "bonus"][0]["points"] == 20  # the 2 paid items only


def test_all_bonuses_together_stop_at_the_programs_cap_and_the_breakdown_says_so():
    per_item = bonus(kind="per_item", value=Decimal(10), categories=[])
    result = run("1000.00", lines=[Line("T1", 1000, Decimal(1))], bonuses=[per_item], max_bonus_per_purchase=2500)
    assert result.points == 1000 + 2500
    assert result.breakdown[-1] == {"rule": "bonus_cap", "label": "bonuses capped at 2500 points a purchase",
                                    "points": 0, "rule_id": 7, "withheld": 7500}


def test_a_bonus_waiting_for_approval_gives_nothing():
    assert run("100.00", bonuses=[bonus(categories=[], approved_at=None)]).points == 100

"""The calculator's groups, order and exclusions on hand-made items."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.items.calculator import NEAR_MISS_LIMIT, Catalogue
from policies.items.evaluate import Outcome, check_conditions
from policies.items.inputs import parse_items
from policies.items.profile import Profile
from policies.items.views import ItemView
from tests.policies.items.helpers import HIGH_TECH_AWARD, SME_LOAN_SUBSIDY, STARTUP_GRANT
from tests.policies.items.test_evaluate import items, profiles

TODAY = date(2026, 3, 2)


def catalogue(*payloads: dict) -> Catalogue:
    views = []
    for n, parsed in enumerate(parse_items(list(payloads)), start=1):
        views.append(ItemView(id=n, policy_id=n, revision=1, position=1, name=parsed.name, benefit=parsed.benefit,
                              amount_yuan=parsed.amount_yuan, rate_percent=parsed.rate_percent,
                              cap_yuan=parsed.cap_yuan, track=parsed.track, conditions=parsed.conditions,
                              apply_url=parsed.apply_url, apply_place=parsed.apply_place,
                              materials=parsed.materials, deadline=parsed.deadline, phone=parsed.phone))
    return Catalogue(views)


def test_an_enterprise_sees_what_it_qualifies_for_sorted_by_value_then_deadline() -> None:
    both = catalogue(STARTUP_GRANT, HIGH_TECH_AWARD, SME_LOAN_SUBSIDY)
    firm = Profile(kind="enterprise", township="xiangshui", industry="C", employees=50, revenue=1_000,
                   registered_on=date(2023, 5, 1), qualifications=frozenset({"high_tech"}))
    result = both.calculate(firm, TODAY)
    # Both worth 10万元 at most: the loan subsidy's deadline (30 June) comes first.
    assert [a.item.name for a in result.qualified] == ["小微企业贷款贴息", "高新技术企业认定奖励"]
    assert result.to_verify == () and result.nearly == ()  # the resident item is never shown
    assert result.qualified_value_yuan == 200_000


def test_unknown_answers_are_to_verify_and_misses_are_named() -> None:
    both = catalogue(HIGH_TECH_AWARD, SME_LOAN_SUBSIDY)
    firm = Profile(kind="enterprise", township="xinmin", industry="C", employees=50, revenue=1_000)
    result = both.calculate(firm, TODAY)
    assert [a.item.name for a in result.to_verify] == ["小微企业贷款贴息"]
    assert [c.describe() for c in result.to_verify[0].to_verify] == ["成立年限：成立5年及以下"]
    # Qualification unknown and the township wrong: one condition short, one to verify.
    nearly = result.nearly[0]
    assert [c.describe() for c in nearly.missing] == ["所在乡镇：香水镇"]
    assert [c.describe() for c in nearly.to_verify] == ["企业资质：高新技术企业"]


def test_a_resident_with_a_free_text_condition_is_never_fully_qualified() -> None:
    result = catalogue(STARTUP_GRANT).calculate(
        Profile(kind="resident", age=24, groups=frozenset({"graduate"})), TODAY)
    assert result.qualified == () and [a.item.name for a in result.to_verify] == ["一次性创业补贴"]
    assert [c.describe() for c in result.to_verify[0].to_verify] == ["正常经营6个月以上"]


def test_items_past_their_deadline_and_far_misses_are_left_out() -> None:
    result = catalogue(SME_LOAN_SUBSIDY).calculate(
        Profile(kind="enterprise", industry="C", employees=50, revenue=1_000), date(2026, 7, 1))
    assert result.empty
    # Wrong industry, too big, too old: three conditions short is not "nearly".
    far = catalogue(SME_LOAN_SUBSIDY).calculate(
        Profile(kind="enterprise", industry="A", revenue=50_000, registered_on=date(2000, 1, 1)), TODAY)
    assert far.empty


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=st.lists(items(), min_size=1, max_size=12), profile=profiles(max_unknown=6))
def test_catalogue_standing_equals_checking_each_item_alone(conditions: list, profile: Profile) -> None:
    views = [ItemView(id=n, policy_id=n, revision=1, position=1, name=f"事项{n}", benefit="", amount_yuan=n,
                      rate_percent=None, cap_yuan=None, track="apply", conditions=c, apply_url="", apply_place="",
                      materials="", deadline=None, phone="") for n, c in enumerate(conditions, start=1)]
    result = Catalogue(views).calculate(profile, TODAY, limit=100)
    got = {a.item.id: a.standing for group in (result.qualified, result.to_verify, result.nearly) for a in group}
    expected = {}
    for view in views:
        checks = check_conditions(view.conditions, profile, TODAY)
        audience = next((c for c in checks if c.condition.kind == "audience"), None)
        if profile.kind and audience and audience.outcome == Outcome.NOT_MET:
            continue  # the other audience's items are never listed
        unmet = sum(c.outcome == Outcome.NOT_MET for c in checks)
        if unmet > NEAR_MISS_LIMIT:
            continue
        unknown = any(c.outcome == Outcome.UNKNOWN for c in checks)
        expected[view.id] = "nearly" if unmet else "to_verify" if unknown else "qualified"
    assert got == expected

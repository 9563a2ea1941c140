"""The page plan: the person on call first, the rest listed, escalation in order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config.catalog import CatalogError, parse_catalog
from bot.config.oncall_schedule import Layer, Restriction, Rotation, Schedule, Target
from bot.oncall.routing import page_plan

PRIMARY = Schedule(name="ml-primary", timezone="Europe/Berlin", layers=[Layer(
    name="week", rotation=Rotation(members=["UALICE01", "UBOB0002"],
                                   start=datetime(2026, 11, 30, 9), length="1w"))])
SECONDARY = Schedule(name="ml-secondary", timezone="Europe/Berlin", layers=[Layer(
    name="week", rotation=Rotation(members=["UCAROL03", "UDAVE004"],
                                   start=datetime(2026, 11, 30, 9), length="1w"))])
SCHEDULES = {s.name: s for s in (PRIMARY, SECONDARY)}
AT_3AM = datetime(2026, 12, 2, 2, tzinfo=UTC)  # Wednesday 03:00 in Berlin


def test_the_on_call_person_is_paged_first_and_the_other_owners_listed() -> None:
    plan = page_plan(users=["UALICE01", "UBOB0002", "UERIN005"], groups=["S0MLENG01"],
                     schedule_names=["ml-primary", "ml-secondary"], schedules=SCHEDULES,
                     chain=["U0HEAD001"], at=AT_3AM)
    assert plan.first == (Target("user", "UALICE01", "on call (ml-primary)"),)
    assert plan.listed == ("UBOB0002", "UERIN005")
    assert [(t.kind, t.id) for t in plan.steps] == [
        ("user", "UCAROL03"), ("group", "S0MLENG01"), ("user", "U0HEAD001")]


def test_without_schedules_every_owner_is_invited() -> None:
    plan = page_plan(users=["UALICE01"], groups=["S0MLENG01"], schedule_names=[],
                     schedules=SCHEDULES, chain=["U0HEAD001"], at=AT_3AM)
    assert [t.id for t in plan.first] == ["UALICE01", "S0MLENG01"]
    assert [t.id for t in plan.steps] == ["U0HEAD001"]


def test_nobody_on_call_means_the_next_step_answers_now() -> None:
    business = Schedule(name="biz", layers=[Layer(
        name="day", rotation=Rotation(members=["UALICE01"], start=datetime(2026, 1, 5)),
        restrictions=[Restriction(hours="09:00-17:00")])])
    plan = page_plan(users=[], groups=["S0MLENG01"], schedule_names=["biz"],
                     schedules={"biz": business}, chain=[], at=AT_3AM)
    assert plan.first == (Target("group", "S0MLENG01", "owner group"),)
    assert plan.steps == ()


def test_catalog_schedules_are_checked() -> None:
    service = {"name": "rag", "owners": {"model": {"schedules": ["ml-primary"]}}}
    schedule = {"name": "ml-primary", "timezone": "Europe/Berlin", "layers": [
        {"name": "week", "rotation": {"members": ["UALICE01"], "start": "2026-11-30T09:00"}}]}
    catalog = parse_catalog({"services": [service], "schedules": [schedule]})
    assert catalog.schedule("ml-primary") is not None
    with pytest.raises(CatalogError, match=r"owners.model.schedules\[0\]: unknown schedule"):
        parse_catalog({"services": [service]})

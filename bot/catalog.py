"""The service catalog (``resilio.yml``): services, owners, slices, SLOs, teams.

Validated by pydantic at start. An invalid file fails with the file, the path inside
it (``services[2].owners.data``) and what is wrong, so nobody starts a bot that
would route pages to nobody.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.slo.spec import SLOList
from bot.sources.models import PrometheusServer, SignalSpec, check_servers

FAILURE_CLASSES = (
    "infrastructure", "data", "control_plane", "model", "eval_policy", "cost", "none"
)
FailureClass = Literal["infrastructure", "data", "control_plane", "model", "eval_policy", "cost",
                       "none"]


class CatalogError(ValueError):
    """The catalog file is unreadable or invalid; ``str()`` says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owners(_Strict):
    """Who answers for one failure class: Slack user ids (U…) and user-group ids (S…)."""

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item or item[0] not in "UW" or not item.isalnum():
                raise ValueError(f"{item!r} is not a Slack user id (like U012ABCDEF)")
        return value

    @field_validator("groups")
    @classmethod
    def _group_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item or item[0] != "S" or not item.isalnum():
                raise ValueError(f"{item!r} is not a Slack user-group id (like S012ABCDEF)")
        return value


class Escalation(_Strict):
    """Unacknowledged for ``ack_timeout_minutes``: page the next in ``chain``."""

    ack_timeout_minutes: float = Field(default=15, gt=0)
    chain: list[str] = Field(default_factory=list)


class Service(_Strict):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    description: str = ""
    alerts_channel: str | None = None
    owners: dict[FailureClass | Literal["default"], Owners] = Field(default_factory=dict)
    slices: list[str] = Field(
        default_factory=lambda: ["model_version", "route", "tenant", "segment", "fallback"])
    escalation: Escalation = Field(default_factory=Escalation)
    runbooks: list[str] = Field(default_factory=list)
    slos: SLOList = Field(default_factory=list)
    signals: list[SignalSpec] = Field(default_factory=list)  # where each signal comes from

    def owners_for(self, label: str | None) -> Owners:
        """The owners of a failure class, else the service's default owners."""
        if label and label in self.owners:
            return self.owners[label]  # type: ignore[index]
        return self.owners.get("default", Owners())


class DigestSchedule(_Strict):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Team(_Strict):
    name: str = Field(min_length=1)
    channel: str
    services: list[str]
    digest: DigestSchedule = Field(default_factory=DigestSchedule)


class Grouping(_Strict):
    """Alerts of one service and group key within ``window_minutes`` join one incident."""

    window_minutes: float = Field(default=60, gt=0)
    group_by: list[str] = Field(default_factory=list)


class Watch(_Strict):
    """The silent-degradation watch: how often it runs, what it diagnoses, how often it may
    be wrong.

    ``false_alarms_per_week`` is the rate at which a healthy service opens an incident
    (shared by its signals; ``benchmarks/nab.py`` checks it on real streams);
    ``history_hours`` how far back a series new to the watch is learnt from;
    ``window_minutes`` how recent an alarm must be to open one, and what is diagnosed.
    """

    enabled: bool = True
    interval_seconds: float = Field(default=60, gt=0)
    window_minutes: float = Field(default=180, gt=0)
    false_alarms_per_week: float = Field(default=1.0, gt=0, le=1000)
    history_hours: float = Field(default=48, gt=0, le=24 * 21)


class SlackOptions(_Strict):
    channel_prefix: str = Field(default="inc", pattern=r"^[a-z0-9][a-z0-9_\-]{0,20}$")
    timeline_reaction: str = "pushpin"


class RunbookOptions(_Strict):
    directories: list[str] = Field(default_factory=list)
    shell_allowlist: list[str] = Field(default_factory=list)


class Catalog(_Strict):
    services: list[Service] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    grouping: Grouping = Field(default_factory=Grouping)
    watch: Watch = Field(default_factory=Watch)
    slack: SlackOptions = Field(default_factory=SlackOptions)
    runbooks: RunbookOptions = Field(default_factory=RunbookOptions)
    templates: dict[str, str] = Field(default_factory=dict)
    prometheus: PrometheusServer | None = None  # for signals with a Prometheus source
    source: str = Field(default="<embedded>", exclude=True)

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        names = [service.name for service in self.services]
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                raise ValueError(f"services[{index}].name: duplicate service {name!r}")
            seen.add(name)
            check_servers(self.services[index].signals, self.prometheus, f"services[{index}]")
        for t_index, team in enumerate(self.teams):
            for s_index, name in enumerate(team.services):
                if name not in seen:
                    raise ValueError(
                        f"teams[{t_index}].services[{s_index}]: unknown service {name!r}")
        return self

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)


def _location(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def parse_catalog(data: Any, source: str = "<embedded>") -> Catalog:
    """Validate decoded YAML; errors name the file and the path inside it."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CatalogError(f"{source}: the catalog must be a mapping, got {type(data).__name__}")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            where = _location(tuple(item["loc"])) or "(top level)"
            message = item["msg"].removeprefix("Value error, ")
            lines.append(f"{source}: {where}: {message}")
        raise CatalogError("\n".join(lines)) from None
    return catalog.model_copy(update={"source": source})


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at ``path``, or the embedded example when no path is given."""
    if path is None:
        text = resources.files("bot.defaults").joinpath("resilio.yml").read_text()
        return parse_catalog(yaml.safe_load(text), "<embedded resilio.yml>")
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as error:
        raise CatalogError(f"{file}: cannot read: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CatalogError(f"{file}:{where}: invalid YAML: {error}") from None
    return parse_catalog(data, str(file))

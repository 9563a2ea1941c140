"""The service catalog (``resilio.yml``): services, owners, slices, SLOs, teams.

Validated by pydantic at start. An invalid file fails with every problem at once,
each as the file, the path inside it (``services[2].owners.data``) and what is
wrong, so nobody starts a bot that would route pages to nobody. Slack references
are ids, not names: a channel written ``#alerts`` or a chain of ``@bob`` would be
refused by the Slack API at the moment of the page. What needs more than the file
(runbook names, directories, owners for production) is checked by
:mod:`bot.config.check`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from bot.config.change_sources import ChangeSources, ModelRegistry
from bot.config.oncall_schedule import Schedule
from bot.config.otel_rules import OtelOptions
from bot.config.safe_yaml import safe_load
from bot.config.slo_spec import SLOList
from bot.config.source_spec import PrometheusServer, SignalSpec, check_servers
from classifiers.vocabulary import Label as FailureClass
from runbooks.models import SlackPeople


class CatalogError(ValueError):
    """The catalog file is unreadable or invalid; each of ``problems`` says file, path, why."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owners(SlackPeople):
    """Who answers for one failure class: Slack user ids (U…), user-group ids (S…) and
    on-call schedules (by name; the first is paged, the next are its secondaries).

    The users and groups are validated by :class:`runbooks.models.SlackPeople`, the one
    model of "these people" (a runbook's audience is the other).
    """

    schedules: list[str] = Field(default_factory=list)


def _channel_id(value: str | None) -> str | None:
    if value is not None and (not value or value[0] not in "CG" or not value.isalnum()):
        raise ValueError(f"{value!r} is not a Slack channel id (like C012ABCDEF; a name such "
                         "as #alerts is not an id: copy it from the channel's details)")
    return value


class Escalation(_Strict):
    """Unacknowledged for ``ack_timeout_minutes``: page the next in ``chain``."""

    ack_timeout_minutes: float = Field(default=15, gt=0)
    chain: list[str] = Field(default_factory=list)

    @field_validator("chain")
    @classmethod
    def _paged_users(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item or item[0] not in "UW" or not item.isalnum():
                raise ValueError(f"{item!r} is not a Slack user id (like U012ABCDEF); the "
                                 "chain pages people, each by id")
        return value


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
    registry: ModelRegistry = Field(default_factory=ModelRegistry)  # models, prompts, runbooks
    changes: ChangeSources = Field(default_factory=ChangeSources)  # CI/CD subjects

    _alerts_channel = field_validator("alerts_channel")(_channel_id)

    def owners_for(self, label: str | None) -> Owners:
        """The owners of a failure class, else the service's default owners."""
        if label and label in self.owners:
            return self.owners[label]
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

    _channel = field_validator("channel")(_channel_id)


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
    schedules: list[Schedule] = Field(default_factory=list)
    otel: OtelOptions = Field(default_factory=OtelOptions)  # OTLP metric mapping
    source: str = Field(default="<embedded>", exclude=True)

    _index: tuple[list[Service], dict[str, Service]] | None = PrivateAttr(default=None)

    def service(self, name: str) -> Service | None:
        # An index built once per list of services (``model_copy`` may swap the list):
        # with 20,000 services a linear search per alert would cost more than the alert.
        if self._index is None or self._index[0] is not self.services:
            index: dict[str, Service] = {}
            for entry in self.services:
                index.setdefault(entry.name, entry)
            self._index = (self.services, index)
        return self._index[1].get(name)

    def schedule(self, name: str) -> Schedule | None:
        return next((s for s in self.schedules if s.name == name), None)

    def service_of_model(self, model: str) -> str:
        """The service a registered model belongs to (its registry entry), else the name."""
        for service in self.services:
            if (service.registry.model or service.name) == model:
                return service.name
        return model

    def service_of_repository(self, full_name: str) -> str:
        """The service of a GitHub repository (``owner/name``), else the repository's name."""
        for service in self.services:
            if full_name in service.changes.repositories:
                return service.name
        return full_name.rpartition("/")[2] or full_name

    def service_of_application(self, application: str) -> str:
        """The service of an Argo CD application, else the application's name."""
        for service in self.services:
            if application in service.changes.argocd_applications:
                return service.name
        return application

    def service_of_prompt(self, prompt: str) -> str:
        """The service that lists a prompt of the prompt registry, else the prompt's name."""
        for service in self.services:
            if prompt in service.registry.prompts:
                return service.name
        return prompt


def _cross_references(catalog: Catalog) -> list[tuple[str, str]]:
    """(path, reason) of each name that must be unique or must exist, all of them."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, entry in enumerate(catalog.services):
        if entry.name in seen:
            problems.append((f"services[{index}].name", f"duplicate service {entry.name!r}"))
        seen.add(entry.name)
        try:
            check_servers(entry.signals, catalog.prometheus, f"services[{index}]")
        except ValueError as error:
            where, _, reason = str(error).partition(": ")
            problems.append((where, reason))
    for t_index, team in enumerate(catalog.teams):
        for s_index, name in enumerate(team.services):
            if name not in seen:
                problems.append((f"teams[{t_index}].services[{s_index}]",
                                 f"unknown service {name!r}"))
    return problems + _schedule_references(catalog)


def _schedule_references(catalog: Catalog) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    names: set[str] = set()
    for index, schedule in enumerate(catalog.schedules):
        if schedule.name in names:
            problems.append((f"schedules[{index}].name",
                             f"duplicate schedule {schedule.name!r}"))
        names.add(schedule.name)
    for index, entry in enumerate(catalog.services):
        for label, owners in entry.owners.items():
            for s_index, name in enumerate(owners.schedules):
                if name not in names:
                    problems.append((f"services[{index}].owners.{label}.schedules[{s_index}]",
                                     f"unknown schedule {name!r}"))
    return problems


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
        raise CatalogError(lines) from None
    problems = _cross_references(catalog)
    if problems:
        raise CatalogError([f"{source}: {where}: {reason}" for where, reason in problems])
    return catalog.model_copy(update={"source": source})


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at ``path``, or the embedded example when no path is given."""
    if path is None:
        text = resources.files("bot.defaults").joinpath("resilio.yml").read_text()
        return parse_catalog(safe_load(text), "<embedded resilio.yml>")
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise CatalogError(f"{file}: cannot read: {error.strerror}") from None
    return parse_catalog(decode_yaml(raw, str(file), CatalogError), str(file))


def decode_yaml(raw: bytes, source: str, error_type: type[ValueError]) -> Any:
    """UTF-8 YAML bytes as data; ``error_type(problem)`` says line and column when not."""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise error_type(f"{source}: line {line}, column {column}: not UTF-8 text "
                         f"(byte 0x{raw[error.start]:02x}); save the file as UTF-8") from None
    try:
        return safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise error_type(f"{source}:{where} invalid YAML: {problem}") from None

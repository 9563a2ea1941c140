"""The runbook schema: what a YAML definition may say, checked before anything runs.

A runbook is data. Everything that could go wrong in it (an unknown step kind, an
enum default outside its choices, a duplicated step id, a shell step without an
argv) is refused at load time with the path inside the file, so a broken runbook
is found by ``resilio runbook validate`` and not at 3 a.m. halfway through a
rollback.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from classifiers.vocabulary import ChangeKind, Label

NAME_PATTERN = r"^[a-z0-9][a-z0-9\-]{0,62}$"
STEP_ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,62}$"
# Levels of runbooks a runbook may call (a ``runbook`` step inside a called runbook...).
MAX_NESTING = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _slack_ids(values: list[str], first: str, what: str) -> list[str]:
    for item in values:
        if not item or item[0] not in first or not item.isalnum():
            raise ValueError(f"{item!r} is not a Slack {what} id (like {first[0]}012ABCDEF)")
    return values


class SlackPeople(_Strict):
    """Slack users (``U…``/``W…``) and user groups (``S…``) by id, validated once.

    The one model of "these people" in the project: a runbook's audience and
    approvers build on it, and so can the catalog's owners (which add schedules).
    What an empty set means is the subclass's to say.
    """

    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        return _slack_ids(value, "UW", "user")

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        return _slack_ids(value, "S", "user-group")


class Audience(SlackPeople):
    """Who may do something; empty on both sides means everyone."""

    @property
    def open(self) -> bool:
        return not self.users and not self.groups

    def admits(self, user: str | None, groups: frozenset[str] | set[str] | list[str]) -> bool:
        if self.open:
            return True
        return (user is not None and user in self.users) or bool(set(groups) & set(self.groups))


class Approval(Audience):
    """Destructive runbooks wait for someone in ``groups`` (or ``users``) to approve."""

    required: bool = False

    @model_validator(mode="after")
    def _someone(self) -> Approval:
        if self.required and not self.groups and not self.users:
            raise ValueError("approval.required needs at least one approver group or user")
        return self

    @property
    def approvers(self) -> Audience:
        # The approvers are this audience; ``required`` only says whether to ask them.
        return Audience(users=self.users, groups=self.groups)


class AppliesTo(_Strict):
    """When the bot suggests this runbook; empty lists match anything."""

    classes: list[Label] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    change_kinds: list[ChangeKind] = Field(default_factory=list)
    # Signals (or their tests) whose move points at this runbook, as shell-style patterns
    # over their names ("*index*"): a clue beside the class and the change.
    signals: list[str] = Field(default_factory=list, max_length=20)


ParameterType = Literal["string", "int", "float", "bool", "enum"]


class Parameter(_Strict):
    """A typed input. A string default may be a template over the incident."""

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    type: ParameterType = "string"
    description: str = ""
    default: Any = None
    required: bool = True
    choices: list[str] = Field(default_factory=list)
    secret: bool = False  # shown as *** in the timeline and the dry-run plan

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        if self.type == "enum" and not self.choices:
            raise ValueError("an enum parameter needs 'choices'")
        if self.type != "enum" and self.choices:
            raise ValueError("'choices' only applies to enum parameters")
        default = self.default
        if default is None or (isinstance(default, str) and "{{" in default):
            return self
        try:
            coerce(self, default)
        except ValueError as error:
            raise ValueError(f"default: {error}") from None
        return self


def coerce(parameter: Parameter, value: Any) -> Any:
    """``value`` as the parameter's type; raises ``ValueError`` naming what is wrong."""
    kind = parameter.type
    try:
        if kind == "string":
            if isinstance(value, dict | list):
                raise ValueError
            return "" if value is None else str(value)
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return number
        if kind == "bool":
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in ("true", "yes", "on", "1"):
                return True
            if lowered in ("false", "no", "off", "0"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a valid {kind}") from None
    text = str(value)
    if text not in parameter.choices:
        raise ValueError(f"{text!r} is not one of {', '.join(parameter.choices)}")
    return text


class Retry(_Strict):
    """``attempts`` in all (1 = no retry), sleeping ``backoff_seconds * factor**n`` between."""

    attempts: int = Field(default=1, ge=1, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0, le=600)
    factor: float = Field(default=2.0, ge=1, le=10)


class _StepBase(_Strict):
    id: str = Field(pattern=STEP_ID_PATTERN)
    title: str = ""
    timeout_seconds: float = Field(default=30.0, gt=0, le=24 * 3600)
    retry: Retry = Field(default_factory=Retry)
    on_failure: Literal["stop", "continue", "compensate"] = "stop"
    compensate: list[Step] = Field(default_factory=list)
    # Safe to run again after a crash (setting a value, not toggling it).
    idempotent: bool = False
    # A template; the step runs only when it renders true (say, on the service's
    # registry kind: ``"{{ service.registry.kind == 'mlflow' }}"``). Unset: always.
    when: str | None = None

    @model_validator(mode="after")
    def _compensation(self) -> _StepBase:
        if self.on_failure == "compensate" and not self.compensate:
            raise ValueError("on_failure: compensate needs a 'compensate' list of steps")
        if self.compensate and self.on_failure != "compensate":
            raise ValueError("'compensate' steps are only run with on_failure: compensate")
        return self


class HttpStep(_StepBase):
    kind: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    # The secret is read from this environment variable at run time and sent as
    # ``secret_header: secret_prefix + value``; it is never rendered or recorded.
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    secret_required: bool = True  # false: send no credential when the variable is unset
    secret_header: str = "Authorization"
    secret_prefix: str = "Bearer "
    expect_status: list[int] = Field(default_factory=list)  # empty: any 2xx

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FlagStep(_StepBase):
    kind: Literal["flag"]
    service_url: str = Field(min_length=1)  # the flag service; PUT {service_url}/flags/{flag}
    flag: str = Field(min_length=1)
    enabled: bool | str = False
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    secret_required: bool = True
    idempotent: bool = True


class WaitStep(_StepBase):
    kind: Literal["wait"]
    seconds: float | str
    idempotent: bool = True


class SignalCheck(_Strict):
    """One SLI and its bounds; ``slice`` picks a breakdown (empty: all traffic)."""

    signal: str = Field(min_length=1)
    min: float | str | None = None
    max: float | str | None = None
    slice: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounded(self) -> SignalCheck:
        if self.min is None and self.max is None:
            raise ValueError(f"check on {self.signal!r} needs 'min' or 'max'")
        return self


class VerifyStep(_StepBase):
    kind: Literal["verify"]
    service: str = "{{ service.name }}"
    checks: list[SignalCheck] = Field(min_length=1)
    # Recovered when the last ``samples`` readings of every check are within bounds
    # and, if ``for_seconds`` is set, they span at least that long.
    samples: int | str = 3
    for_seconds: float | str = 0.0
    poll_seconds: float | str = 5.0
    timeout_seconds: float = Field(default=600.0, gt=0, le=24 * 3600)
    idempotent: bool = True


class NotifyStep(_StepBase):
    kind: Literal["notify"]
    text: str = Field(min_length=1)
    idempotent: bool = True


class ShellStep(_StepBase):
    kind: Literal["shell"]
    argv: list[str] = Field(min_length=1)
    cwd: str | None = None

    @field_validator("argv")
    @classmethod
    def _executable(cls, value: list[str]) -> list[str]:
        if "{{" in value[0] or "{%" in value[0]:
            raise ValueError("argv[0] (the executable) must be literal, not a template")
        return value


class MlflowAliasStep(_StepBase):
    """Point an MLflow registered model's (or prompt's) alias at a version, and confirm it."""

    kind: Literal["mlflow_alias"]
    registry_url: str = Field(min_length=1)
    model: str = Field(min_length=1)
    alias: str = Field(min_length=1)
    version: str = Field(min_length=1)
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    secret_required: bool = False
    timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    idempotent: bool = True


class RunbookStep(_StepBase):
    kind: Literal["runbook"]
    runbook: str = Field(pattern=NAME_PATTERN)
    params: dict[str, Any] = Field(default_factory=dict)


Step = Annotated[
    HttpStep | FlagStep | WaitStep | VerifyStep | NotifyStep | ShellStep | MlflowAliasStep
    | RunbookStep,
    Field(discriminator="kind"),
]
STEP_KINDS = ("http", "flag", "wait", "verify", "notify", "shell", "mlflow_alias", "runbook")

for _model in (HttpStep, FlagStep, WaitStep, VerifyStep, NotifyStep, ShellStep, MlflowAliasStep,
               RunbookStep):
    _model.model_rebuild()


class Runbook(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1)
    description: str = ""
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    parameters: list[Parameter] = Field(default_factory=list)
    approval: Approval = Field(default_factory=Approval)
    allowed: Audience = Field(default_factory=Audience)  # who may start it
    steps: list[Step] = Field(min_length=1)
    source: str = Field(default="<memory>", exclude=True)

    @model_validator(mode="after")
    def _unique(self) -> Runbook:
        names = [p.name for p in self.parameters]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ValueError(f"parameters[{index}].name: duplicate parameter {name!r}")
        seen: set[str] = set()
        for path, step in walk_steps(self.steps):
            if step.id in seen:
                raise ValueError(f"{path}.id: duplicate step id {step.id!r}")
            seen.add(step.id)
        return self

    @property
    def destructive(self) -> bool:
        return self.approval.required

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def walk_steps(steps: list[Any], prefix: str = "steps") -> list[tuple[str, Any]]:
    """Every step with its path, compensation steps included, depth first."""
    found: list[tuple[str, Any]] = []
    for index, step in enumerate(steps):
        path = f"{prefix}[{index}]"
        found.append((path, step))
        found.extend(walk_steps(step.compensate, f"{path}.compensate"))
    return found

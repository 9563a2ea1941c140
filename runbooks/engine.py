"""Running a runbook: parameters, rendering, retries, failure policy, and a plain result.

The engine holds no state between runs and writes nothing itself. It tells a
:class:`RunListener` when each step starts and ends (the bot records those as
timeline events and uses them to resume after a crash) and returns a
:class:`RunResult`. All I/O goes through the injected :class:`~runbooks.steps.Tools`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import runbooks.mlflow  # noqa: F401  (registers the mlflow_alias step kind)
from runbooks.models import MAX_NESTING, Runbook, coerce
from runbooks.steps import (
    STEP_FUNCTIONS,
    Cancelled,
    Outcome,
    StepFailed,
    StepFunction,
    StepTimedOut,
    Tools,
    _pause,
)
from runbooks.templating import RenderError, is_template, render_text, render_value

# Fields that steer the engine rather than the action; they are not rendered.
_CONTROL_FIELDS = {"id", "kind", "retry", "on_failure", "compensate", "idempotent",
                   "timeout_seconds", "when"}
_FALSE = {"", "false", "no", "off", "0", "none"}

StepStatus = Literal["succeeded", "failed", "timed_out", "cancelled"]
RunStatus = Literal["succeeded", "failed", "cancelled"]


class ParameterError(ValueError):
    """Parameters that are unknown, missing, of the wrong type, or whose default failed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class StepResult:
    path: str  # "steps[2]", "steps[2].compensate[0]", "steps[1]/rollback-model/steps[0]"
    index: int  # the top-level step this belongs to
    step_id: str
    kind: str
    status: StepStatus
    summary: str
    started_at: datetime
    ended_at: datetime
    duration_seconds: float
    attempts: int
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    steps: tuple[StepResult, ...]
    error: str | None = None

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        """The verify steps' verdicts, in order (``recovered`` or ``not_recovered``)."""
        return [{"step": s.step_id, "verdict": s.output["verdict"]} for s in self.steps
                if s.kind == "verify" and "verdict" in s.output]

    @property
    def verdict(self) -> str | None:
        verdicts = self.verdicts
        return verdicts[-1]["verdict"] if verdicts else None


@dataclass(frozen=True)
class PlannedStep:
    path: str
    step_id: str
    kind: str
    title: str
    idempotent: bool
    rendered: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class Plan:
    """A dry run: every step rendered with the real parameters, nothing executed."""

    runbook: str
    params: dict[str, Any]
    steps: tuple[PlannedStep, ...]

    @property
    def problems(self) -> list[str]:
        return [f"{s.path} ({s.step_id}): {s.error}" for s in self.steps if s.error]

    @property
    def ok(self) -> bool:
        return not self.problems


class RunListener(Protocol):
    def step_started(self, path: str, index: int, step_id: str, kind: str,
                     rendered: dict[str, Any]) -> None: ...

    def step_finished(self, result: StepResult) -> None: ...


class _Silent:
    def step_started(self, path: str, index: int, step_id: str, kind: str,
                     rendered: dict[str, Any]) -> None:
        return None

    def step_finished(self, result: StepResult) -> None:
        return None


def base_context(*, incident: Mapping[str, Any], service: Mapping[str, Any],
                 suspect_change: Mapping[str, Any] | None = None,
                 labels: Mapping[str, Any] | None = None,
                 defaults: Mapping[str, Any] | None = None,
                 run: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What templates may read. All of it is plain data; none of it is ever compiled."""
    return {"incident": dict(incident), "service": dict(service),
            "suspect_change": None if suspect_change is None else dict(suspect_change),
            "labels": dict(labels or {}), "defaults": dict(defaults or {}),
            "run": dict(run or {})}


def resolve_params(runbook: Runbook, given: Mapping[str, Any],
                   context: Mapping[str, Any]) -> dict[str, Any]:
    """Typed parameter values. Given values are data (never rendered); defaults may be templates.

    Raises :class:`ParameterError` listing every problem at once.
    """
    problems = []
    for name in given:
        if runbook.parameter(name) is None:
            known = ", ".join(p.name for p in runbook.parameters) or "none"
            problems.append(f"unknown parameter {name!r} (known: {known})")
    values: dict[str, Any] = {}
    for parameter in runbook.parameters:
        raw: Any
        if parameter.name in given and given[parameter.name] is not None:
            raw = given[parameter.name]
        elif isinstance(parameter.default, str) and is_template(parameter.default):
            try:
                raw = render_text(parameter.default, context,
                                  f"parameters.{parameter.name}.default")
            except RenderError as error:
                if parameter.required:
                    problems.append(f"{parameter.name}: no value given and its default "
                                    f"failed ({error.problem})")
                    continue
                raw = None
        else:
            raw = parameter.default
        if raw is None or raw == "":
            if parameter.required:
                problems.append(f"{parameter.name}: a value is required")
                continue
            values[parameter.name] = None
            continue
        try:
            values[parameter.name] = coerce(parameter, raw)
        except ValueError as error:
            problems.append(f"{parameter.name}: {error}")
    if problems:
        raise ParameterError(problems)
    return values


def secret_values(runbook: Runbook, params: Mapping[str, Any]) -> set[str]:
    return {str(params[p.name]) for p in runbook.parameters
            if p.secret and params.get(p.name) not in (None, "")}


def render_step(step: Any, context: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The step's action fields with every template resolved (raises :class:`RenderError`)."""
    fields = step.model_dump(exclude=_CONTROL_FIELDS)
    rendered = render_value(fields, context, where)
    assert isinstance(rendered, dict)  # a mapping renders to a mapping
    rendered["kind"] = step.kind
    return rendered


def applies(step: Any, context: Mapping[str, Any], where: str) -> bool:
    """Whether a step with a ``when`` condition runs (raises :class:`RenderError`)."""
    if step.when is None:
        return True
    value = render_text(step.when, context, f"{where}.when")  # may render a native bool
    return str(value).strip().lower() not in _FALSE


def redact_value(value: Any, tools: Tools) -> Any:
    if isinstance(value, str):
        return tools.redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, tools) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, tools) for v in value]
    return value


class Engine:
    """Executes runbooks step by step through ``tools``; see the module docstring."""

    def __init__(self, *, tools: Tools, runbooks: Mapping[str, Runbook] | None = None,
                 listener: RunListener | None = None,
                 functions: Mapping[str, StepFunction] = STEP_FUNCTIONS,
                 max_depth: int = MAX_NESTING) -> None:
        self.tools = tools
        self.runbooks = dict(runbooks or {})
        self.listener: RunListener = listener or _Silent()
        self.functions = functions
        self.max_depth = max_depth

    # -- dry run -----------------------------------------------------------------

    def plan(self, runbook: Runbook, context: Mapping[str, Any],
             params: Mapping[str, Any], *, _prefix: str = "", _depth: int = 0) -> Plan:
        """Render every step (compensations and called runbooks too); execute nothing."""
        scope = {**context, "params": dict(params)}
        self.tools.secrets |= secret_values(runbook, params)
        planned: list[PlannedStep] = []
        for path, step in _all_steps(runbook.steps, _prefix):
            error = None
            rendered: dict[str, Any] = {}
            try:
                if not applies(step, scope, path):
                    continue  # not for this service (its ``when`` is false)
                rendered = redact_value(render_step(step, scope, path), self.tools)
            except RenderError as failure:
                error = str(failure)
            planned.append(PlannedStep(path, step.id, step.kind, step.title, step.idempotent,
                                       rendered, error))
            if step.kind == "runbook" and error is None:
                planned.extend(self._plan_nested(rendered, context, path, _depth))
        return Plan(runbook.name, redact_value(dict(params), self.tools), tuple(planned))

    def _plan_nested(self, rendered: dict[str, Any], context: Mapping[str, Any], path: str,
                     depth: int) -> list[PlannedStep]:
        name = rendered["runbook"]
        child = self.runbooks.get(name)
        where = f"{path}/{name}"
        if child is None or depth >= self.max_depth:
            problem = f"unknown runbook {name!r}" if child is None else "runbooks nest too deep"
            return [PlannedStep(where, name, "runbook", "", False, {}, problem)]
        try:
            child_params = resolve_params(child, rendered.get("params") or {}, context)
        except ParameterError as error:
            return [PlannedStep(where, name, "runbook", "", False, {}, str(error))]
        return list(self.plan(child, context, child_params, _prefix=where + "/",
                              _depth=depth + 1).steps)

    # -- execution ---------------------------------------------------------------

    def run(self, runbook: Runbook, context: Mapping[str, Any], params: Mapping[str, Any], *,
            start_at: int = 0, _prefix: str = "", _depth: int = 0) -> RunResult:
        """Run ``runbook.steps[start_at:]``; ``params`` come from :func:`resolve_params`."""
        scope = {**context, "params": dict(params)}
        self.tools.secrets |= secret_values(runbook, params)
        tools = dataclasses.replace(self.tools, run_runbook=self._nested_runner(
            context, _prefix, _depth))
        results: list[StepResult] = []
        for index in range(start_at, len(runbook.steps)):
            step = runbook.steps[index]
            path = f"{_prefix}steps[{index}]"
            if tools.cancelled():
                return RunResult("cancelled", tuple(results), "cancelled before " + step.id)
            try:
                if not applies(step, scope, path):
                    continue  # not for this service: no result, nothing on the timeline
            except RenderError as failure:
                return RunResult("failed", tuple(results), f"step {step.id}: {failure}")
            result = self._execute(step, path, index, scope, tools)
            results.append(result)
            if result.status == "cancelled":
                return RunResult("cancelled", tuple(results), f"cancelled during {step.id}")
            if result.ok or step.on_failure == "continue":
                continue
            error = f"step {step.id} {result.status.replace('_', ' ')}: {result.error}"
            if step.on_failure == "compensate":
                for number, compensation in enumerate(step.compensate):
                    where = f"{path}.compensate[{number}]"
                    if not applies(compensation, scope, where):
                        continue
                    done = self._execute(compensation, where, index, scope, tools)
                    results.append(done)
                    if not done.ok:
                        error += f"; compensation {compensation.id} also failed: {done.error}"
                        break
                else:
                    error += "; compensation ran"
            return RunResult("failed", tuple(results), error)
        return RunResult("succeeded", tuple(results))

    def _nested_runner(self, context: Mapping[str, Any], prefix: str,
                       depth: int) -> Callable[[str, dict[str, Any], float], Outcome]:
        def run_child(name: str, given: dict[str, Any], deadline: float) -> Outcome:
            child = self.runbooks.get(name)
            if child is None:
                raise StepFailed(f"unknown runbook {name!r}", retryable=False)
            if depth >= self.max_depth:
                raise StepFailed("runbooks nest too deep", retryable=False)
            try:
                child_params = resolve_params(child, given, context)
            except ParameterError as error:
                raise StepFailed(f"{name}: {error}", retryable=False) from None
            result = self.run(child, context, child_params, _prefix=f"{prefix}{name}/",
                              _depth=depth + 1)
            output = {"status": result.status, "steps": len(result.steps),
                      "verdict": result.verdict}
            if result.status != "succeeded":
                raise StepFailed(f"runbook {name} {result.status}: {result.error}",
                                 output=output, retryable=False)
            return Outcome(f"runbook {name} succeeded ({len(result.steps)} steps)", output)

        return run_child

    def _execute(self, step: Any, path: str, index: int, scope: Mapping[str, Any],
                 tools: Tools) -> StepResult:
        started, clock_start = tools.clock(), time.monotonic()

        def finish(status: StepStatus, summary: str, attempts: int, output: dict[str, Any],
                   error: str | None) -> StepResult:
            result = StepResult(path, index, step.id, step.kind, status, tools.redact(summary),
                                started, tools.clock(), round(time.monotonic() - clock_start, 3),
                                attempts, redact_value(output, tools),
                                tools.redact(error) if error else None)
            self.listener.step_finished(result)
            return result

        try:
            rendered = render_step(step, scope, path)
        except RenderError as failure:
            self.listener.step_started(path, index, step.id, step.kind, {})
            return finish("failed", "could not render the step", 0, {}, str(failure))
        self.listener.step_started(path, index, step.id, step.kind,
                                   redact_value(rendered, tools))
        function = self.functions.get(step.kind)
        if function is None:
            return finish("failed", "unknown step kind", 0, {}, f"no step kind {step.kind!r}")
        delay = step.retry.backoff_seconds
        attempt = 0
        status: StepStatus
        failed: StepFailed
        while True:
            attempt += 1
            deadline = time.monotonic() + step.timeout_seconds
            try:
                outcome = function(rendered, tools, deadline)
                return finish("succeeded", outcome.summary, attempt, outcome.output, None)
            except Cancelled:
                return finish("cancelled", "cancelled", attempt, {}, "the run was cancelled")
            except StepTimedOut as failure:
                status, failed = "timed_out", failure
            except StepFailed as failure:
                status, failed = "failed", failure
            except Exception as failure:  # a bug in a step kind must not kill the run record
                status = "failed"
                failed = StepFailed(f"{type(failure).__name__}: {failure}", retryable=False)
            if attempt >= step.retry.attempts or not failed.retryable:
                return finish(status, str(failed), attempt, failed.output, str(failed))
            try:
                _pause(delay, float("inf"), tools, "backing off")
            except Cancelled:
                return finish("cancelled", "cancelled", attempt, failed.output,
                              "the run was cancelled")
            delay *= step.retry.factor


def _all_steps(steps: list[Any], prefix: str) -> list[tuple[str, Any]]:
    found = []
    for index, step in enumerate(steps):
        path = f"{prefix}steps[{index}]"
        found.append((path, step))
        for number, compensation in enumerate(step.compensate):
            found.append((f"{path}.compensate[{number}]", compensation))
    return found

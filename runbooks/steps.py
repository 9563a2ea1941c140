"""The registry of step kinds: one function per kind, each doing its I/O through ``Tools``.

A step function gets the step's *rendered* fields (templates already resolved),
the injected tools and a monotonic deadline. It returns an :class:`Outcome` or
raises :class:`StepFailed` (``retryable`` says whether trying again can help) or
:class:`StepTimedOut`. Nothing here knows about Slack, the database or the bot:
the HTTP client, the signal reader, the notifier and the nested-runbook runner
are all handed in, so tests run the same code against a real gateway on loopback.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from runbooks.checks import executable_allowed

SignalReader = Callable[[str, datetime, datetime], Sequence[Any]]
Notifier = Callable[[str], None]


class StepFailed(Exception):
    """The step did not do its job; ``output`` is what it learned (already redacted)."""

    def __init__(self, message: str, *, output: Mapping[str, Any] | None = None,
                 retryable: bool = True) -> None:
        super().__init__(message)
        self.output = dict(output or {})
        self.retryable = retryable


class StepTimedOut(StepFailed):
    """The step ran past its ``timeout_seconds``."""


class Cancelled(Exception):
    """Someone cancelled the run; the engine stops before the next step."""


@dataclass(frozen=True)
class Outcome:
    summary: str
    output: dict[str, Any] = field(default_factory=dict)


def _utcnow() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


@dataclass
class Tools:
    """Everything a step may touch outside the process, injected by the caller."""

    http: httpx.Client | None = None
    read_signals: SignalReader | None = None
    notify: Notifier | None = None
    shell_allowlist: tuple[str, ...] = ()
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    clock: Callable[[], datetime] = _utcnow
    sleep: Callable[[float], None] = time.sleep
    cancelled: Callable[[], bool] = lambda: False
    # Set by the engine: runs another runbook by name with params before a deadline.
    run_runbook: Callable[[str, dict[str, Any], float], Outcome] | None = None
    secrets: set[str] = field(default_factory=set)  # values seen, redacted from outputs

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text

    def secret(self, name: str, *, required: bool = True) -> str | None:
        value = self.environ.get(name)
        if not value and not required:
            return None
        if not value:
            raise StepFailed(f"environment variable {name} (the step's secret) is not set",
                             retryable=False)
        self.secrets.add(value)
        return value


StepFunction = Callable[[dict[str, Any], Tools, float], Outcome]
STEP_FUNCTIONS: dict[str, StepFunction] = {}


def step_kind(kind: str) -> Callable[[StepFunction], StepFunction]:
    def register(function: StepFunction) -> StepFunction:
        STEP_FUNCTIONS[kind] = function
        return function

    return register


def remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def _pause(seconds: float, deadline: float, tools: Tools, what: str) -> None:
    """Sleep in short slices so cancellation and the deadline are honoured promptly."""
    end = time.monotonic() + seconds
    while True:
        if tools.cancelled():
            raise Cancelled()
        left = end - time.monotonic()
        if left <= 0:
            return
        if remaining(deadline) <= 0:
            raise StepTimedOut(f"timed out while {what}")
        tools.sleep(min(left, remaining(deadline), 0.25))


def _body_summary(response: httpx.Response, tools: Tools) -> str:
    text = response.text.strip().replace("\n", " ")
    return tools.redact(text[:300])


def _send(tools: Tools, method: str, url: str, *, headers: dict[str, str], body: Any,
          deadline: float) -> httpx.Response:
    timeout = max(remaining(deadline), 0.001)
    client = tools.http or httpx.Client()
    try:
        return client.request(method, url, headers=headers, json=body, timeout=timeout)
    except httpx.TimeoutException:
        raise StepTimedOut(f"{method} {url} timed out after {timeout:.1f}s") from None
    except httpx.HTTPError as error:
        raise StepFailed(tools.redact(f"{method} {url} failed: {error}")) from None
    finally:
        if tools.http is None:
            client.close()


@step_kind("http")
def run_http(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    method, url = step["method"], str(step["url"])
    headers = {str(k): str(v) for k, v in (step.get("headers") or {}).items()}
    secret = tools.secret(step["secret_env"], required=step["secret_required"]) \
        if step.get("secret_env") else None
    if secret:
        headers[step["secret_header"]] = step["secret_prefix"] + secret
    response = _send(tools, method, url, headers=headers, body=step.get("json_body"),
                     deadline=deadline)
    output = {"status": response.status_code, "body": _body_summary(response, tools)}
    expected = step.get("expect_status") or []
    ok = response.status_code in expected if expected else response.is_success
    if not ok:
        # 5xx and 429 may pass; a 4xx will say the same thing next time.
        retryable = response.status_code >= 500 or response.status_code == 429
        raise StepFailed(f"{method} {url} answered {response.status_code}: {output['body']}",
                         output=output, retryable=retryable)
    return Outcome(f"{method} {url} -> {response.status_code}", output)


@step_kind("flag")
def run_flag(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    enabled = step["enabled"]
    if isinstance(enabled, str):
        enabled = enabled.strip().lower() in ("true", "yes", "on", "1")
    url = f"{str(step['service_url']).rstrip('/')}/flags/{step['flag']}"
    headers = {}
    secret = tools.secret(step["secret_env"], required=step["secret_required"]) \
        if step.get("secret_env") else None
    if secret:
        headers["Authorization"] = "Bearer " + secret
    response = _send(tools, "PUT", url, headers=headers, body={"enabled": bool(enabled)},
                     deadline=deadline)
    output = {"status": response.status_code, "flag": step["flag"], "enabled": bool(enabled)}
    if not response.is_success:
        raise StepFailed(f"flag {step['flag']}: {url} answered {response.status_code}: "
                         f"{_body_summary(response, tools)}", output=output,
                         retryable=response.status_code >= 500)
    return Outcome(f"flag {step['flag']} set to {'on' if enabled else 'off'}", output)


@step_kind("wait")
def run_wait(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    try:
        seconds = float(step["seconds"])
    except (TypeError, ValueError):
        raise StepFailed(f"wait: {step['seconds']!r} is not a number of seconds",
                         retryable=False) from None
    _pause(seconds, deadline, tools, f"waiting {seconds:g}s")
    return Outcome(f"waited {seconds:g}s", {"seconds": seconds})


def _bound(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StepFailed(f"verify: bound {name}={value!r} is not a number",
                         retryable=False) from None


def _judge(records: Sequence[Any], check: dict[str, Any], samples: int,
           for_seconds: float) -> dict[str, Any]:
    """Whether the last ``samples`` readings of one SLI are all within its bounds."""
    low, high = _bound(check.get("min"), "min"), _bound(check.get("max"), "max")
    wanted = {str(k): str(v) for k, v in (check.get("slice") or {}).items()}
    series = sorted((r for r in records if getattr(r, "type", "signal") == "signal"
                     and r.name == check["signal"] and dict(r.slice) == wanted),
                    key=lambda r: r.ts)
    last = series[-samples:]
    values = [round(float(r.value), 6) for r in last]
    within = [(low is None or v >= low) and (high is None or v <= high) for v in values]
    span = (last[-1].ts - last[0].ts).total_seconds() if len(last) > 1 else 0.0
    ok = len(last) >= samples and all(within) and span >= for_seconds
    return {"signal": check["signal"], "min": low, "max": high, "slice": wanted,
            "last_values": values, "ok": ok}


@step_kind("verify")
def run_verify(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    """Poll the service's signals until every check holds, or fail at the deadline.

    Only readings taken after the step started count, so the bad samples that
    caused the incident cannot vouch for the fix.
    """
    if tools.read_signals is None:
        raise StepFailed("verify: no signal reader is configured", retryable=False)
    service = str(step["service"])
    since = tools.clock()
    try:
        samples, for_seconds = int(step["samples"]), float(step["for_seconds"])
        poll = float(step["poll_seconds"])
    except (TypeError, ValueError):
        raise StepFailed("verify: samples, for_seconds and poll_seconds must be numbers",
                         retryable=False) from None
    if samples < 1 or for_seconds < 0 or poll <= 0:
        raise StepFailed("verify: samples must be >= 1, for_seconds >= 0, poll_seconds > 0",
                         retryable=False)
    judged: list[dict[str, Any]] = []
    polls = 0
    while True:
        polls += 1
        records = tools.read_signals(service, since, tools.clock() + timedelta(seconds=1))
        judged = [_judge(records, check, samples, for_seconds) for check in step["checks"]]
        if all(item["ok"] for item in judged):
            output = {"verdict": "recovered", "checks": judged, "polls": polls}
            names = ", ".join(item["signal"] for item in judged)
            return Outcome(f"verified: {names} within bounds for {samples} samples", output)
        if remaining(deadline) <= 0:
            break
        try:
            _pause(poll, deadline, tools, "verifying")
        except StepTimedOut:
            break
    failing = ", ".join(f"{i['signal']}={i['last_values'][-1:] or 'no data'}" for i in judged
                        if not i["ok"])
    raise StepTimedOut(f"not recovered before the timeout: {failing}",
                       output={"verdict": "not_recovered", "checks": judged, "polls": polls},
                       retryable=False)


@step_kind("notify")
def run_notify(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    if tools.notify is None:
        raise StepFailed("notify: no notifier is configured", retryable=False)
    text = str(step["text"])
    tools.notify(text)
    return Outcome(f"posted: {text[:120]}", {"text": text})


@step_kind("shell")
def run_shell(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    """Run an allow-listed executable with an argv list; there is never a shell."""
    argv = [str(arg) for arg in step["argv"]]
    if not executable_allowed(argv[0], tools.shell_allowlist):
        raise StepFailed(f"{argv[0]!r} is not on the catalog's runbooks.shell_allowlist",
                         retryable=False)
    timeout = max(remaining(deadline), 0.001)
    try:
        done = subprocess.run(argv, shell=False, capture_output=True, text=True,
                              timeout=timeout, cwd=step.get("cwd") or None,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise StepTimedOut(f"{argv[0]} timed out after {timeout:.1f}s") from None
    except OSError as error:
        raise StepFailed(f"{argv[0]}: {error.strerror}", retryable=False) from None
    stderr = tools.redact(done.stderr[-500:])
    output = {"exit_code": done.returncode, "argv": argv,
              "stdout": tools.redact(done.stdout[-500:]), "stderr": stderr}
    if done.returncode != 0:
        raise StepFailed(f"{argv[0]} exited {done.returncode}: {stderr[-200:]}",
                         output=output)
    return Outcome(f"{argv[0]} exited 0", output)


@step_kind("runbook")
def run_nested(step: dict[str, Any], tools: Tools, deadline: float) -> Outcome:
    if tools.run_runbook is None:
        raise StepFailed("runbook: nested runbooks are not available here", retryable=False)
    return tools.run_runbook(step["runbook"], dict(step.get("params") or {}), deadline)

"""Where each signal of a service comes from, as the catalog describes it.

A signal is either pushed in the exchange format (``source: push``, the default)
or pulled from Prometheus with PromQL. Validation happens when the catalog loads,
so a typo in a step or a missing value label stops the bot at start, with the
path of the bad field, instead of failing silently at 3 a.m.

.. code-block:: yaml

    prometheus:
      url: http://prometheus:9090
      bearer_token_env: PROMETHEUS_TOKEN
    services:
      - name: rag-assistant
        signals:
          - name: thumbs_down_rate
            layer: quality
            bad: up
            kind: ratio
            source:
              type: prometheus
              query: >-
                sum by (tenant) (rate(thumbs_down_total[5m]))
                / sum by (tenant) (rate(feedback_total[5m]))
              count_query: sum by (tenant) (rate(feedback_total[5m])) * 60
              slice_labels: {tenant: tenant}
              step: 1m
"""

from __future__ import annotations

import os
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from classifiers.vocabulary import Direction, Layer, SignalKind

_STEP = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def step_seconds(value: str | float) -> float:
    """A Prometheus step (``15s``, ``1m``, or a number of seconds) in seconds."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _STEP.match(str(value).strip())
        if match is None:
            raise ValueError(f"{value!r} is not a step (like 15s, 1m, 1h or a number of seconds)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not seconds >= 0.001:
        raise ValueError(f"step must be at least 1ms, got {value!r}")
    return seconds


class BasicAuth(_Strict):
    username: str = Field(min_length=1)
    password: str | None = None
    password_env: str | None = None  # read at query time, so the secret stays out of the file

    def resolved_password(self) -> str:
        if self.password_env:
            return os.environ.get(self.password_env, "")
        return self.password or ""


class PrometheusServer(_Strict):
    """How to reach one Prometheus (or anything speaking its HTTP query API)."""

    url: str = Field(pattern=r"^https?://")
    bearer_token: str | None = None
    bearer_token_env: str | None = None
    basic_auth: BasicAuth | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Steps per series in one range query; Prometheus itself refuses more than 11,000.
    max_points: int = Field(default=11_000, ge=2, le=1_000_000)
    # Samples in one answer, all series together: a bound on memory and time.
    max_samples: int = Field(default=2_000_000, ge=2)

    @model_validator(mode="after")
    def _one_auth(self) -> PrometheusServer:
        token = self.bearer_token is not None or self.bearer_token_env is not None
        if token and self.basic_auth is not None:
            raise ValueError("use either a bearer token or basic_auth, not both")
        return self

    def resolved_token(self) -> str | None:
        if self.bearer_token_env:
            return os.environ.get(self.bearer_token_env) or None
        return self.bearer_token


class PrometheusSource(_Strict):
    """PromQL that yields one signal, distribution or state per slice.

    ``query`` gives the value: for a ``signal`` a number per series; for a
    ``distribution`` the rate or increase of a histogram's ``_bucket`` series (each
    with its ``le`` label), turned into counts per bucket; for a ``state`` an
    info-style metric whose label ``value_label`` is the served value.
    ``count_query`` gives the exchange format's ``count`` (for a ratio: requests
    per step, e.g. ``sum by (tenant) (rate(requests_total[5m])) * 60`` at step 1m).
    ``slice_labels`` maps Prometheus labels to slice dimensions; other labels
    are dropped, so aggregate ``by`` exactly those labels.
    """

    type: Literal["prometheus"]
    query: str = Field(min_length=1)
    count_query: str | None = None
    slice_labels: dict[str, str] = Field(default_factory=dict)
    step: float = 60.0
    value_label: str | None = None       # states: the label holding the served value
    expected_label: str | None = None    # states: the label holding the expected value
    expected: str | None = None          # states: a fixed expected value
    server: PrometheusServer | None = None  # this signal only; else the catalog's `prometheus:`

    @field_validator("step", mode="before")
    @classmethod
    def _step(cls, value: str | float) -> float:
        return step_seconds(value)

    @field_validator("slice_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for label in value:
            if not _LABEL.match(label):
                raise ValueError(f"{label!r} is not a Prometheus label name")
        return value


class SignalSpec(_Strict):
    """One signal of a service: what it measures, which side is bad, where it comes from."""

    name: str = Field(min_length=1, max_length=200)
    layer: Layer
    bad: Direction | None = None
    kind: SignalKind | None = None
    record: Literal["signal", "distribution", "state"] = "signal"
    source: Literal["push"] | PrometheusSource = "push"

    @model_validator(mode="after")
    def _coherent(self) -> SignalSpec:
        source = self.source
        if isinstance(source, PrometheusSource):
            if self.record == "state" and not source.value_label:
                raise ValueError("a state from Prometheus needs source.value_label "
                                 "(the label that holds the served value)")
            if self.record != "state" and (source.value_label or source.expected_label
                                           or source.expected):
                raise ValueError("value_label, expected_label and expected apply to states only")
            if self.record != "signal" and source.count_query:
                raise ValueError("count_query applies to signals only")
        return self

    @property
    def pulled(self) -> bool:
        return isinstance(self.source, PrometheusSource)


def check_servers(signals: list[SignalSpec], default: PrometheusServer | None,
                  where: str) -> None:
    """Every Prometheus signal must know its server; raises ``ValueError`` naming the one."""
    for index, spec in enumerate(signals):
        source = spec.source
        if isinstance(source, PrometheusSource) and source.server is None and default is None:
            raise ValueError(f"{where}.signals[{index}] ({spec.name}): a Prometheus source "
                             "needs a top-level `prometheus: {url: ...}` or source.server")

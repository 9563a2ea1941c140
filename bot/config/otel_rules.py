"""How OTLP metrics map onto signals: the catalog's ``otel:`` section and the built-in rules.

A metric's layer and bad direction come from the first rule that matches its
name: the catalog's rules in order, then the built-in rules for the exporters
teams already run (vLLM, NVIDIA DCGM, Triton, the HTTP and GenAI semantic
conventions), then ``default_layer`` with the direction the name suggests.

.. code-block:: yaml

    otel:
      rules:
        # rag.quality.groundedness -> groundedness
        - {prefix: "rag.quality.", layer: quality, rename: ""}
        - {regex: "^rag\\.cost\\.(.*)$", layer: cost, bad: up, rename: "\\1"}
      ratios:
        - {name: thumbs_down_rate, numerator: rag.feedback.thumbs_down,
           denominator: rag.feedback.total, layer: quality, bad: up}
      attributes: {gen_ai.request.model: model_version}   # data-point attribute -> slice dimension
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from classifiers.vocabulary import Direction, Layer, default_direction


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricRule(_Strict):
    """Metrics whose name starts with ``prefix`` (or matches ``regex``) go to ``layer``.

    ``rename`` gives the signal its name: for a prefix rule it replaces the prefix
    (``""`` strips it), for a regex rule it is the match's expansion (``\\1``).
    Without it the signal keeps the metric's name. ``bad`` unset: the name decides.
    """

    prefix: str | None = Field(default=None, min_length=1)
    regex: str | None = Field(default=None, min_length=1)
    layer: Layer
    bad: Direction | None = None
    rename: str | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> MetricRule:
        if (self.prefix is None) == (self.regex is None):
            raise ValueError("a rule has exactly one of 'prefix' or 'regex'")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"regex {self.regex!r} does not compile: {error}") from None
        return self

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.regex) if self.regex is not None else None

    def apply(self, metric: str) -> str | None:
        """The signal name when this rule matches ``metric``, else ``None``."""
        if self.prefix is not None:
            if not metric.startswith(self.prefix):
                return None
            return metric if self.rename is None else self.rename + metric[len(self.prefix):]
        match = self._pattern.search(metric) if self._pattern else None
        if match is None:
            return None
        return metric if self.rename is None else match.expand(self.rename)


class RatioRule(_Strict):
    """A ratio signal from two monotonic sums exported together: numerator / denominator.

    Both are per-interval amounts of the same export (same service, time and
    slice); the ratio's ``count`` is the denominator, as the exchange format says.
    """

    name: str = Field(min_length=1, max_length=200)
    numerator: str = Field(min_length=1)
    denominator: str = Field(min_length=1)
    layer: Layer | None = None  # unset: the numerator's layer
    bad: Direction | None = None


class OtelOptions(_Strict):
    """The catalog's ``otel:`` section."""

    rules: list[MetricRule] = Field(default_factory=list)
    ratios: list[RatioRule] = Field(default_factory=list)
    # Data-point attribute -> slice dimension, for attributes named otherwise than the
    # catalog's slices (an attribute already named like a slice needs no entry).
    attributes: dict[str, str] = Field(default_factory=dict)
    service_attribute: str = "service.name"
    default_layer: Layer = "runtime"
    # The first point of a cumulative stream the bot has never seen counts only when
    # its start is this recent; older, it is the reference the next point is measured
    # against (otherwise a long-running counter would arrive as one huge interval).
    first_point_max_age_seconds: float = Field(default=300.0, ge=0)
    builtin_rules: bool = True

    @field_validator("ratios")
    @classmethod
    def _distinct(cls, value: list[RatioRule]) -> list[RatioRule]:
        names = [rule.name for rule in value]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ValueError(f"[{index}].name: duplicate ratio {name!r}")
        return value


def _rule(pattern: str, layer: Layer, bad: Direction | None = None) -> MetricRule:
    return MetricRule(regex=pattern, layer=layer, bad=bad)


# The exporters teams already have. First match wins, so specific patterns come first.
BUILTIN_RULES: tuple[MetricRule, ...] = (
    # vLLM (Prometheus names, vllm:*; the OTel collector keeps the colon)
    _rule(r"^vllm:(prompt|generation)_tokens", "cost", "up"),
    _rule(r"^vllm:(num_requests_waiting|num_preemptions|.*cache_usage|.*(latency|seconds|time))",
          "runtime", "up"),
    _rule(r"^vllm:(num_requests_running|.*throughput)", "runtime", "both"),
    _rule(r"^vllm:", "runtime"),
    # NVIDIA DCGM exporter
    _rule(r"^DCGM_FI_DEV_(GPU_TEMP|MEMORY_TEMP|XID_ERRORS|.*ECC|.*RETIRED|POWER_VIOLATION|"
          r"THERMAL_VIOLATION)", "infra", "up"),
    _rule(r"^DCGM_FI_(DEV_GPU_UTIL|DEV_MEM_COPY_UTIL|PROF_)", "infra", "both"),
    _rule(r"^DCGM_FI_", "infra"),
    # NVIDIA Triton Inference Server
    _rule(r"^nv_inference_(request_failure|.*duration|pending_request_count)", "runtime", "up"),
    _rule(r"^nv_inference_(request_success|count|exec_count)", "runtime", "down"),
    _rule(r"^nv_(gpu|energy)_", "infra"),
    _rule(r"^nv_", "runtime"),
    # OpenTelemetry semantic conventions: HTTP servers and generative AI
    _rule(r"^http\.server\.(request\.duration|.*\.size)", "runtime", "up"),
    _rule(r"^http\.server\.", "runtime"),
    _rule(r"^gen_ai\.client\.token\.usage", "cost", "up"),
    _rule(r"^gen_ai\.(client\.operation\.duration|server\.)", "runtime", "up"),
    _rule(r"^gen_ai\.evaluation\.", "eval"),
    _rule(r"^gen_ai\.", "model"),
)


@dataclass(frozen=True)
class Mapped:
    """Where one metric lands: its signal name, layer and bad direction."""

    name: str
    layer: Layer
    bad: Direction


class MetricMapper:
    """Metric name -> :class:`Mapped`, cached (an export repeats the same names)."""

    def __init__(self, options: OtelOptions) -> None:
        self.options = options
        self.rules = list(options.rules) + (list(BUILTIN_RULES) if options.builtin_rules else [])
        self._cache: dict[str, Mapped] = {}

    def map(self, metric: str) -> Mapped:
        found = self._cache.get(metric)
        if found is None:
            found = self._cache[metric] = self._map(metric)
        return found

    def _map(self, metric: str) -> Mapped:
        for rule in self.rules:
            name = rule.apply(metric)
            if name:
                return Mapped(name[:200], rule.layer, rule.bad or default_direction(name))
        return Mapped(metric[:200], self.options.default_layer, default_direction(metric))

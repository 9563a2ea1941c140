"""Weekly digest for a team of 50 services with a month of data, charts included.

Builds the inputs in memory (50 services, 37 days of signals every ``--step``
minutes: error rate overall and for two tenants, p95 latency, groundedness, cost
per 1k requests and tokens per request; three SLOs each; 6 weeks of incidents and
runbook runs), then times what the bot does for a digest once the records are
loaded: the content (SLO weeks, burn-downs, incidents, cost), the three charts,
the HTML report and the Block Kit message. Reading the records from the store is
not in the figure (it depends on the database, not on this code).

The reference, on the same records in the same run: the least any weekly report
does, one pass over every record summing its value per service, signal and ISO
week in plain Python (no SLOs, charts or templates). The last line prints ours,
the reference, the ratio and the target.

    python3 benchmarks/digest.py              # target: under 5 s
    python3 benchmarks/digest.py --step 5     # denser data
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config.catalog import parse_catalog  # noqa: E402
from bot.core.exchange_records import SignalRecord  # noqa: E402
from bot.reports.charts import digest_charts  # noqa: E402
from bot.reports.content import build_digest  # noqa: E402
from bot.reports.inputs import DigestInputs, IncidentFact, RunFact, ServiceData  # noqa: E402
from bot.reports.render import render_html, render_message  # noqa: E402
from bot.reports.weeks import IsoWeek  # noqa: E402

SERVICES = 50
WEEK = IsoWeek(2026, 47)
TARGET_SECONDS = 5.0
CLASSES = ("infrastructure", "data", "control_plane", "model", "eval_policy", "cost", None)

SLOS = [
    {"name": "availability", "sli": {"kind": "availability", "signal": "error_rate"},
     "target": 0.995, "window": "30d"},
    {"name": "latency", "sli": {"kind": "latency", "signal": "latency_p95_ms", "op": "<=",
                                "threshold": 1200}, "target": 0.99, "budgeting": "timeslices",
     "timeslice": "5m", "window": "30d"},
    {"name": "groundedness", "sli": {"kind": "quality", "signal": "groundedness", "op": ">=",
                                     "threshold": 0.85}, "target": 0.99,
     "budgeting": "timeslices", "timeslice": "5m", "window": "30d"},
]


def catalog(services: int):  # type: ignore[no-untyped-def]
    names = [f"svc-{i:02d}" for i in range(services)]
    return parse_catalog({"services": [{"name": n, "slos": SLOS} for n in names],
                          "teams": [{"name": "big", "channel": "C0BIG00001",
                                     "services": names}]}, "<benchmark>")


def records(name: str, seed: int, step_minutes: int) -> list[SignalRecord]:
    rng = np.random.default_rng(seed)
    end = WEEK.end
    start = end - timedelta(days=37)
    times = [start + timedelta(minutes=step_minutes * i)
             for i in range(int((end - start) / timedelta(minutes=step_minutes)))]
    n = len(times)
    bad = rng.random(n) < 0.01  # 1 % of intervals degraded
    error = np.where(bad, 0.08, 0.002) * rng.uniform(0.5, 1.5, n)
    latency = np.where(bad, 1500.0, 600.0) * rng.uniform(0.8, 1.2, n)
    grounded = np.where(bad, 0.7, 0.93) * rng.uniform(0.97, 1.03, n)
    cost = rng.uniform(1.5, 2.5) * (1 + 0.1 * (np.arange(n) > n * 0.8)) * rng.uniform(0.95, 1.05, n)
    tokens = rng.uniform(500, 1200) * rng.uniform(0.95, 1.05, n)
    out = []
    make = SignalRecord.model_construct
    for i, ts in enumerate(times):
        out += [
            make(type="signal", ts=ts, service=name, layer="runtime", name="error_rate",
                 value=float(error[i]), count=1000.0, kind="ratio", bad="up", slice={}),
            make(type="signal", ts=ts, service=name, layer="runtime", name="error_rate",
                 value=float(error[i] * 1.5), count=500.0, kind="ratio", bad="up",
                 slice={"tenant": "acme"}),
            make(type="signal", ts=ts, service=name, layer="runtime", name="error_rate",
                 value=float(error[i] * 0.5), count=500.0, kind="ratio", bad="up",
                 slice={"tenant": "globex"}),
            make(type="signal", ts=ts, service=name, layer="infra", name="latency_p95_ms",
                 value=float(latency[i]), count=1000.0, kind="gauge", bad="up", slice={}),
            make(type="signal", ts=ts, service=name, layer="quality", name="groundedness",
                 value=float(grounded[i]), count=200.0, kind="gauge", bad="down", slice={}),
            make(type="signal", ts=ts, service=name, layer="cost", name="cost_per_1k_requests",
                 value=float(cost[i]), count=1000.0, kind="gauge", bad="up", slice={}),
            make(type="signal", ts=ts, service=name, layer="cost", name="tokens_per_request",
                 value=float(tokens[i]), count=1000.0, kind="gauge", bad="up", slice={}),
        ]
    return out


def history(names: list[str], seed: int) -> tuple[list[IncidentFact], list[RunFact]]:
    rng = np.random.default_rng(seed)
    incidents, runs = [], []
    first = WEEK.previous(5).start
    for index in range(len(names) * 3):
        created = first + timedelta(minutes=int(rng.integers(0, 6 * 7 * 24 * 60)))
        ack = created + timedelta(minutes=int(rng.integers(1, 40)))
        resolved = ack + timedelta(minutes=int(rng.integers(10, 300)))
        label = CLASSES[int(rng.integers(0, len(CLASSES)))]
        incidents.append(IncidentFact(
            id=index + 1, service=names[index % len(names)], title=f"incident {index + 1}",
            created_at=created, behavior=label,
            source=("alert", "detector", "budget")[int(rng.integers(0, 3))],
            acknowledged_at=ack, mitigated_at=resolved, resolved_at=resolved,
            budget_impact={"slos": {"availability": {"share": float(rng.uniform(0, 0.2))}}},
            suspect_kind=("model", "prompt", "features", None)[int(rng.integers(0, 4))]))
        runs.append(RunFact(incident_id=index + 1, runbook="rollback-model",
                            status="succeeded" if rng.random() < 0.8 else "failed",
                            verdict="recovered" if rng.random() < 0.6 else None,
                            created_at=ack))
    return incidents, runs


def weekly_sums(inputs: DigestInputs) -> dict[tuple[str, str, tuple[int, int]], float]:
    """The reference: every record's value summed per service, signal and ISO week."""
    sums: dict[tuple[str, str, tuple[int, int]], float] = {}
    weeks: dict[object, tuple[int, int]] = {}
    for service in inputs.services:
        for record in service.records:
            day = record.ts.date()
            week = weeks.get(day)
            if week is None:
                week = weeks[day] = day.isocalendar()[:2]
            key = (service.name, record.name, week)
            sums[key] = sums.get(key, 0.0) + record.value
    return sums


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=SERVICES)
    parser.add_argument("--step", type=int, default=15, help="minutes between records")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    cat = catalog(args.services)
    names = [s.name for s in cat.services]
    data = [ServiceData(name, tuple(cat.service(name).slos), records(name, i, args.step))
            for i, name in enumerate(names)]
    incidents, runs = history(names, 7)
    inputs = DigestInputs(team="big", channel="C0BIG00001", week=WEEK, services=tuple(data),
                          incidents=tuple(incidents), runs=tuple(runs))
    count = sum(len(s.records) for s in data)
    print(f"inputs: {args.services} services, {count:,} signal records over 37 days "
          f"(every {args.step} min), {len(incidents)} incidents, {len(runs)} runbook runs; "
          f"built in {time.perf_counter() - started:.1f} s")

    timings = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        digest = build_digest(inputs)
        t1 = time.perf_counter()
        charts = digest_charts(digest)
        t2 = time.perf_counter()
        html = render_html(digest, generated_at=datetime.now(UTC), charts=charts)
        message = render_message(digest)
        t3 = time.perf_counter()
        timings.append((t3 - t0, t1 - t0, t2 - t1, t3 - t2))
    reference = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        weekly_sums(inputs)
        reference.append(time.perf_counter() - t0)
    reference_s = statistics.median(reference)
    total = statistics.median(t[0] for t in timings)
    content, chart, render = (statistics.median(t[i] for t in timings) for i in (1, 2, 3))
    print(f"digest: {len(digest.slos)} SLOs, {len(message.blocks)} Slack blocks, "
          f"HTML {len(html) / 1024:.0f} KiB with {sum(1 for c in charts.values() if c)} charts")
    print(f"weekly digest for {args.services} services: {total:.2f} s median of "
          f"{args.repeat} (content {content:.2f} s, charts {chart:.2f} s, "
          f"templates {render:.2f} s); target < {TARGET_SECONDS:.0f} s: "
          f"{'met' if total < TARGET_SECONDS else 'MISSED'}")
    print(f"reference, one pass summing every record per service, signal and week: "
          f"{reference_s:.2f} s median of {args.repeat}")
    print(f"\nweekly digest, {args.services} services: ours {total:.2f} s | reference "
          f"(weekly sums in one pass) {reference_s:.2f} s | ratio {total / reference_s:.1f}x | "
          f"target < {TARGET_SECONDS:.0f} s | {'PASS' if total < TARGET_SECONDS else 'FAIL'}")
    return 0 if total < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

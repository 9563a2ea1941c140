"""Demo act: a service whose signals are read straight from a real Prometheus.

Runs only with ``resilio demo --prometheus`` and when the ``prometheus`` binary is
installed (Debian package ``prometheus``). It starts Prometheus on loopback with
ten minutes of history, scraping a small exporter; tenant acme's thumbs-down rate
then surges after a model change, and the silent-degradation watch finds it from
the pulled series, with no signal pushed to the bot.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from datetime import UTC, datetime, timedelta

from bot.config.catalog import Service
from bot.config.source_spec import PrometheusServer, SignalSpec
from bot.core.exchange_records import ChangeRecord
from bot.demo.context import DemoContext
from bot.demo.prometheus_lab import FeedbackLedger, PrometheusProcess, next_second
from bot.diagnosis.watch import run_watch
from bot.sources import load_signals
from store.db import session_scope
from store.signal_queries import save_records

SERVICE = "chat-llm"
HISTORY_SECONDS = 600
DEGRADED_SECONDS = 20
_DELTA = "(feedback{kind}_total - feedback{kind}_total offset 1s)"


def _signals() -> list[SignalSpec]:
    down, total = _DELTA.format(kind="_thumbs_down"), _DELTA.format(kind="")
    specs = [
        {"name": "thumbs_down_rate", "layer": "quality", "bad": "up", "kind": "ratio",
         "source": {"type": "prometheus", "step": "1s", "slice_labels": {"tenant": "tenant"},
                    "query": f"sum by (tenant) {down} / sum by (tenant) {total}",
                    "count_query": f"sum by (tenant) {total}"}},
        {"name": "thumbs_down_rate", "layer": "quality", "bad": "up", "kind": "ratio",
         "source": {"type": "prometheus", "step": "1s", "query": f"sum {down} / sum {total}",
                    "count_query": f"sum {total}"}},
        {"name": "served_model_version", "layer": "control", "record": "state",
         "source": {"type": "prometheus", "step": "1s", "query": "served_model_info",
                    "value_label": "version", "expected_label": "expected_version"}},
    ]
    return [SignalSpec.model_validate(spec) for spec in specs]


def act(ctx: DemoContext) -> None:
    if not ctx.prometheus:
        return
    ctx.heading("Signals read straight from Prometheus")
    binary, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if binary is None or promtool is None:
        ctx.say("prometheus/promtool not found (Debian package prometheus): act skipped")
        ctx.summary["prometheus"] = {"ran": False}
        return
    now = int(time.time())
    ledger = FeedbackLedger(("acme", "globex", "initech"), now - HISTORY_SECONDS)
    lab = PrometheusProcess(binary, promtool, ledger).start(history_until=now - 1)
    try:
        lab.wait_for_samples("count(up == 1)", 1)
        ctx.say(f"Prometheus on {lab.url} (10 min of history, scraping an exporter on "
                f"127.0.0.1:{lab.exporter_port} every 1s); {SERVICE} has no pushed signals")
        _run(ctx, lab, ledger)
    finally:
        lab.stop()


def _run(ctx: DemoContext, lab: PrometheusProcess, ledger: FeedbackLedger) -> None:

    base = ctx.services.catalog
    service = Service(name=SERVICE, description="chat model read from Prometheus",
                      slices=["tenant"], signals=_signals(),
                      owners=(base.services[0].owners if base.services else {}))
    # Only this service: the watch here must not re-diagnose the other acts' services.
    catalog = base.model_copy(update={"services": [service], "teams": [],
                                      "prometheus": PrometheusServer(url=lab.url)})
    services = dataclasses.replace(ctx.services, catalog=catalog)
    since = next_second() + 1
    with session_scope(services.engine) as session:
        save_records(session=session, records=[ChangeRecord(
            type="change", ts=datetime.fromtimestamp(since - 30, UTC), service=SERVICE,
            kind="model", ref="v8", previous="v7", author="demo")])
    ledger.inject("acme", 0.35, since)
    ctx.say(f"model change v8 pushed; acme's thumbs-down rate rises to 35 % from "
            f"{datetime.fromtimestamp(since, UTC):%H:%M:%S}; waiting {DEGRADED_SECONDS}s "
            "for scrapes")
    lab.wait_for_samples("min(timestamp(feedback_total))", since + DEGRADED_SECONDS,
                         timeout=DEGRADED_SECONDS + 20)
    at = datetime.fromtimestamp(since + DEGRADED_SECONDS, UTC)
    with session_scope(services.engine) as session:
        load = load_signals(services, session=session, service=SERVICE,
                            start=at - timedelta(minutes=5), end=at)
    ctx.say(f"pulled {len(load.records)} records from Prometheus; errors: "
            f"{load.errors or 'none'}")
    opened = run_watch(services, now=at)
    ctx.say(f"watch over the pulled series opened incident(s) {opened or 'none'}")
    ctx.summary["prometheus"] = {"ran": True, "url": lab.url, "records": len(load.records),
                                 "errors": load.errors, "incidents": opened}

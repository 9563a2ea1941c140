"""The OTLP/HTTP receiver's protocol: encodings, gzip, refusals, partial success, stream state."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2

from bot.app.server import ServerThread
from bot.config.catalog import parse_catalog
from bot.config.settings import Settings
from bot.core.services import Services, build_services
from tests.conftest import TOKEN
from tests.otel.support import API_TOKEN, CATALOG, one, series

PROTOBUF = {"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {TOKEN}"}
READ = {"Authorization": f"Bearer {API_TOKEN}"}
NOW = time.time_ns()
MINUTE = 60 * 10**9


def _services(db_url: str) -> Services:
    return build_services(Settings(DATABASE_URL=db_url, RESILIO_WEBHOOK_TOKEN=TOKEN,
                                   RESILIO_API_TOKEN=API_TOKEN, RESILIO_RUN_SCHEDULER="false"),
                          parse_catalog(yaml.safe_load(CATALOG)))


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[Services, str]]:
    services = _services(db_url)
    with ServerThread(services) as server:
        yield services, server.url
    services.close()


def _attrs(**values: str) -> list[KeyValue]:
    return [KeyValue(key=k.replace("__", "."), value=AnyValue(string_value=v))
            for k, v in values.items()]


def request_of(*metrics: metrics_pb2.Metric, service: str = "rag-assistant"
               ) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.extend(_attrs(service__name=service))
    resource.scope_metrics.add().metrics.extend(metrics)
    return request


def counter(name: str, *points: tuple[int, int, float], tenant: str = "acme",
            temporality: int = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
            ) -> metrics_pb2.Metric:
    metric = metrics_pb2.Metric(name=name)
    metric.sum.aggregation_temporality = temporality
    metric.sum.is_monotonic = True
    for start, at, value in points:
        point = metric.sum.data_points.add(start_time_unix_nano=start, time_unix_nano=at,
                                           as_double=value)
        point.attributes.extend(_attrs(tenant=tenant))
    return metric


def post(url: str, request: ExportMetricsServiceRequest) -> httpx.Response:
    return httpx.post(f"{url}/otlp/v1/metrics", content=request.SerializeToString(),
                      headers=PROTOBUF, timeout=10)


def counts(url: str, name: str = "rag.feedback.total") -> list[float]:
    found = series(url, service="rag-assistant", since="2000-01-01T00:00:00Z")
    return [p["value"] for p in one(found, name, {"tenant": "acme"})["points"]]


def test_json_encoding_with_gzip_answers_in_json(served: tuple[Services, str]) -> None:
    _, url = served
    body = json_format.MessageToJson(request_of(counter(
        "rag.feedback.total", (NOW - MINUTE, NOW, 7.0))))
    assert '"timeUnixNano"' in body  # protobuf's JSON mapping, as OTLP/JSON writes it
    response = httpx.post(f"{url}/otlp/v1/metrics", content=gzip.compress(body.encode()),
                          headers={"Content-Type": "application/json",
                                   "Content-Encoding": "gzip",
                                   "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {}  # full success: no partial_success
    assert counts(url) == [7.0]


def test_unreadable_requests_are_refused_with_the_reason(served: tuple[Services, str]) -> None:
    _, url = served
    endpoint = f"{url}/otlp/v1/metrics"
    garbage = httpx.post(endpoint, content=b"\xff\xff\xff not protobuf", headers=PROTOBUF)
    assert garbage.status_code == 400
    status = status_pb2.Status.FromString(garbage.content)  # OTLP: a google.rpc.Status
    assert "not an OTLP ExportMetricsServiceRequest in protobuf" in status.message

    bad_json = httpx.post(endpoint, content=b'{"resourceMetrics": [', headers={
        **PROTOBUF, "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "malformed JSON" in bad_json.json()["message"]
    wrong_shape = httpx.post(endpoint, content=b'{"resourceMetrics": 5}', headers={
        **PROTOBUF, "Content-Type": "application/json"})
    assert wrong_shape.status_code == 400 and "resourceMetrics" in wrong_shape.json()["message"]

    not_gzip = httpx.post(endpoint, content=b"plain", headers={**PROTOBUF,
                                                               "Content-Encoding": "gzip"})
    assert not_gzip.status_code == 400 and b"not gzip data" in not_gzip.content
    text = httpx.post(endpoint, content=b"x", headers={**PROTOBUF, "Content-Type": "text/plain"})
    assert text.status_code == 415
    no_token = httpx.post(endpoint, content=b"", headers={"Content-Type": "application/json"})
    assert no_token.status_code == 401
    wrong = httpx.post(endpoint, content=b"", headers={**PROTOBUF,
                                                       "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert series(url, service="rag-assistant", since="2000-01-01T00:00:00Z") == []


def test_partial_success_names_the_rejected_points_and_keeps_the_rest(
        served: tuple[Services, str]) -> None:
    _, url = served
    good = counter("rag.feedback.total", (NOW - MINUTE, NOW, 9.0))
    no_time = counter("rag.feedback.thumbs_down", (NOW - MINUTE, 0, 1.0))
    histogram = metrics_pb2.Metric(name="http.server.request.duration")
    histogram.histogram.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
    histogram.histogram.data_points.add(time_unix_nano=NOW, count=3, bucket_counts=[1, 2],
                                        explicit_bounds=[1.0, 2.0, 3.0])
    gauge = metrics_pb2.Metric(name="rag.quality.groundedness")
    gauge.gauge.data_points.add(time_unix_nano=NOW, as_double=float("nan"))
    response = post(url, request_of(good, no_time, histogram, gauge))
    assert response.status_code == 200
    answer = ExportMetricsServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_data_points == 3
    message = answer.partial_success.error_message
    assert "3 of 4 data points rejected" in message
    assert "metrics[1] ('rag.feedback.thumbs_down'" in message and "time_unix_nano is 0" in message
    assert "metrics[2] ('http.server.request.duration'" in message
    assert "2 bucket_counts for 3 explicit_bounds" in message
    assert "value is nan" in message
    assert counts(url) == [9.0]  # the valid point is stored


def test_retries_and_late_points_are_counted_once(served: tuple[Services, str]) -> None:
    _, url = served
    start = NOW - 10 * MINUTE
    first = request_of(counter("rag.feedback.total", (start, start + MINUTE, 10.0)))
    assert post(url, first).status_code == 200
    assert post(url, first).status_code == 200  # the exporter's retry
    later = request_of(counter("rag.feedback.total", (start, start + 3 * MINUTE, 30.0)))
    late = request_of(counter("rag.feedback.total", (start, start + 2 * MINUTE, 20.0)))
    assert post(url, later).status_code == 200
    assert post(url, late).status_code == 200  # arrives after a later cumulative point
    assert counts(url) == [10.0, 20.0]

    delta = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
    d1 = request_of(counter("rag.feedback.thumbs_down", (start, start + MINUTE, 2.0),
                            temporality=delta))
    d3 = request_of(counter("rag.feedback.thumbs_down", (start + 2 * MINUTE, start + 3 * MINUTE,
                                                         4.0), temporality=delta))
    d2 = request_of(counter("rag.feedback.thumbs_down", (start + MINUTE, start + 2 * MINUTE,
                                                         3.0), temporality=delta))
    for request in (d1, d1, d3, d2, d3):
        assert post(url, request).status_code == 200
    assert counts(url, "rag.feedback.thumbs_down") == [2.0, 3.0, 4.0]  # late d2 kept, no repeats


def test_an_old_counter_first_seen_is_a_reference_not_one_huge_interval(
        served: tuple[Services, str]) -> None:
    _, url = served
    started = NOW - 3 * 24 * 60 * MINUTE  # the process has run for days
    post(url, request_of(counter("rag.feedback.total", (started, NOW - MINUTE, 1e6))))
    post(url, request_of(counter("rag.feedback.total", (started, NOW, 1e6 + 42))))
    assert counts(url) == [42.0]


def test_cumulative_state_survives_a_restart_of_the_bot(db_url: str) -> None:
    start = NOW - 10 * MINUTE
    for value, at in ((10.0, start + MINUTE), (25.0, start + 2 * MINUTE)):
        services = _services(db_url)  # a new process's memory: nothing but the database
        with ServerThread(services) as server:
            assert post(server.url, request_of(counter("rag.feedback.total",
                                                       (start, at, value)))).status_code == 200
            seen = counts(server.url)
        services.close()
    assert seen == [10.0, 15.0]


def test_signals_are_paged_without_loss(served: tuple[Services, str]) -> None:
    _, url = served
    start = NOW - 100 * MINUTE
    metric = counter("rag.feedback.total", *[(start + i * MINUTE, start + (i + 1) * MINUTE,
                                              float(i)) for i in range(40)],
                     temporality=metrics_pb2.AGGREGATION_TEMPORALITY_DELTA)
    assert post(url, request_of(metric)).status_code == 200
    pages, cursor, values = 0, None, []
    while True:
        params = {"service": "rag-assistant", "since": "2000-01-01T00:00:00Z", "limit": 7,
                  "name": "rag.feedback.total", **({"cursor": cursor} if cursor else {})}
        body = httpx.get(f"{url}/v1/signals", params=params, headers=READ).json()
        pages += 1
        values += [p["value"] for s in body["series"] if s["slice"] == {"tenant": "acme"}
                   for p in s["points"]]
        cursor = body["next"]
        if not cursor:
            break
    assert values == [float(i) for i in range(40)] and pages >= 12
    bad = httpx.get(f"{url}/v1/signals", params={"service": "x", "cursor": "nonsense"},
                    headers=READ)
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]
    assert json.loads(httpx.get(f"{url}/v1/signals", headers=READ, params={
        "service": "x", "layer": "nope"}).text)["detail"].startswith("layer 'nope'")
    assert httpx.get(f"{url}/v1/signals", params={"service": "x"}).status_code == 401


def test_garbage_never_gets_a_500(served: tuple[Services, str]) -> None:
    """Truncated, bit-flipped and random bodies in both encodings: a 4xx or a partial success."""
    import random

    _, url = served
    good = request_of(counter("rag.feedback.total", (NOW - MINUTE, NOW, 3.0))).SerializeToString()
    text = json_format.MessageToJson(request_of(counter("rag.feedback.total",
                                                        (NOW - MINUTE, NOW, 3.0)))).encode()
    rng = random.Random(5)
    bodies: list[tuple[str, bytes]] = []
    for _ in range(40):
        cut = rng.randrange(1, len(good))
        flipped = bytearray(good)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        bodies += [("application/x-protobuf", good[:cut]),
                   ("application/x-protobuf", bytes(flipped)),
                   ("application/x-protobuf", rng.randbytes(rng.randrange(1, 200))),
                   ("application/json", text[:rng.randrange(1, len(text))]),
                   ("application/json", text.replace(b'"asDouble": 3.0',
                                                     b'"asDouble": "x"'))]
    with httpx.Client(timeout=10) as http:
        for content_type, body in bodies:
            response = http.post(f"{url}/otlp/v1/metrics", content=body,
                                 headers={**PROTOBUF, "Content-Type": content_type})
            assert response.status_code in (200, 400), (response.status_code, body[:60])

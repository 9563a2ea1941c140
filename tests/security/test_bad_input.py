"""No input gives a 500: every intake endpoint against every kind of hostile value.

Each case sends a batch of one good record and one bad one, or a body that is bad
as a whole, over HTTP to the running bot on SQLite and on PostgreSQL. A bad record
is refused with its place (``alerts[1]``, ``line 2``) and reason while the good one
is kept; a bad body is a 4xx that says what is wrong.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from bot.app.server import ServerThread
from tests.conftest import API_TOKEN, TOKEN, make_services
from tests.support.binaries import missing

GOOD_TS = "2026-11-26T10:00:00Z"
LONG = "s" * 300


@dataclass(frozen=True)
class Bad:
    """One hostile value, as a raw JSON fragment for each kind of record."""

    name: str
    alert_field: tuple[str, str]  # (key path in an Alertmanager alert, raw JSON value)
    record_field: tuple[str, str]  # (field of an exchange record, raw JSON value)
    reason: str  # what the refusal must say


BAD_VALUES = [
    Bad("far-future-time", ("startsAt", '"9999-12-31T23:59:59-05:00"'),
        ("ts", '"9999-12-31T23:59:59-05:00"'), "1970-2200"),
    Bad("year-one-time", ("startsAt", '"0001-01-01T00:00:00+01:00"'),
        ("ts", '"0001-01-01T00:00:00+01:00"'), "1970-2200"),
    Bad("before-1970", ("startsAt", '"1969-12-31T23:00:00Z"'),
        ("ts", '"1969-12-31T23:00:00Z"'), "1970-2200"),
    Bad("service-over-the-column", ("labels.service", json.dumps(LONG)),
        ("service", json.dumps(LONG)), "200"),
    Bad("nul-in-text", ("labels.team", '"a\\u0000b"'), ("service", '"rag\\u0000x"'), "NUL"),
    Bad("nan", ("labels.team", "NaN"), ("service", "NaN"), "string"),
]


def alert(extra: tuple[str, str] | None, index: int) -> str:
    labels = {"alertname": f"Case{index}", "service": "rag-assistant"}
    fields = {"status": '"firing"', "startsAt": json.dumps(GOOD_TS)}
    raw_labels = {k: json.dumps(v) for k, v in labels.items()}
    if extra:
        key, value = extra
        if key.startswith("labels."):
            raw_labels[key.removeprefix("labels.")] = value
        else:
            fields[key] = value
    fields["labels"] = "{" + ",".join(f'"{k}":{v}' for k, v in raw_labels.items()) + "}"
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"


def envelope(alerts: list[str]) -> bytes:
    return ('{"status":"firing","receiver":"resilio","version":"4","alerts":['
            + ",".join(alerts) + "]}").encode()


RECORDS = {
    "generic": {"type": "alert", "ts": GOOD_TS, "service": "rag-assistant", "name": "Case"},
    "signals": {"type": "signal", "ts": GOOD_TS, "service": "rag-assistant",
                "layer": "quality", "name": "groundedness", "value": 0.9},
    "changes": {"type": "change", "ts": GOOD_TS, "service": "rag-assistant", "kind": "model",
                "ref": "v8", "previous": "v7"},
}


def record(kind: str, extra: tuple[str, str] | None) -> str:
    fields = {k: json.dumps(v) for k, v in RECORDS[kind].items()}
    if extra:
        fields[extra[0]] = extra[1]
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"


ENDPOINTS = {
    "alertmanager": "/webhooks/alertmanager",
    "grafana": "/webhooks/grafana",
    "generic": "/webhooks/generic",
    "signals": "/v1/signals",
    "changes": "/v1/changes",
}


def one_good_one_bad(endpoint: str, bad: tuple[str, str] | None, raw_line: str | None = None
                     ) -> bytes:
    if endpoint in ("alertmanager", "grafana"):
        return envelope([alert(None, 0), raw_line or alert(bad, 1)])
    if endpoint == "generic":
        return ("[" + record("generic", None) + "," + (raw_line or record("generic", bad))
                + "]").encode()
    return (record(endpoint, None) + "\n" + (raw_line or record(endpoint, bad))).encode()


@dataclass
class Bot:
    url: str

    def post(self, endpoint: str, body: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}{ENDPOINTS[endpoint]}", content=body, timeout=60,
                          headers={"Authorization": f"Bearer {TOKEN}",
                                   "Content-Type": "application/json"})


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def bot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Bot]:
    """One bot per store for the whole module: no case here changes what another sees."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("bad-input") / "resilio.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        if cluster is None:
            missing("PostgreSQL binaries (initdb, postgres) not found: Debian package postgresql")
        url = cluster.url(cluster.create_database(template=request.getfixturevalue(
            "pg_template")))
    services = make_services(url, RESILIO_RUN_SCHEDULER="false")
    with ServerThread(services) as server:
        yield Bot(server.url)
    services.drain(30)
    services.close()


def kept_one_and_refused_the_second(answer: httpx.Response, endpoint: str, reason: str) -> None:
    assert answer.status_code in (200, 207), answer.text
    body = answer.json()
    assert body["accepted"] == 1, body
    (error,) = body["errors"]
    if endpoint in ("alertmanager", "grafana", "generic"):
        assert error["index"] == 1 and error["reason"].startswith("alerts[1]"), error
    else:
        assert error["line"] == 2, error
    assert reason in error["reason"], error


@pytest.mark.parametrize("bad", BAD_VALUES, ids=lambda bad: bad.name)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_bad_value_is_refused_in_its_record_and_the_good_record_kept(
        bot: Bot, endpoint: str, bad: Bad) -> None:
    field = bad.alert_field if endpoint in ("alertmanager", "grafana") else bad.record_field
    answer = bot.post(endpoint, one_good_one_bad(endpoint, field))
    kept_one_and_refused_the_second(answer, endpoint, bad.reason)


DEEP = "[" * 10_000 + "]" * 10_000
WHOLE_BODIES: dict[str, Callable[[str], bytes]] = {
    "nested-10000-deep": lambda endpoint: DEEP.encode(),
    "nested-10000-deep-inside": lambda endpoint: one_good_one_bad(
        endpoint, None, raw_line='{"type":"alert","x":' + DEEP + "}"),
    "not-utf8": lambda endpoint: one_good_one_bad(endpoint, None) + b"\xff\xfe",
    "lone-surrogate": lambda endpoint: one_good_one_bad(
        endpoint, ("labels.team", '"\\ud800"') if endpoint in ("alertmanager", "grafana")
        else ("service", '"\\ud800"')),
    "5000-digit-number": lambda endpoint: one_good_one_bad(
        endpoint, ("labels.team", "9" * 5000) if endpoint in ("alertmanager", "grafana")
        else ("value", "9" * 5000)),
    "empty": lambda endpoint: b"",
}


@pytest.mark.parametrize("case", list(WHOLE_BODIES))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_body_bad_as_a_whole_is_a_4xx_that_says_why(bot: Bot, endpoint: str,
                                                      case: str) -> None:
    answer = bot.post(endpoint, WHOLE_BODIES[case](endpoint))
    if endpoint in ("signals", "changes") and case in ("nested-10000-deep-inside",
                                                       "lone-surrogate", "5000-digit-number"):
        # JSON Lines: the bad line is refused and the good first line kept
        assert answer.status_code in (200, 207), answer.text
        body = answer.json()
        assert body["accepted"] == 1 and [e["line"] for e in body["errors"]] == [2], body
        return
    assert 400 <= answer.status_code < 500, answer.text
    detail = json.dumps(answer.json()["detail"])
    expected = {"nested-10000-deep": "deep", "nested-10000-deep-inside": "deep",
                "not-utf8": "not UTF-8", "lone-surrogate": "surrogate",
                "5000-digit-number": "digits", "empty": ""}[case]
    assert expected.lower() in detail.lower(), detail


NON_FINITE = [
    ("distribution-counts-nan", {"type": "distribution", "layer": "data",
                                 "name": "country"}, '"counts":{"us":NaN,"fr":3}'),
    ("distribution-values-infinity", {"type": "distribution", "layer": "data",
                                      "name": "length"}, '"values":[1,Infinity]'),
    ("signal-value-infinity", {"type": "signal", "layer": "quality",
                               "name": "groundedness"}, '"value":Infinity'),
    ("signal-value-nan", {"type": "signal", "layer": "quality", "name": "groundedness"},
     '"value":NaN'),
    ("signal-count-infinity", {"type": "signal", "layer": "quality",
                               "name": "answer_error_rate", "value": 0.1},
     '"count":Infinity'),
    ("signal-value-overflow", {"type": "signal", "layer": "quality",
                               "name": "groundedness"}, '"value":1e400'),
]


@pytest.mark.parametrize("as_array", [False, True], ids=["jsonl", "array"])
@pytest.mark.parametrize("name, fields, raw", NON_FINITE, ids=[n for n, _, _ in NON_FINITE])
def test_nan_and_infinity_are_refused_per_line_and_the_good_lines_kept(
        bot: Bot, name: str, fields: dict, raw: str, as_array: bool) -> None:
    base = {"ts": GOOD_TS, "service": "rag-assistant", **fields}
    bad = json.dumps(base)[:-1] + "," + raw + "}"
    good = [json.dumps({"type": "signal", "ts": GOOD_TS, "service": "rag-assistant",
                        "layer": "quality", "name": f"kept_{name}_{i}", "value": 0.5})
            for i in range(3)]
    lines = [good[0], bad, good[1], good[2]]
    body = ("[" + ",".join(lines) + "]") if as_array else "\n".join(lines)
    answer = bot.post("signals", body.encode())
    assert answer.status_code == 207, answer.text
    result = answer.json()
    assert result["accepted"] == 3 and result["taken_lines"] == [1, 3, 4], result
    (error,) = result["errors"]
    assert error["line"] == 2 and "finite" in error["reason"], error


@pytest.mark.parametrize("since", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00",
                                   "1969-12-31T00:00:00Z", "2201-01-01T00:00:00Z"])
def test_since_out_of_range_is_422(bot: Bot, since: str) -> None:
    answer = httpx.get(f"{bot.url}/v1/incidents", params={"since": since}, timeout=30,
                       headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "since"]
    assert "1970-2200" in answer.text


def test_times_at_the_edges_of_the_range_are_taken(bot: Bot) -> None:
    lines = [json.dumps({"type": "signal", "ts": ts, "service": "rag-assistant",
                         "layer": "quality", "name": "edge_case", "value": 0.5})
             for ts in ("1970-01-01T00:00:00Z", "2200-12-31T23:59:59Z",
                        "1970-01-01T01:00:00+01:00")]
    answer = bot.post("signals", "\n".join(lines).encode())
    assert answer.status_code == 200, answer.text




def test_values_wider_than_their_columns_are_refused_per_line(bot: Bot) -> None:
    base = {"ts": GOOD_TS, "service": "rag-assistant"}
    lines = [
        {**base, "type": "signal", "layer": "quality", "name": "kept_wide", "value": 0.5},
        {**base, "type": "state", "name": "flag", "value": "v" * 501},
        {**base, "type": "signal", "layer": "quality", "name": "wide", "value": 0.5,
         "slice": {"tenant": "t" * 600}},
        {**base, "type": "alert", "name": "Wide", "fingerprint": "f" * 201},
        {**base, "type": "alert", "name": "Wide", "severity": "s" * 51},
        {**base, "type": "alert", "name": "Wide", "labels": {"source": "s" * 31}},
    ]
    answer = bot.post("signals", "\n".join(json.dumps(line) for line in lines).encode())
    assert answer.status_code == 207, answer.text
    result = answer.json()
    assert result["taken_lines"] == [1]
    assert [e["line"] for e in result["errors"]] == [2, 3, 4, 5, 6], result


@pytest.mark.parametrize("query", [{"service": "rag\x00"}, {"status": "\x00"},
                                   {"limit": "0"}, {"limit": str(2**64)}])
def test_odd_query_parameters_are_4xx_or_nothing_found(bot: Bot, query: dict) -> None:
    answer = httpx.get(f"{bot.url}/v1/incidents", params=query, timeout=30,
                       headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        assert answer.json()["count"] == 0  # SQLite stores NUL: nothing has it
    elif "\x00" in str(query):  # PostgreSQL refuses NUL: its DataError is a 422
        assert "the database refused a value" in answer.json()["detail"]

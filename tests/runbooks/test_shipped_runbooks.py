"""Every shipped runbook really changes the gateway, and its verify step sees the effect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from runbooks.engine import Engine, base_context, resolve_params
from runbooks.loader import load_directories
from runbooks.steps import Tools
from tests.runbooks.support import gateway_reader

FAST = {"verify_poll_seconds": 0.1}


def _context(kind: str, ref: str, previous: str) -> dict[str, Any]:
    return base_context(incident={"id": 3}, service={"name": "rag-assistant"},
                        suspect_change={"kind": kind, "ref": ref, "previous": previous})


# (runbook, the bad change made first, params, the gateway state the runbook must leave)
CASES = [
    ("rollback-model", ("/model", {"version": "v8"}), ("model", "v8", "v7"), FAST,
     {"model_version": "v7"}),
    ("rollback-prompt", ("/prompt", {"version": "p13"}), ("prompt", "p13", "p12"), FAST,
     {"prompt_version": "p12"}),
    ("pin-retrieval-index", ("/retrieval-index", {"index": "idx-2026-11-26"}),
     ("retrieval", "idx-2026-11-26", "idx-2026-11-25"), FAST,
     {"retrieval_index": "idx-2026-11-25"}),
    ("fallback-mode", ("/model", {"version": "v8"}), ("model", "v8", "v7"),
     {**FAST, "mode": "retrieval-only"}, {"fallback_mode": "retrieval-only"}),
    ("fallback-mode", ("/model", {"version": "v8"}), ("model", "v8", "v7"),
     {**FAST, "mode": "rules-based", "min_groundedness": 0.75}, {"fallback_mode": "rules-based"}),
    ("disable-flag", ("/flags/experimental_reranker", {"enabled": True}),
     ("config", "flag", "off"), {"flag": "experimental_reranker"},
     {"flags": {"experimental_reranker": False, "streaming": True}}),
    ("scale-replicas", ("/replicas", {"count": 1}), ("infra", "replicas=1", "4"), FAST,
     {"replicas": 8}),
    ("cap-tokens", ("/model", {"version": "v7"}), ("config", "x", "y"),
     {**FAST, "max_tokens": 256, "max_cost_per_request_usd": 0.001}, {"token_cap": 256}),
]


@pytest.mark.parametrize(("name", "bad_change", "change", "params", "expected"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_shipped_runbook_acts_on_the_gateway(gateway, name, bad_change, change, params,  # type: ignore[no-untyped-def]
                                             expected):
    path, body = bad_change
    method = "PUT" if path.startswith("/flags/") else "POST"
    assert httpx.request(method, f"{gateway.url}{path}", json=body, timeout=5).is_success
    library = load_directories()
    book = library[name]
    context = _context(*change)
    values = resolve_params(book, {"gateway_url": gateway.url, **params}, context)
    notes: list[str] = []
    tools = Tools(read_signals=gateway_reader(gateway.url), notify=notes.append)
    result = Engine(tools=tools, runbooks=library).run(book, context, values)
    assert result.status == "succeeded", result
    state = gateway.state()
    for key, value in expected.items():
        assert state[key] == value
    if any(step.kind == "verify" for step in book.steps):
        assert result.verdict == "recovered"

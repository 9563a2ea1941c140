"""``runbooks.suggest``: one pure scoring of ``applies_to`` for every suggestion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from runbooks.loader import load_directories, parse_runbook
from runbooks.models import Audience, Runbook, SlackPeople
from runbooks.suggest import score, suggest

SHIPPED = load_directories()


def _runbook(name: str, **applies: list[str]) -> Runbook:
    return parse_runbook({"name": name, "title": name, "applies_to": applies,
                          "steps": [{"id": "tell", "kind": "notify", "text": "hi"}]}, name)


def _names(label: str | None, kind: str | None, signals: tuple[str, ...] = (), *,
           allowed: list[str] | None = None) -> list[str]:
    return [s.name for s in suggest(SHIPPED.values(), label, kind, signals, allowed=allowed)]


def test_a_model_failure_after_a_model_change_ranks_the_model_runbooks_first() -> None:
    found = suggest(SHIPPED.values(), "model", "model", ())
    assert [s.name for s in found[:2]] == ["promote-model", "rollback-model"]
    assert found[0].score == 5 and found[0].reasons == ("model failure", "suspect model change")
    # class-only matches follow, alphabetically among equals
    rest = [(s.name, s.score) for s in found[2:]]
    assert rest == sorted(rest, key=lambda item: (-item[1], item[0]))
    assert all(score == 2 for _, score in rest) and "fallback-mode" in dict(rest)


def test_the_suspect_change_outranks_the_class() -> None:
    library = [_runbook("by-class", classes=["model"]),
               _runbook("by-change", change_kinds=["prompt"])]
    assert [s.name for s in suggest(library, "model", "prompt")] == ["by-change", "by-class"]


def test_a_runbook_for_other_failure_classes_is_not_suggested_whatever_the_change() -> None:
    # an infrastructure failure after a model change: scale, do not roll the model back
    assert _names("infrastructure", "model") == ["fallback-mode", "scale-replicas"]
    # no class known: the change is the clue
    assert _names("none", "model") == ["promote-model", "rollback-model"]
    assert _names(None, "prompt") == ["pin-prompt-version", "rollback-prompt"]


def test_nothing_matching_suggests_nothing() -> None:
    assert _names("none", None) == []
    assert _names(None, None) == []
    assert suggest([], "model", "model") == []


def test_a_moved_index_signal_ranks_pinning_the_index_first_for_data_failures() -> None:
    plain = _names("data", None)
    with_index = _names("data", None, ("retrieval_index_version",))
    assert "pin-retrieval-index" in plain and plain[0] != "pin-retrieval-index"
    assert with_index[0] == "pin-retrieval-index"
    top = suggest(SHIPPED.values(), "data", None, ("retrieval_index_version",))[0]
    assert top.reason == "data failure; retrieval_index_version moved"


def test_signal_clues_are_capped_below_a_change() -> None:
    library = [_runbook("clues", signals=["*latency*"]), _runbook("change", change_kinds=["code"])]
    many = ("p50_latency", "p95_latency", "p99_latency", "p95_latency")
    found = suggest(library, None, "code", many)
    assert [(s.name, s.score) for s in found] == [("change", 3), ("clues", 2)]
    assert found[1].reasons == ("p50_latency moved", "p95_latency moved")


def test_services_and_the_catalog_list_filter_before_scoring() -> None:
    library = [_runbook("only-checkout", classes=["model"], services=["checkout"]),
               _runbook("anywhere", classes=["model"])]
    assert [s.name for s in suggest(library, "model", None, service="rag")] == ["anywhere"]
    assert [s.name for s in suggest(library, "model", None, service="checkout")] == [
        "anywhere", "only-checkout"]
    assert _names("model", "model", allowed=["rollback-model"]) == ["rollback-model"]
    assert _names("model", "model", allowed=[]) == _names("model", "model")


def test_score_is_zero_when_nothing_applies() -> None:
    assert score(SHIPPED["cap-tokens"], "model", "prompt").score == 0
    assert score(SHIPPED["cap-tokens"], "cost", None).reasons == ("cost failure",)


LABELS = st.sampled_from(["infrastructure", "data", "control_plane", "model", "eval_policy",
                          "cost", "none", None])
KINDS = st.sampled_from(["model", "prompt", "retrieval", "config", "features", "code", None])


@settings(max_examples=60, deadline=None)
@given(LABELS, KINDS, st.permutations(sorted(SHIPPED)))
def test_the_order_does_not_depend_on_the_library_order(label: str | None, kind: str | None,
                                                        order: list[str]) -> None:
    shuffled = [SHIPPED[name] for name in order]
    assert suggest(shuffled, label, kind) == suggest(SHIPPED.values(), label, kind)


def test_slack_people_is_the_one_validated_model_of_users_and_groups() -> None:
    class Owners(SlackPeople):  # what bot.config.catalog's Owners becomes: people plus schedules
        schedules: list[str] = []

    owners = Owners(users=["U012ABCDEF"], groups=["S012ABCDEF"], schedules=["primary"])
    assert owners.users == ["U012ABCDEF"] and owners.schedules == ["primary"]
    with pytest.raises(ValidationError, match=r"'@bob' is not a Slack user id \(like U012"):
        Owners(users=["@bob"])
    with pytest.raises(ValidationError, match="'U1' is not a Slack user-group id"):
        Audience(groups=["U1"])
    assert Audience().admits("U0ANY", []) and not Audience(users=["U012ABCDEF"]).admits(
        "U0OTHER", [])


@pytest.mark.parametrize("label", ["infrastructure", "data", "control_plane", "model",
                                   "eval_policy", "cost", "none"])
def test_the_diagnosis_never_suggests_what_the_library_says_does_not_apply(label: str) -> None:
    """``resilio classify`` names runbooks from a light table (it loads no library, to
    stay fast); every name it gives must be one the shipped library's own scoring
    suggests for the same class, suspect change and moved signals. Before, an
    eval/policy incident was offered ``disable-flag`` and a cost incident after a prompt
    change ``rollback-prompt``, which the library's classes left out."""
    from bot.diagnosis.explain import runbooks_for
    from classifiers.vocabulary import CHANGE_KINDS

    class Suspect:
        def __init__(self, kind: str) -> None:
            self.kind = kind

    class Moved:  # a finding as runbooks_for reads it: its test's name
        def __init__(self, name: str) -> None:
            self.test = type("Test", (), {"name": name})()

    for kind in (None, *CHANGE_KINDS):
        for signals in ((), ("retrieval.index_age_minutes",)):
            table = runbooks_for(label, Suspect(kind) if kind else None,
                                 [Moved(s) for s in signals])  # type: ignore[misc]
            assert set(table) <= set(_names(label, kind, signals)), (label, kind, signals)

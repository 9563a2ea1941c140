"""Culprits of a kind nobody would guess, beside a red herring of a fitting kind (issue 13).

Each incident has its culprit right before the first clear move and a change of the
kind the label "fits" 15 to 25 minutes before it, after which nothing moved. Before
culprit ranking had its own kind table, the kind fit of the culprit was 0 (an ``infra``
change behind a model failure, a ``config`` behind truncated inputs) or half the
herring's (a safety prompt behind refusals, against a threshold change), and the
herring won however quiet the service stayed after it. Cadences and names are those
of real exporters. (An int4 build behind a model's worse answers, when only the
model layer moved, still loses to a model change 22 minutes before: the ``infra``
fit for a model failure is kept modest because infra changes are the commonest
bystanders of model failures in the simulator.)
"""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.exchange import parse_objects
from bot.diagnosis.pipeline import diagnose
from tests.diagnosis.timed_records import Records, change, ratio


def a_max_length_setting_behind_truncated_prompts(rng: np.random.Generator) -> Records:
    """The gateway's max input length is lowered (a ``config`` change) 7 min before the
    truncated-prompt ratio steps from 0.5 % to 12 % on 2-minute scrapes; a feature
    pipeline change 16 min before moved nothing. Data, blamed on the setting."""
    out: Records = []
    t = np.arange(400) * 120.0
    on = 340 * 120.0
    n = rng.poisson(3000, t.size).astype(float)
    ratio(out, "data", "input.truncated_prompt_ratio", t, n,
          np.where(t >= on, 0.12, 0.005), rng)
    change(out, on - 16 * 60.0, "features", "fp-88")
    change(out, on - 7 * 60.0, "config", "gateway-max-input-2k")
    return out


def a_safety_prompt_behind_refusals(rng: np.random.Generator) -> Records:
    """A new safety system prompt ships 11 min before refusals step from 1 % to 6 % on
    1-minute scrapes; a guardrail threshold change 19 min before moved nothing.
    Eval policy, blamed on the prompt."""
    out: Records = []
    t = np.arange(360) * 60.0
    on = 300 * 60.0
    n = rng.poisson(800, t.size).astype(float)
    ratio(out, "eval", "safety.refusal_ratio", t, n, np.where(t >= on, 0.06, 0.01), rng)
    change(out, on - 19 * 60.0, "threshold", "guard-0.7")
    change(out, on - 11 * 60.0, "prompt", "safety-prompt-12")
    return out


CASES = [
    (a_max_length_setting_behind_truncated_prompts, "data", "gateway-max-input-2k"),
    (a_safety_prompt_behind_refusals, "eval_policy", "safety-prompt-12"),
]


@pytest.mark.parametrize(("build", "label", "culprit"), CASES,
                         ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_culprit_of_an_unexpected_kind_outranks_the_fitting_herring(
        build, label: str, culprit: str, seed: int) -> None:
    d = diagnose(parse_objects(build(np.random.default_rng(seed))).records)
    assert d.behavior == label, (d.behavior, d.scores)
    assert d.suspect_changes, d.suspect_changes
    assert d.suspect_changes[0]["ref"] == culprit, d.suspect_changes

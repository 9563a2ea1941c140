"""Culprit ranking's own kind table (``classifiers.attribution.CULPRIT_KIND_FIT``).

Plausible causes that do not point to the label (a config setting behind truncated
inputs, a safety prompt behind refusals) no longer lose to a fitting change long
before the onset; kinds that cannot cause the failure still lose to it.
"""

from __future__ import annotations

from classifiers.attribution import CULPRIT_KIND_FIT, rank_changes
from classifiers.behaviour import KIND_FIT


def test_the_culprit_table_only_adds_to_the_label_s() -> None:
    for kind, fits in KIND_FIT.items():
        for label, fit in fits.items():
            assert CULPRIT_KIND_FIT.get(label, {}).get(kind, fit) >= fit, (kind, label)


def test_a_config_right_before_truncated_inputs_beats_a_feature_change_long_before() -> None:
    ranked = rank_changes([16.0, 7.5], ["features", "config"], "data", root_layers=["data"],
                          onset_halfwidth=2.5, resolution=2.0)
    assert ranked[0].index == 1


def test_a_safety_prompt_beats_a_threshold_change_eight_minutes_earlier() -> None:
    ranked = rank_changes([19.5, 11.0], ["threshold", "prompt"], "eval_policy",
                          root_layers=["eval"], onset_halfwidth=1.2, resolution=1.0)
    assert ranked[0].index == 1


def test_a_kind_that_cannot_cause_the_failure_still_loses() -> None:
    """A threshold change right before a schema break is a bystander: the feature
    pipeline change 25 minutes before it is the culprit."""
    ranked = rank_changes([25.0, 3.0], ["features", "threshold"], "data",
                          root_layers=["data"], onset_halfwidth=1.2, resolution=1.0)
    assert ranked[0].index == 0

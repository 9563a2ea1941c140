"""Intake clips and hashes to the widths of the store's columns, read from the tables."""

from __future__ import annotations

import pytest

from bot.intake.model import column_width
from store.models import Alert, Incident


def test_text_widths_come_from_the_tables() -> None:
    # sqlmodel's AutoString passes the String length on: the widths are the columns'
    assert column_width(Alert, "source") == 30
    assert column_width(Incident, "group_key") == 500


def test_a_column_without_a_width_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"Alert\.id is not a text column"):
        column_width(Alert, "id")

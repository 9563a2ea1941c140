"""The Jinja2 environments of reports, and where each template comes from.

Templates ship in ``bot/reports/templates``; the catalog's ``templates`` mapping
overrides any of them by name (``templates: {postmortem: docs/pm.md.j2}``; a
relative path is read next to the catalog file). Every template runs in Jinja's
sandbox, because an override is user text and the data it renders (alert titles,
follow-ups) is too. HTML is autoescaped; Markdown and Slack text are not, and
use the ``slack`` filter where Slack needs ``&``, ``<`` and ``>`` escaped.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

from bot.config.catalog import Catalog
from bot.core.errors import UserError
from bot.views.markup import code, escape

DEFAULTS = {
    "digest_html": "digest.html.j2",
    "digest_slack": "digest_slack.j2",
    "postmortem": "postmortem.md.j2",
}


def pct(value: float | None, digits: int = 2) -> str:
    """0.99512 -> ``99.51%``; no data -> ``–``."""
    if value is None or not math.isfinite(value):
        return "–"
    return f"{100.0 * value:.{digits}f}%"


def duration(minutes: float | None) -> str:
    """Minutes as ``42 min``, ``3 h 05 min`` or ``2 d 4 h``."""
    if minutes is None or not math.isfinite(minutes):
        return "–"
    if minutes < 60:
        return f"{minutes:.0f} min" if minutes >= 10 else f"{minutes:.1f} min"
    hours, rest = divmod(round(minutes), 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def number(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.{digits}f}"


def change(before: float | None, after: float | None, kind: str = "relative") -> str:
    """``+12.5%`` (relative), ``+0.31 pp`` (points of a share) or ``+3`` (count)."""
    if before is None or after is None:
        return ""
    if kind == "points":
        return f"{100.0 * (after - before):+.2f} pp"
    if kind == "count":
        return f"{after - before:+g}" if after != before else "±0"
    if before == 0:
        return ""
    return f"{100.0 * (after - before) / before:+.1f}%"


def slack_escape(text: Any) -> str:
    """The ``slack`` filter: the bot's one escaping function for Slack text."""
    return escape(text)


def when(value: datetime | str | None) -> str:
    if value is None:
        return "–"
    if not isinstance(value, str):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


FILTERS = {"pct": pct, "duration": duration, "number": number, "slack": slack_escape,
           "slack_code": code, "when": when}


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=PackageLoader("bot.reports", "templates"),
                               autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True, undefined=StrictUndefined)
    env.filters.update(FILTERS)
    env.globals["change"] = change
    return env


_ENVIRONMENTS: dict[bool, SandboxedEnvironment] = {}


def environment(autoescape: bool) -> SandboxedEnvironment:
    """One environment per escaping mode, built on first use (they cache compiled templates)."""
    if autoescape not in _ENVIRONMENTS:
        _ENVIRONMENTS[autoescape] = _environment(autoescape)
    return _ENVIRONMENTS[autoescape]


def override_path(name: str, catalog: Catalog | None) -> Path | None:
    if catalog is None or name not in catalog.templates:
        return None
    path = Path(catalog.templates[name])
    source = catalog.source
    if not path.is_absolute() and source and not source.startswith("<"):
        path = Path(source).parent / path
    return path


def template(name: str, catalog: Catalog | None = None) -> Template:
    """The template ``name`` (a key of ``DEFAULTS``), overridden from the catalog if it says so."""
    if name not in DEFAULTS:
        raise ValueError(f"unknown report template {name!r}; known: {', '.join(DEFAULTS)}")
    env = environment(autoescape=name.endswith("html"))
    path = override_path(name, catalog)
    if path is None:
        return env.get_template(DEFAULTS[name])
    try:
        text = path.read_text()
    except OSError as error:
        raise UserError(f"templates.{name}: cannot read {path}: {error.strerror}") from None
    return env.from_string(text)

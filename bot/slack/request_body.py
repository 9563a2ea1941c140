"""A Slack request body parsed as Bolt parses it, without Bolt's pure-Python unquoting.

An interaction arrives as ``payload=<percent-encoded JSON>`` (about 4 KB for a click
on an incident summary, which carries the whole message): ``urllib.parse.parse_qsl``
decodes it piece by piece in Python, and was the largest part of an ack after Bolt's
dispatch. The same decoding is done here in C (``binascii.a2b_qp`` reads ``=XX`` the
way ``unquote`` reads ``%XX``) whenever the two are provably the same: ASCII text with
no ``=``, CR or LF of its own, and every ``%`` followed by two hex digits. That last
condition is read from a2b_qp's own output, not by a regular expression over the text
(two of those took twice as long as the decoding): see :func:`_unquote_plus`.
Anything else goes through ``parse_qsl`` as before, so the result is always Bolt's.
"""

from __future__ import annotations

import binascii
import json
from typing import Any
from urllib.parse import unquote

from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context


def _unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus`` (UTF-8, errors replaced), in C when it is the same.

    With no ``=``, CR or LF in the text, a2b_qp reads each ``=`` (a ``%`` here) as one
    of: an escape ``=XX`` (three characters in, one out), ``==`` (two in, one out), a
    last ``=`` (dropped) or any other ``=`` (kept, the next character read as text).
    Only the first shortens the text by two per ``=``, so the output is exactly
    ``2 * count`` shorter if and only if every ``%`` began an escape, which is when
    ``unquote`` decodes the same bytes; anything else is left to ``unquote``.
    """
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii() and "=" not in text and "\r" not in text and "\n" not in text:
        decoded = binascii.a2b_qp(text.replace("%", "="))
        if len(decoded) == len(text) - 2 * text.count("%"):
            return decoded.decode("utf-8", "replace")
    return unquote(text)


def form_fields(body: str) -> dict[str, str]:
    """``dict(parse_qsl(body, keep_blank_values=True))``."""
    fields: dict[str, str] = {}
    for part in body.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:  # most fields of a command are plain ids
            name, value = _unquote_plus(name), _unquote_plus(value)
        fields[name] = value
    return fields


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """``slack_bolt.request.internals.parse_body``, with :func:`form_fields`."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    fields = form_fields(body)
    if "payload" in body:  # an interaction: its JSON is the body
        payload = fields.get("payload")
        return json.loads(payload) if payload is not None else {}
    return dict(fields)


def content_type(headers: dict[str, str]) -> str | None:
    """The media type Bolt reads from these (lower-case) headers (``extract_content_type``)."""
    value = headers.get("content-type")
    return value.split(";")[0] if value else None


def bolt_request(body: str, query: str, headers: dict[str, str],
                 parsed: dict[str, Any] | None = None) -> BoltRequest:
    """The ``BoltRequest`` Bolt would build from this HTTP request (mode ``http``).

    Bolt's constructor parses the body itself; it is given an empty one, and the
    parsed body (``parsed``, when the caller has parsed it already) and the context
    Bolt derives from it are set afterwards, exactly as its constructor would set them.
    """
    request = BoltRequest(body="", query=query, headers=dict(headers))
    request.raw_body = body
    request.body = parse_body(body, request.content_type) if parsed is None else parsed
    request.context = build_context(BoltContext({}), request.body)
    return request

"""The signal exchange format (JSON Lines), parsed into typed records.

Every way signals enter the bot (HTTP, files, the simulator, tests) goes through
:func:`parse_lines` or :func:`parse_objects`, so the rules of DESIGN.md live in one
place: a bad record is refused with its line number and reason, and the valid
records of the same batch are kept. The records and their rules are
:mod:`bot.core.exchange_records`; signals take :mod:`bot.core.exchange_fast` first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from bot.core.exchange_fast import SignalFastPath
from bot.core.exchange_plain import read_plain


@dataclass(frozen=True)
class RecordError:
    """Why one line (1-based) of a batch was refused."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedBatch:
    """The records taken (with their line numbers) and the lines refused."""

    records: list[Any]
    lines: list[int]
    errors: list[RecordError]


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(text: str) -> Any:
    """``json.loads`` that refuses with a ``ValueError`` what it would crash on or store.

    Nesting deeper than the interpreter's recursion limit (a ``RecursionError``
    otherwise) and escaped lone surrogates such as ``"\\ud800"`` (text no database
    can store as UTF-8) are refused; so are integers too long to convert. Looking
    for surrogates costs one regex scan; the exact check runs only on a match.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone UTF-16 surrogate (not valid Unicode)") \
                from None
    return value


def parse_objects(objects: Iterable[Any], first_line: int = 1, *,
                  fast: bool = True) -> ParsedBatch:
    """Parse decoded JSON values, numbering them from ``first_line``.

    ``fast=False`` validates every record with the pydantic models alone (the same
    result, slower: for comparisons)."""
    return _collect(((number, obj, None) for number, obj in enumerate(objects, first_line)),
                    fast=fast)


def parse_lines(text: str) -> ParsedBatch:
    """Parse JSON Lines text; blank lines are skipped but still counted.

    Each line is decoded by orjson (~4x faster than ``json.loads`` on these small
    objects) for the signal fast path, which takes only plain values on which the
    two decoders agree. Every other line (a blank line, bad JSON, ``NaN``, a lone
    surrogate, nesting too deep, any record the fast path leaves to the models) is
    decoded by the standard library (:func:`loads`), so what is taken and the reason
    for a refusal are exactly as before: orjson reads integers past 64 bits as
    floats, and those never reach the models from it.
    """
    batch = ParsedBatch([], [], [])
    fast_loads, read = orjson.loads, SignalFastPath().read
    take_line = _Taker(batch, fast=False).take_line
    records, lines = batch.records, batch.lines
    for number, raw in enumerate(text.splitlines(), start=1):
        try:
            record = read(fast_loads(raw))
        except orjson.JSONDecodeError:
            if not raw.strip():
                continue
            record = None
        if record is not None:
            records.append(record)
            lines.append(number)
            continue
        take_line(number, raw)
    return batch


def _decode_line(raw: str, decode: Callable[[str], Any]) -> tuple[Any, str | None]:
    """One line by the standard library: its value, or why it is not JSON."""
    try:
        return decode(raw), None
    except RecursionError:
        return None, "invalid JSON: JSON nested too deep"
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg} at column {error.colno}"
    except ValueError as error:  # too deep, or a lone surrogate (see loads)
        return None, f"invalid JSON: {error}"


def _parse_object(obj: Any) -> Any:
    """One record by the pydantic models (imported on the first line that needs them)."""
    from bot.core.exchange_records import parse_object

    return parse_object(obj)


class _Taker:
    """Adds decoded values to a batch: signals by :class:`SignalFastPath` when it is
    sure, everything else (and what it is not sure of) by the pydantic models.

    ``plain``: changes and alerts the explicit reader is sure of become plain objects
    (:mod:`bot.core.exchange_plain`) instead of model instances; for readers whose
    records only the diagnosis reads (``resilio classify``), never for the store.
    """

    def __init__(self, batch: ParsedBatch, *, fast: bool = True, plain: bool = False) -> None:
        self._batch = batch
        self._read = SignalFastPath().read if fast else None
        self._plain = read_plain if plain else None

    def take(self, number: int, obj: Any) -> None:
        batch = self._batch
        record: Any = self._read(obj) if self._read is not None else None
        if record is None and self._plain is not None:
            record = self._plain(obj)
        if record is None:
            try:
                record = _parse_object(obj)
            except ValueError as error:
                batch.errors.append(RecordError(number, str(error)))
                return
        batch.records.append(record)
        batch.lines.append(number)

    def take_line(self, number: int, raw: str) -> None:
        """A line the orjson fast path left: decoded by the standard library, then
        refused with its reason or taken as :meth:`take` takes a value."""
        obj, reason = _decode_line(raw, loads)
        if reason is not None:
            self._batch.errors.append(RecordError(number, reason))
        else:
            self.take(number, obj)


def _collect(items: Iterable[tuple[int, Any, str | None]], *,
             fast: bool = True) -> ParsedBatch:
    """Keep each valid record with its line number; refuse the others with the reason.

    Signal records, the bulk of every batch, go through :class:`SignalFastPath`
    first; whatever it is not sure of (and every other type) is validated by the
    pydantic models, which accept it or say why not. ``fast=False`` validates
    everything with the models (the tests compare the two).
    """
    batch = ParsedBatch([], [], [])
    take = _Taker(batch, fast=fast).take
    for number, obj, decode_error in items:
        if decode_error is not None:
            batch.errors.append(RecordError(number, decode_error))
        else:
            take(number, obj)
    return batch


def parse_body(body: bytes) -> ParsedBatch:
    """A request body: a JSON array of records, one JSON object, or JSON Lines.

    Raises ``UnicodeDecodeError`` when the body is not UTF-8.
    """
    text = body.decode("utf-8", errors="strict")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            decoded = loads(text)
        except json.JSONDecodeError as error:
            return ParsedBatch([], [], [RecordError(error.lineno, f"invalid JSON: {error.msg}")])
        except ValueError as error:
            return ParsedBatch([], [], [RecordError(1, f"invalid JSON: {error}")])
        return parse_objects(decoded)
    return parse_lines(text)

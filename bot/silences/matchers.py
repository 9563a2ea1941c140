"""Alertmanager's label matchers: ``service="rag-assistant", alertname=~"Ground.*"``.

The syntax is Alertmanager's (``amtool`` and the UTF-8 matchers parser): a comma-
separated list, optionally in braces, of ``name op value`` where ``op`` is ``=``,
``!=``, ``=~`` or ``!~``. Values are double-quoted (with ``\\"`` and ``\\\\`` escapes) or
bare words. Regular expressions are anchored at both ends, as Alertmanager anchors
them, so ``alertname=~"Ground"`` matches only ``Ground``. A missing label reads as the
empty string, so ``team!="ml"`` matches an alert with no ``team``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

Operator = Literal["=", "!=", "=~", "!~"]
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_BARE = re.compile(r"[^\s,{}\"=!~]+")
MAX_VALUE = 1024


class MatcherError(ValueError):
    """The matchers cannot be read; ``str()`` says at which character and why."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Operator
    value: str

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as error:
                raise MatcherError(f"{self.name}{self.op}: bad regular expression "
                                   f"{self.value!r}: {error}") from None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def matches_all(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    return all(matcher.matches(labels) for matcher in matchers)


def parse_matchers(text: str) -> list[Matcher]:
    """The matchers in ``text``; at least one, and not all of them matching empty labels.

    A silence that matches every alert (``{}`` or ``team!="x"`` alone) is refused, as
    Alertmanager refuses it, because it would silence everything.
    """
    reader = _Reader(text.strip())
    if reader.peek("{"):
        reader.take("{")
        closing = True
    else:
        closing = False
    matchers: list[Matcher] = []
    while not reader.done() and not (closing and reader.peek("}")):
        matchers.append(reader.matcher())
        reader.skip_space()
        if reader.peek(","):
            reader.take(",")
        elif not reader.done() and not (closing and reader.peek("}")):
            raise reader.error("expected ',' between matchers")
    if closing:
        reader.take("}")
    if not reader.done():
        raise reader.error("unexpected text after the matchers")
    if not matchers:
        raise MatcherError("no matchers: a silence needs at least one")
    if all(m.matches({}) for m in matchers):
        raise MatcherError("these matchers match every alert (they all match an empty label "
                           "set); add one that names what to silence")
    return matchers


class _Reader:
    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def error(self, why: str) -> MatcherError:
        return MatcherError(f"character {self.at + 1}: {why} in {self.text[:80]!r}")

    def done(self) -> bool:
        self.skip_space()
        return self.at >= len(self.text)

    def skip_space(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def peek(self, token: str) -> bool:
        self.skip_space()
        return self.text.startswith(token, self.at)

    def take(self, token: str) -> None:
        if not self.peek(token):
            raise self.error(f"expected {token!r}")
        self.at += len(token)

    def matcher(self) -> Matcher:
        self.skip_space()
        name = _NAME.match(self.text, self.at)
        if not name:
            raise self.error("expected a label name")
        self.at = name.end()
        self.skip_space()
        op = next((o for o in ("=~", "!~", "!=", "=") if self.text.startswith(o, self.at)), None)
        if op is None:
            raise self.error("expected one of = != =~ !~")
        self.at += len(op)
        value = self.value()
        if len(value) > MAX_VALUE:
            raise self.error(f"value longer than {MAX_VALUE} characters")
        return Matcher(name[0], cast(Operator, op), value)

    def value(self) -> str:
        self.skip_space()
        if not self.text.startswith('"', self.at):
            bare = _BARE.match(self.text, self.at)
            if not bare:
                raise self.error("expected a value")
            self.at = bare.end()
            return bare[0]
        out, self.at = [], self.at + 1
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "\\" and self.at + 1 < len(self.text):
                out.append(self.text[self.at + 1])
                self.at += 2
            elif char == '"':
                self.at += 1
                return "".join(out)
            else:
                out.append(char)
                self.at += 1
        raise self.error("unclosed quote")

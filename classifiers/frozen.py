"""A frozen dataclass's instance from every one of its fields, without its ``__init__``.

A frozen dataclass's generated ``__init__`` sets each field through
``object.__setattr__`` (its own ``__setattr__`` refuses): for the watch's states,
built once a series a minute for thousands of series (fifteen and thirteen
fields), that took longer than the arithmetic of the point they hold. The
instance made here is the one ``__init__`` would make (same ``__dict__``, still
frozen), for classes without ``__post_init__``, slots or ``InitVar``.

Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

_new = object.__new__
_set = object.__setattr__


def build(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` holding ``fields`` (every field, in order).

    The caller gives every field: nothing is defaulted. The names are checked against
    the class the first time a class is built, the count every time (an assertion,
    so a field added to ``cls`` and forgotten by a caller fails loudly in tests).
    """
    assert _COUNTS.get(cls, -1) == len(fields) or _check(cls, fields)
    instance = _new(cls)
    _set(instance, "__dict__", fields)
    return instance


_COUNTS: dict[type, int] = {}


def _check(cls: type, fields: dict[str, Any]) -> bool:
    """Whether ``fields`` are the fields of ``cls`` in order (then its count is known)."""
    assert dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__"), cls
    names = [f.name for f in dataclasses.fields(cls)]
    if list(fields) != names:
        raise TypeError(f"{cls.__name__} needs its fields {names}, got {list(fields)}")
    _COUNTS[cls] = len(names)
    return True

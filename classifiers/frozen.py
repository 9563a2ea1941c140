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

    The caller gives every field: nothing is defaulted, nothing checked beyond the
    count (an assertion, so a field added to ``cls`` and forgotten here fails loudly
    in tests).
    """
    assert len(fields) == _count(cls), f"{cls.__name__} needs all its fields"
    instance = _new(cls)
    _set(instance, "__dict__", fields)
    return instance


_COUNTS: dict[type, int] = {}


def _count(cls: type) -> int:
    count = _COUNTS.get(cls)
    if count is None:
        assert dataclasses.is_dataclass(cls) and not hasattr(cls, "__post_init__")
        count = _COUNTS[cls] = len(dataclasses.fields(cls))
    return count

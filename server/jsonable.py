"""Turn result values (frozen dataclasses, enums, tuples, paths) into redacted JSON-able data."""

from __future__ import annotations

import dataclasses
import enum
import math
from pathlib import PurePath
from typing import Any

from mljobs.skill.redact import redact


def to_jsonable(value: Any) -> Any:
    """Recursively convert `value`; every string is passed through credential redaction.

    Dataclasses become dicts of their fields, enums their values, tuples/sets lists, paths strings,
    non-finite floats None. Compiled regexes and other objects become their `str()`.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, PurePath):
        return redact(str(value))
    return redact(str(value))

"""How a re-read names what a delivered event says against what its service holds.

Every re-read (GuardDuty, Security Hub, CloudTrail, Access Analyzer) refuses an event that differs
from the service's copy, naming each difference the same way: `path is X in the event, Y in <service>`.
A delivered value is the deliverer's, so it is shown bounded: a scalar cut at 200 characters, a list
or object a few levels and items deep (a deeply nested one would make a plain repr recurse until
Python gives up).
"""

from __future__ import annotations

import reprlib
from typing import Any

SHOWN_CHARACTERS = 200
MAX_DEPTH = 4  # how deep a difference between two objects is named; deeper ones are named at that depth

_bounded = reprlib.Repr()
_bounded.maxlevel, _bounded.maxdict, _bounded.maxlist = 3, 6, 6
_bounded.maxstring = _bounded.maxother = 120


def shown(value: Any) -> str:
    """`value` as a difference names it: absent, its repr, or a bounded repr of a list or object."""
    if value is None:
        return "absent"
    if isinstance(value, (str, int, float, bool)):
        return repr(value)[:SHOWN_CHARACTERS]
    return _bounded.repr(value)[:SHOWN_CHARACTERS]


def differ(path: str, delivered: Any, held: Any, held_name: str, depth: int = 0) -> list[str]:
    """Each place `delivered` and `held` (what `held_name` holds) differ, down to the keys of nested objects."""
    if delivered == held:
        return []
    if isinstance(delivered, dict) and isinstance(held, dict) and depth < MAX_DEPTH:
        keys = [*delivered, *(k for k in held if k not in delivered)]
        return [d for k in keys for d in differ(f"{path}.{k}", delivered.get(k), held.get(k), held_name, depth + 1)]
    return [f"{path} is {shown(delivered)} in the event, {shown(held)} in {held_name}"]

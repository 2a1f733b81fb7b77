"""EventBridge event patterns, evaluated locally.

A playbook's trigger is an EventBridge event pattern, verbatim. Parry evaluates it
itself for routing, back-tests and a defensive re-check inside the Lambda, so it must
agree with EventBridge: the semantics follow the EventBridge user guide (event
patterns, content filtering, arrays, null and empty values) and, where the guide is
silent, aws/event-ruler, the open-source engine EventBridge runs on.

Design: compile once, match many. ``compile_pattern`` validates the whole pattern,
raising ``PatternError("<path>: <reason>")`` for anything EventBridge refuses, and
turns it into a tree of closures: exact values become sets, case-insensitive values
lower-cased sets, prefixes and suffixes tuples for ``str.startswith``, wildcards one
compiled regex, CIDR blocks integer ranges. Matching walks only the pattern's keys.

Semantics worth knowing (each is pinned by a test):

- A leaf matches if any of its values matches; if the event field is an array, if
  any element matches. An array of objects matches a nested pattern if one element
  matches all of it (event-ruler's "array-consistent" matching).
- A missing field, an empty array and an object (not a leaf) count as absent: only
  ``{"exists": false}`` matches them. ``null`` is a value, not an absence.
- Numbers compare numerically (``300`` matches ``300.0``) and only within
  +/-5e9, event-ruler's range; ``true`` is never the number 1.
- CIDR blocks are floored to the network (``10.0.0.7/24`` is ``10.0.0.0/24``); like
  event-ruler, ``/32`` and ``/128`` are refused (use the plain address instead).

Not reproduced: EventBridge's wildcard "complexity" limit is not published; it is
approximated by refusing a wildcard with more than five ``*``. Keys containing dots
are not joined with nested keys (event-ruler documents that as unreliable).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from parry.errors import PatternError
from parry.routing.pattern_operators import Leaf, Test, pattern_error

__all__ = ["Pattern", "compile_pattern"]

_MISSING: Any = object()  # an absent field; JSON null is None, a present value
_RESERVED_IN_OR = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)


class Pattern:
    """A compiled event pattern: validated once, then matched against many events."""

    __slots__ = ("source", "_match")

    def __init__(self, source: dict[str, Any], match: Callable[[dict[str, Any]], bool]):
        self.source = source
        self._match = match

    def matches(self, event: dict[str, Any]) -> bool:
        """True if EventBridge would deliver ``event`` (a JSON-decoded object) to this pattern."""
        return isinstance(event, dict) and self._match(event)

    def __repr__(self) -> str:
        return f"Pattern({json.dumps(self.source, sort_keys=True)})"


def compile_pattern(pattern: dict[str, Any] | str) -> Pattern:
    """Validate ``pattern`` as EventBridge would and compile it for fast matching."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern, parse_constant=_refuse_constant)
        except ValueError as exc:  # JSONDecodeError is a ValueError
            raise PatternError(f"pattern is not valid JSON: {exc}") from None
    if not isinstance(pattern, dict):
        raise PatternError("pattern must be a JSON object (Filter is not an object)")
    match, _ = _compile_object(pattern, "", in_or=False)
    return Pattern(pattern, match)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- objects -----------------------------------------------------------------------


def _compile_object(node: dict[str, Any], path: str, in_or: bool) -> tuple[Test, bool]:
    """Compile an object node into ``match(dict) -> bool`` and whether it matches an absent field."""
    if not node:
        raise pattern_error(path, "Empty objects are not allowed")
    leaves: list[tuple[str, Test]] = []
    objects: list[tuple[str, Test]] = []
    alternatives: list[tuple[Test, ...]] = []
    absent_ok = True
    for key, value in node.items():
        if not isinstance(key, str):
            raise pattern_error(path, f"field names must be strings, not {key!r}")
        sub = f"{path}.{key}" if path else key
        if key == "$or":
            branches = _compile_or(value, sub)
            alternatives.append(tuple(test for test, _ in branches))
            absent_ok = absent_ok and any(ok for _, ok in branches)
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise pattern_error(sub, f"{key} is a reserved word and cannot be a field name inside $or")
        if isinstance(value, dict):
            inner, inner_absent = _compile_object(value, sub, in_or)
            objects.append((key, _object_field(inner, inner_absent)))
            absent_ok = absent_ok and inner_absent
        elif isinstance(value, list):
            test, leaf_absent = _compile_leaf(value, sub)
            leaves.append((key, test))
            absent_ok = absent_ok and leaf_absent
        else:
            raise pattern_error(sub, f'"{key}" must be an object or an array')
    # Leaves first: they are cheap and usually the most selective (source, detail-type).
    fields = _all_fields(leaves + objects)
    ors = tuple(alternatives)
    if not ors:
        return fields, absent_ok

    def match_or(obj: dict[str, Any]) -> bool:
        if not fields(obj):
            return False
        for branches in ors:
            for branch in branches:
                if branch(obj):
                    break
            else:
                return False
        return True

    return match_or, absent_ok


def _all_fields(checks: list[tuple[str, Test]]) -> Test:
    """``match(dict)``: every field test passes. Unrolled for the usual one to three fields,
    because most patterns fail on their first field and the loop set-up would dominate."""
    m = _MISSING
    if not checks:
        return lambda obj: True
    if len(checks) == 1:
        ((k1, t1),) = checks
        return lambda obj: t1(obj.get(k1, m))
    if len(checks) == 2:
        (k1, t1), (k2, t2) = checks
        return lambda obj: t1(obj.get(k1, m)) and t2(obj.get(k2, m))
    if len(checks) == 3:
        (k1, t1), (k2, t2), (k3, t3) = checks
        return lambda obj: t1(obj.get(k1, m)) and t2(obj.get(k2, m)) and t3(obj.get(k3, m))
    (k1, t1), (k2, t2), (k3, t3) = checks[:3]
    rest = tuple(checks[3:])

    def match(obj: dict[str, Any]) -> bool:
        get = obj.get
        if not (t1(get(k1, m)) and t2(get(k2, m)) and t3(get(k3, m))):
            return False
        for key, test in rest:
            if not test(get(key, m)):
                return False
        return True

    return match


def _compile_or(value: Any, path: str) -> list[tuple[Test, bool]]:
    """``$or``: a list of at least two objects, each matched at the current level."""
    if not isinstance(value, list):
        raise pattern_error(path, "It must be an Array followed with $or.")
    if not all(isinstance(branch, dict) for branch in value):
        raise pattern_error(path, "Only JSON object is allowed in array of $or relationship.")
    if len(value) < 2:
        raise pattern_error(path, "There must have at least 2 Objects in $or relationship.")
    return [_compile_object(branch, f"{path}[{i}]", in_or=True) for i, branch in enumerate(value)]


def _object_field(inner: Test, absent_ok: bool) -> Test:
    """A nested pattern object: the event field must be an object, or an array holding one."""

    def field(value: Any) -> bool:
        cls = value.__class__
        if cls is dict:
            return inner(value)
        if cls is list:
            seen = False
            for item in _flatten(value):
                if item.__class__ is dict:
                    seen = True
                    if inner(item):
                        return True
            return absent_ok and not seen
        return absent_ok

    return field


def _flatten(items: list[Any]) -> Iterator[Any]:
    """Elements of an event array, nested arrays crushed (as event-ruler does)."""
    for item in items:
        if item.__class__ is list:
            yield from _flatten(item)
        else:
            yield item


# --- leaves ------------------------------------------------------------------------


def _compile_leaf(values: list[Any], path: str) -> tuple[Test, bool]:
    """Compile a pattern array into ``test(event_value) -> bool`` and its verdict on absence."""
    if not values:
        raise pattern_error(path, "Empty arrays are not allowed")
    leaf = Leaf()
    for value in values:
        leaf.add(value, path)
    absent = leaf.exists_false
    if leaf.only_strings():
        strings = frozenset(leaf.strings)  # the common leaf, ["aws.guardduty"]: one call, no dispatch

        def exact(value: Any) -> bool:
            cls = value.__class__
            if cls is str:
                return value in strings
            if cls is list:
                for item in _flatten(value):
                    if item.__class__ is str and item in strings:
                        return True
            return False

        return exact, False

    scalar = leaf.scalar_test()

    def test(value: Any) -> bool:
        if value is _MISSING:
            return absent
        cls = value.__class__
        if cls is list:
            seen = False
            for item in _flatten(value):
                if item.__class__ is not dict:
                    seen = True
                    if scalar(item):
                        return True
            return absent and not seen
        if cls is dict:  # an object is not a leaf: for exists it is absent
            return absent
        return scalar(value)

    return test, absent

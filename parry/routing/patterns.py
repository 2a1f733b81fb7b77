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

import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from parry.errors import PatternError

__all__ = ["Pattern", "compile_pattern"]

Test = Callable[[Any], bool]

_MISSING: Any = object()  # an absent field; JSON null is None, a present value
_NUMBER = (int, float)  # JSON numbers; bool subclasses int, so callers rule it out first
_LIMIT = 5e9  # event-ruler's ComparableNumber range
_MAX_WILDCARDS = 5
_TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating "
    "character sequences after a wildcard character"
)
_ANYTHING_BUT_VALUE = "Value of anything-but must be an array or single string/number value."
_RESERVED_IN_OR = frozenset({
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists",
    "wildcard", "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
    "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
    "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
})
# event-ruler's shape tests: only strings of this form are treated as IP addresses.
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\Z")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*\Z")
_MASK = re.compile(r"[+-]?[0-9]+\Z")


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


def _error(path: str, reason: str) -> PatternError:
    return PatternError(f"{path or '(pattern)'}: {reason}")


# --- objects -----------------------------------------------------------------------


def _compile_object(node: dict[str, Any], path: str, in_or: bool) -> tuple[Test, bool]:
    """Compile an object node into ``match(dict) -> bool`` and whether it matches an absent field."""
    if not node:
        raise _error(path, "Empty objects are not allowed")
    leaves: list[tuple[str, Test]] = []
    objects: list[tuple[str, Test]] = []
    alternatives: list[tuple[Test, ...]] = []
    absent_ok = True
    for key, value in node.items():
        if not isinstance(key, str):
            raise _error(path, f"field names must be strings, not {key!r}")
        sub = f"{path}.{key}" if path else key
        if key == "$or":
            branches = _compile_or(value, sub)
            alternatives.append(tuple(test for test, _ in branches))
            absent_ok = absent_ok and any(ok for _, ok in branches)
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise _error(sub, f"{key} is a reserved word and cannot be a field name inside $or")
        if isinstance(value, dict):
            inner, inner_absent = _compile_object(value, sub, in_or)
            objects.append((key, _object_field(inner, inner_absent)))
            absent_ok = absent_ok and inner_absent
        elif isinstance(value, list):
            test, leaf_absent = _compile_leaf(value, sub)
            leaves.append((key, test))
            absent_ok = absent_ok and leaf_absent
        else:
            raise _error(sub, f'"{key}" must be an object or an array')
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
        raise _error(path, "It must be an Array followed with $or.")
    if not all(isinstance(branch, dict) for branch in value):
        raise _error(path, "Only JSON object is allowed in array of $or relationship.")
    if len(value) < 2:
        raise _error(path, "There must have at least 2 Objects in $or relationship.")
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


class _Leaf:
    """What one pattern array accepts, gathered by kind so matching can use sets and tuples."""

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.numbers: set[int | float] = set()
        self.constants: list[Any] = []  # True, False, None: compared by identity
        self.prefixes: list[str] = []
        self.suffixes: list[str] = []
        self.lower_prefixes: list[str] = []
        self.lower_suffixes: list[str] = []
        self.lower_equals: set[str] = set()
        self.wildcards: list[str] = []
        self.others: list[Test] = []  # numeric, cidr, anything-but, exists:true
        self.exists_false = False

    def only_strings(self) -> bool:
        """Exact strings and nothing else: the leaf most patterns are made of."""
        return not (self.numbers or self.constants or self.prefixes or self.suffixes or self.lower_prefixes
                    or self.lower_suffixes or self.lower_equals or self.wildcards or self.others
                    or self.exists_false)


def _compile_leaf(values: list[Any], path: str) -> tuple[Test, bool]:
    """Compile a pattern array into ``test(event_value) -> bool`` and its verdict on absence."""
    if not values:
        raise _error(path, "Empty arrays are not allowed")
    leaf = _Leaf()
    for value in values:
        if value is None or value is True or value is False:
            if value not in leaf.constants:
                leaf.constants.append(value)
        elif isinstance(value, str):
            leaf.strings.add(value)
        elif isinstance(value, _NUMBER):
            leaf.numbers.add(value)
        elif isinstance(value, dict):
            _add_operator(leaf, value, path)
        else:
            raise _error(path, "Match value must be String, number, true, false, or null")
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

    scalar = _scalar_test(leaf)

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


def _scalar_test(leaf: _Leaf) -> Test:
    """One closure over a present scalar: set lookups first, then the operators by type."""
    strings = frozenset(leaf.strings)
    numbers = frozenset(leaf.numbers)
    constants = tuple(leaf.constants)
    string_tests: list[Test] = []
    if leaf.prefixes:
        string_tests.append(_starts(tuple(leaf.prefixes)))
    if leaf.suffixes:
        string_tests.append(_ends(tuple(leaf.suffixes)))
    if leaf.lower_prefixes:
        string_tests.append(_starts(tuple(leaf.lower_prefixes), lower=True))
    if leaf.lower_suffixes:
        string_tests.append(_ends(tuple(leaf.lower_suffixes), lower=True))
    if leaf.lower_equals:
        lowered = frozenset(leaf.lower_equals)
        string_tests.append(lambda v: v.lower() in lowered)
    if leaf.wildcards:
        string_tests.append(_wildcard_regex(leaf.wildcards).fullmatch)
    str_extra = tuple(string_tests)
    others = tuple(leaf.others)

    def scalar(v: Any) -> bool:
        cls = v.__class__
        if cls is str:
            if v in strings:
                return True
            for t in str_extra:
                if t(v):
                    return True
        elif cls is int or cls is float:
            if v in numbers:
                return True
        else:
            for c in constants:
                if v is c:
                    return True
        for t in others:
            if t(v):
                return True
        return False

    return scalar


def _starts(prefixes: tuple[str, ...], lower: bool = False) -> Test:
    if lower:
        return lambda v: v.lower().startswith(prefixes)
    return lambda v: v.startswith(prefixes)


def _ends(suffixes: tuple[str, ...], lower: bool = False) -> Test:
    if lower:
        return lambda v: v.lower().endswith(suffixes)
    return lambda v: v.endswith(suffixes)


def _add_operator(leaf: _Leaf, expr: dict[str, Any], path: str) -> None:
    """Validate one ``{"operator": argument}`` object and add it to ``leaf``."""
    if not expr:
        raise _error(path, "Match expression name not found")
    if len(expr) > 1:
        raise _error(path, "Only one key allowed in match expression")
    ((name, arg),) = expr.items()
    if name == "exists":
        if arg is True:
            leaf.others.append(_present)
        elif arg is False:
            leaf.exists_false = True
        else:
            raise _error(path, "exists match pattern must be either true or false.")
    elif name in ("prefix", "suffix"):
        if isinstance(arg, dict):
            text = _ignore_case_operand(arg, name, path).lower()
            (leaf.lower_prefixes if name == "prefix" else leaf.lower_suffixes).append(text)
        elif isinstance(arg, str):
            (leaf.prefixes if name == "prefix" else leaf.suffixes).append(arg)
        else:
            raise _error(path, f"{name} match pattern must be a string")
    elif name == "equals-ignore-case":
        if not isinstance(arg, str):
            raise _error(path, "equals-ignore-case match pattern must be a string")
        leaf.lower_equals.add(arg.lower())
    elif name == "wildcard":
        if not isinstance(arg, str):
            raise _error(path, "wildcard match pattern must be a string")
        literal = _check_wildcard(arg, path)
        if literal is None:
            leaf.wildcards.append(arg)
        else:
            leaf.strings.add(literal)
    elif name == "numeric":
        leaf.others.append(_numeric(arg, path))
    elif name == "cidr":
        leaf.others.append(_cidr(arg, path))
    elif name == "anything-but":
        leaf.others.append(_anything_but(arg, path))
    else:
        raise _error(path, f"Unrecognized match type {name}")


def _present(value: Any) -> bool:
    return True


def _ignore_case_operand(arg: dict[str, Any], name: str, path: str) -> str:
    """``{"prefix": {"equals-ignore-case": "x"}}`` and its suffix twin."""
    if not arg:
        raise _error(path, f"{name.capitalize()} expression name not found")
    inner = next(iter(arg))
    if inner != "equals-ignore-case":
        raise _error(path, f"Unsupported {name} pattern: {inner}")
    if not isinstance(arg[inner], str):
        raise _error(path, "equals-ignore-case match pattern must be a string")
    if len(arg) > 1:
        raise _error(path, "Only one key allowed in match expression")
    return arg[inner]


# --- numeric -----------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _bound(value: Any, path: str) -> float:
    if not -_LIMIT <= value <= _LIMIT:
        raise _error(path, "Value must be between -5.0E9 and 5.0E9, inclusive")
    return value


def _numeric(arg: Any, path: str) -> Test:
    """``["op", n]`` or ``[">"|">=", low, "<"|"<=", high]``, as event-ruler parses it."""
    if not isinstance(arg, list):
        raise _error(path, "Value of numeric must be an array.")
    if not arg:
        raise _error(path, "numeric needs an operator and a number")
    op = arg[0]
    if not isinstance(op, str):
        raise _error(path, f"Invalid member in numeric match: {json.dumps(op)}")
    if op not in ("=", "<", "<=", ">", ">="):
        raise _error(path, f"Unrecognized numeric range operator: {op}")
    if len(arg) < 2 or not _is_number(arg[1]):
        raise _error(path, f"Value of {'equals' if op == '=' else op} must be numeric")
    first = _bound(arg[1], path)
    low, low_open, high, high_open = -_LIMIT, False, _LIMIT, False
    if op == "=":
        low = high = first
    elif op in ("<", "<="):
        high, high_open = first, op == "<"
    else:
        low, low_open = first, op == ">"
    if len(arg) > 2:
        if op not in (">", ">="):
            raise _error(path, "Too many elements in numeric expression")
        top_op = arg[2]
        if not isinstance(top_op, str):
            raise _error(path, f"Bad value in numeric range: {json.dumps(top_op)}")
        if top_op not in ("<", "<="):
            raise _error(path, f"Bad numeric range operator: {top_op}")
        if len(arg) < 4 or not _is_number(arg[3]):
            raise _error(path, f"Value of {top_op} must be numeric")
        if len(arg) > 4:
            raise _error(path, "Too many terms in numeric range expression")
        high, high_open = _bound(arg[3], path), top_op == "<"
        if high <= low:
            raise _error(path, "Bottom must be less than top")
    return _range_test(low, low_open, high, high_open)


def _range_test(low: float, low_open: bool, high: float, high_open: bool) -> Test:
    if low == high:
        return lambda v: (v.__class__ is int or v.__class__ is float) and v == low
    if low_open and high_open:
        return lambda v: (v.__class__ is int or v.__class__ is float) and low < v < high
    if low_open:
        return lambda v: (v.__class__ is int or v.__class__ is float) and low < v <= high
    if high_open:
        return lambda v: (v.__class__ is int or v.__class__ is float) and low <= v < high
    return lambda v: (v.__class__ is int or v.__class__ is float) and low <= v <= high


# --- cidr --------------------------------------------------------------------------


def _parse_ip(text: str) -> tuple[int, int] | None:
    """(address, width in bits) for an IPv4/IPv6 literal of event-ruler's shape, else None."""
    if _IPV4.match(text):
        octets = [int(part) for part in text.split(".")]  # decimal, leading zeros allowed
        if max(octets) > 255:
            return None
        return (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3], 32
    if _IPV6.match(text):
        try:
            return int(ipaddress.IPv6Address(text)), 128
        except ValueError:
            return None
    return None


def _cidr(arg: Any, path: str) -> Test:
    if not isinstance(arg, str):
        raise _error(path, "cidr match pattern must be a string")
    parts = arg.split("/")
    while len(parts) > 1 and parts[-1] == "":  # Java's split drops trailing empties
        parts.pop()
    if len(parts) != 2:
        raise _error(path, "Malformed CIDR, one '/' required")
    address, mask = parts
    if not _MASK.match(mask):
        raise _error(path, "Malformed CIDR, mask bits must be an integer")
    bits = int(mask)
    if bits < 0:
        raise _error(path, "Malformed CIDR, mask bits must not be negative")
    if not (_IPV4.match(address) or _IPV6.match(address)):
        raise _error(path, f"Nonstandard IP address: {address}")
    parsed = _parse_ip(address)
    if parsed is None:
        raise _error(path, f"Invalid IP address: {address}")
    value, width = parsed
    if bits >= width:
        raise _error(path, f"IPv{4 if width == 32 else 6} mask bits must be < {width}")
    host = width - bits
    low = value >> host << host
    high = low | ((1 << host) - 1)

    def in_block(v: Any) -> bool:
        if v.__class__ is not str:
            return False
        ip = _parse_ip(v)
        return ip is not None and ip[1] == width and low <= ip[0] <= high

    return in_block


# --- wildcard ----------------------------------------------------------------------


def _check_wildcard(text: str, path: str) -> str | None:
    """Validate as event-ruler does; return the unescaped text if it has no wildcard."""
    raw = text.encode()
    literal = bytearray()
    stars = 0
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x2A:  # '*'; positions count the opening quote, as EventBridge reports them
            if i + 1 < len(raw) and raw[i + 1] == 0x2A:
                raise _error(path, f"Consecutive wildcard characters at pos {i + 1}")
            stars += 1
        elif byte == 0x5C:  # backslash: only \* and \\ are escapes
            if i + 1 < len(raw) and raw[i + 1] in (0x2A, 0x5C):
                literal.append(raw[i + 1])
                i += 2
                continue
            raise _error(path, f"Invalid escape character at pos {i + 1}")
        else:
            literal.append(byte)
        i += 1
    if stars > _MAX_WILDCARDS:
        raise _error(path, _TOO_COMPLEX)
    return literal.decode() if stars == 0 else None


def _wildcard_regex(patterns: list[str]) -> re.Pattern[str]:
    """One regex for several (already validated) wildcard values: ``*`` is any run of characters."""
    alternatives = []
    for text in patterns:
        pieces, literal, i = [], [], 0
        while i < len(text):
            char = text[i]
            if char == "\\":
                literal.append(text[i + 1])
                i += 2
                continue
            if char == "*":
                pieces.append(re.escape("".join(literal)))
                pieces.append(".*")
                literal = []
            else:
                literal.append(char)
            i += 1
        pieces.append(re.escape("".join(literal)))
        alternatives.append("".join(pieces))
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.DOTALL)


# --- anything-but ------------------------------------------------------------------


def _anything_but(arg: Any, path: str) -> Test:
    """Matches any present value except those listed; a value of another type always matches."""
    if isinstance(arg, dict):
        return _anything_but_operator(arg, path)
    if isinstance(arg, bool) or not isinstance(arg, (str, int, float, list)):
        raise _error(path, _ANYTHING_BUT_VALUE)
    values = arg if isinstance(arg, list) else [arg]
    if any(v is None or isinstance(v, (bool, list, dict)) for v in values):
        raise _error(path, "Inside anything but list, start|null|boolean is not supported.")
    strings = [v for v in values if isinstance(v, str)]
    if not values or (strings and len(strings) != len(values)):
        raise _error(path, "Inside anything but list, either all values are number or string, "
                           "mixed type is not supported")
    if strings:
        excluded = frozenset(strings)
        return lambda v: v.__class__ is not str or v not in excluded
    numbers = frozenset(_bound(v, path) for v in values)
    return lambda v: not (v.__class__ is int or v.__class__ is float) or v not in numbers


def _anything_but_operator(arg: dict[str, Any], path: str) -> Test:
    """``anything-but`` over prefix, suffix, equals-ignore-case or wildcard (a value or a list)."""
    if not arg:
        raise _error(path, "Anything-But expression name not found")
    name = next(iter(arg))
    if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        raise _error(path, f"Unsupported anything-but pattern: {name}")
    operand = arg[name]
    if not isinstance(operand, (str, list)):
        if isinstance(operand, dict) or operand is None or isinstance(operand, bool):
            raise _error(path, _ANYTHING_BUT_VALUE)
        operand = [operand]  # a number: refused below with the operator's own message
    if len(arg) > 1:
        raise _error(path, "Only one key allowed in match expression")
    values = [operand] if isinstance(operand, str) else operand
    for value in values:
        if not isinstance(value, str):
            if name == "equals-ignore-case":
                raise _error(path, "Inside anything-but/equals-ignore-case list, "
                                   "number|start|null|boolean is not supported.")
            if name == "wildcard":
                raise _error(path, "wildcard match pattern must be a string")
            raise _error(path, "prefix/suffix match pattern must be a string")
        if name in ("prefix", "suffix") and value == "":
            raise _error(path, "Null prefix/suffix not allowed")
    if name == "prefix":
        prefixes = tuple(values)
        return lambda v: v.__class__ is not str or not v.startswith(prefixes)
    if name == "suffix":
        suffixes = tuple(values)
        return lambda v: v.__class__ is not str or not v.endswith(suffixes)
    if name == "equals-ignore-case":
        lowered = frozenset(value.lower() for value in values)
        return lambda v: v.__class__ is not str or v.lower() not in lowered
    for value in values:
        _check_wildcard(value, path)
    if not values:
        return _present
    regex = _wildcard_regex(values)
    return lambda v: v.__class__ is not str or regex.fullmatch(v) is None

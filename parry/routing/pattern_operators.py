"""The leaf values of an event pattern: exact values and the operators, as EventBridge accepts them.

One pattern array (``["a", {"prefix": "b"}, {"numeric": [">", 5]}]``) is gathered into a `Leaf`
by kind, each operator validated with EventBridge's own error messages, then compiled into one
test of a present scalar: set lookups first, then ``str.startswith`` tuples, one wildcard regex,
integer ranges for numbers and CIDR blocks. Arrays, absence and ``exists`` are `patterns`' concern.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from parry.errors import PatternError

Test = Callable[[Any], bool]

_NUMBER = (int, float)  # JSON numbers; bool subclasses int, so callers rule it out first
_LIMIT = 5e9  # event-ruler's ComparableNumber range
_MAX_WILDCARDS = 5
_TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating "
    "character sequences after a wildcard character"
)
_ANYTHING_BUT_VALUE = "Value of anything-but must be an array or single string/number value."
# event-ruler's shape tests: only strings of this form are treated as IP addresses.
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\Z")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*\Z")
_MASK = re.compile(r"[+-]?[0-9]+\Z")


def pattern_error(path: str, reason: str) -> PatternError:
    """The error EventBridge gives, prefixed with where in the pattern it is."""
    return PatternError(f"{path or '(pattern)'}: {reason}")


class Leaf:
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

    def add(self, value: Any, path: str) -> None:
        """Add one element of the pattern array: a value, or an ``{"operator": argument}`` object."""
        if value is None or value is True or value is False:
            if value not in self.constants:
                self.constants.append(value)
        elif isinstance(value, str):
            self.strings.add(value)
        elif isinstance(value, _NUMBER):
            self.numbers.add(value)
        elif isinstance(value, dict):
            _add_operator(self, value, path)
        else:
            raise pattern_error(path, "Match value must be String, number, true, false, or null")

    def only_strings(self) -> bool:
        """Exact strings and nothing else: the leaf most patterns are made of."""
        return not (
            self.numbers
            or self.constants
            or self.prefixes
            or self.suffixes
            or self.lower_prefixes
            or self.lower_suffixes
            or self.lower_equals
            or self.wildcards
            or self.others
            or self.exists_false
        )

    def scalar_test(self) -> Test:
        """One closure over a present scalar: set lookups first, then the operators by type."""
        strings = frozenset(self.strings)
        numbers = frozenset(self.numbers)
        constants = tuple(self.constants)
        string_tests: list[Callable[[str], object]] = []  # truthy when the string matches
        if self.prefixes:
            string_tests.append(_starts(tuple(self.prefixes)))
        if self.suffixes:
            string_tests.append(_ends(tuple(self.suffixes)))
        if self.lower_prefixes:
            string_tests.append(_starts(tuple(self.lower_prefixes), lower=True))
        if self.lower_suffixes:
            string_tests.append(_ends(tuple(self.lower_suffixes), lower=True))
        if self.lower_equals:
            lowered = frozenset(self.lower_equals)
            string_tests.append(lambda v: v.lower() in lowered)
        if self.wildcards:
            string_tests.append(_wildcard_regex(self.wildcards).fullmatch)
        str_extra = tuple(string_tests)
        others = tuple(self.others)

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


def _add_operator(leaf: Leaf, expr: dict[str, Any], path: str) -> None:
    """Validate one ``{"operator": argument}`` object and add it to ``leaf``."""
    if not expr:
        raise pattern_error(path, "Match expression name not found")
    if len(expr) > 1:
        raise pattern_error(path, "Only one key allowed in match expression")
    ((name, arg),) = expr.items()
    if name == "exists":
        if arg is True:
            leaf.others.append(_present)
        elif arg is False:
            leaf.exists_false = True
        else:
            raise pattern_error(path, "exists match pattern must be either true or false.")
    elif name in ("prefix", "suffix"):
        if isinstance(arg, dict):
            text = _ignore_case_operand(arg, name, path).lower()
            (leaf.lower_prefixes if name == "prefix" else leaf.lower_suffixes).append(text)
        elif isinstance(arg, str):
            (leaf.prefixes if name == "prefix" else leaf.suffixes).append(arg)
        else:
            raise pattern_error(path, f"{name} match pattern must be a string")
    elif name == "equals-ignore-case":
        if not isinstance(arg, str):
            raise pattern_error(path, "equals-ignore-case match pattern must be a string")
        leaf.lower_equals.add(arg.lower())
    elif name == "wildcard":
        if not isinstance(arg, str):
            raise pattern_error(path, "wildcard match pattern must be a string")
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
        raise pattern_error(path, f"Unrecognized match type {name}")


def _present(value: Any) -> bool:
    return True


def _ignore_case_operand(arg: dict[str, Any], name: str, path: str) -> str:
    """``{"prefix": {"equals-ignore-case": "x"}}`` and its suffix twin."""
    if not arg:
        raise pattern_error(path, f"{name.capitalize()} expression name not found")
    inner = next(iter(arg))
    if inner != "equals-ignore-case":
        raise pattern_error(path, f"Unsupported {name} pattern: {inner}")
    if not isinstance(arg[inner], str):
        raise pattern_error(path, "equals-ignore-case match pattern must be a string")
    if len(arg) > 1:
        raise pattern_error(path, "Only one key allowed in match expression")
    return arg[inner]


# --- numeric -----------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _bound(value: Any, path: str) -> float:
    if not -_LIMIT <= value <= _LIMIT:
        raise pattern_error(path, "Value must be between -5.0E9 and 5.0E9, inclusive")
    return value


def _numeric(arg: Any, path: str) -> Test:
    """``["op", n]`` or ``[">"|">=", low, "<"|"<=", high]``, as event-ruler parses it."""
    if not isinstance(arg, list):
        raise pattern_error(path, "Value of numeric must be an array.")
    if not arg:
        raise pattern_error(path, "numeric needs an operator and a number")
    op = arg[0]
    if not isinstance(op, str):
        raise pattern_error(path, f"Invalid member in numeric match: {json.dumps(op)}")
    if op not in ("=", "<", "<=", ">", ">="):
        raise pattern_error(path, f"Unrecognized numeric range operator: {op}")
    if len(arg) < 2 or not _is_number(arg[1]):
        raise pattern_error(path, f"Value of {'equals' if op == '=' else op} must be numeric")
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
            raise pattern_error(path, "Too many elements in numeric expression")
        top_op = arg[2]
        if not isinstance(top_op, str):
            raise pattern_error(path, f"Bad value in numeric range: {json.dumps(top_op)}")
        if top_op not in ("<", "<="):
            raise pattern_error(path, f"Bad numeric range operator: {top_op}")
        if len(arg) < 4 or not _is_number(arg[3]):
            raise pattern_error(path, f"Value of {top_op} must be numeric")
        if len(arg) > 4:
            raise pattern_error(path, "Too many terms in numeric range expression")
        high, high_open = _bound(arg[3], path), top_op == "<"
        if high <= low:
            raise pattern_error(path, "Bottom must be less than top")
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
        raise pattern_error(path, "cidr match pattern must be a string")
    parts = arg.split("/")
    while len(parts) > 1 and parts[-1] == "":  # Java's split drops trailing empties
        parts.pop()
    if len(parts) != 2:
        raise pattern_error(path, "Malformed CIDR, one '/' required")
    address, mask = parts
    if not _MASK.match(mask):
        raise pattern_error(path, "Malformed CIDR, mask bits must be an integer")
    bits = int(mask)
    if bits < 0:
        raise pattern_error(path, "Malformed CIDR, mask bits must not be negative")
    if not (_IPV4.match(address) or _IPV6.match(address)):
        raise pattern_error(path, f"Nonstandard IP address: {address}")
    parsed = _parse_ip(address)
    if parsed is None:
        raise pattern_error(path, f"Invalid IP address: {address}")
    value, width = parsed
    if bits >= width:
        raise pattern_error(path, f"IPv{4 if width == 32 else 6} mask bits must be < {width}")
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
                raise pattern_error(path, f"Consecutive wildcard characters at pos {i + 1}")
            stars += 1
        elif byte == 0x5C:  # backslash: only \* and \\ are escapes
            if i + 1 < len(raw) and raw[i + 1] in (0x2A, 0x5C):
                literal.append(raw[i + 1])
                i += 2
                continue
            raise pattern_error(path, f"Invalid escape character at pos {i + 1}")
        else:
            literal.append(byte)
        i += 1
    if stars > _MAX_WILDCARDS:
        raise pattern_error(path, _TOO_COMPLEX)
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
        raise pattern_error(path, _ANYTHING_BUT_VALUE)
    values = arg if isinstance(arg, list) else [arg]
    if any(v is None or isinstance(v, (bool, list, dict)) for v in values):
        raise pattern_error(path, "Inside anything but list, start|null|boolean is not supported.")
    strings = [v for v in values if isinstance(v, str)]
    if not values or (strings and len(strings) != len(values)):
        raise pattern_error(
            path, "Inside anything but list, either all values are number or string, mixed type is not supported"
        )
    if strings:
        excluded = frozenset(strings)
        return lambda v: v.__class__ is not str or v not in excluded
    numbers = frozenset(_bound(v, path) for v in values)
    return lambda v: not (v.__class__ is int or v.__class__ is float) or v not in numbers


def _anything_but_operator(arg: dict[str, Any], path: str) -> Test:
    """``anything-but`` over prefix, suffix, equals-ignore-case or wildcard (a value or a list)."""
    if not arg:
        raise pattern_error(path, "Anything-But expression name not found")
    name = next(iter(arg))
    if name not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
        raise pattern_error(path, f"Unsupported anything-but pattern: {name}")
    operand = arg[name]
    if not isinstance(operand, (str, list)):
        if isinstance(operand, dict) or operand is None or isinstance(operand, bool):
            raise pattern_error(path, _ANYTHING_BUT_VALUE)
        operand = [operand]  # a number: refused below with the operator's own message
    if len(arg) > 1:
        raise pattern_error(path, "Only one key allowed in match expression")
    values = [operand] if isinstance(operand, str) else operand
    for value in values:
        if not isinstance(value, str):
            if name == "equals-ignore-case":
                raise pattern_error(
                    path, "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
                )
            if name == "wildcard":
                raise pattern_error(path, "wildcard match pattern must be a string")
            raise pattern_error(path, "prefix/suffix match pattern must be a string")
        if name in ("prefix", "suffix") and value == "":
            raise pattern_error(path, "Null prefix/suffix not allowed")
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

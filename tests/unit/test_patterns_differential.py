"""Parry's matcher against moto's (``moto.events.models.EventPattern``) on generated input.

moto is a useful oracle only where it is right, so the generators stay inside that
region by construction:

- events hold no arrays of objects, no nested arrays, no empty arrays or objects,
  no booleans, no keys with dots, and numbers within +/-5e9;
- patterns are always valid (moto validates almost nothing), CIDR blocks have no
  host bits set and contain no address moto could read from a small integer, and
  ``$or`` has two or three branches.

Each region left out is a place where moto disagrees with EventBridge; every one is
pinned below in ``MOTO_DISAGREES`` as an explicit example of EventBridge's behaviour.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parry.routing.patterns import compile_pattern

moto_models = pytest.importorskip("moto.events.models")
EventPattern = moto_models.EventPattern

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = ("a", "b", "c")
# '*' and '\\' appear in event strings so literal stars and backslashes meet wildcard escapes.
TEXT = st.text(alphabet="abAB./-*\\", max_size=5)
NONEMPTY_TEXT = st.text(alphabet="abAB./-*\\", min_size=1, max_size=4)
NUMBERS = st.one_of(st.integers(-20, 20), st.sampled_from([0.5, -2.5, 10.0, 3.0, 1e9, -1e9]))
IPS = st.sampled_from(
    [
        "10.0.0.1",
        "10.0.0.255",
        "10.0.1.5",
        "192.168.3.4",
        "2001:db8::1",
        "2001:db9::1",
        "fe80::1",
        "::1",
        "::a00:1",
        "10.0.0.1.5",
        "not-an-ip",
    ]
)
SCALARS = st.one_of(TEXT, NUMBERS, IPS, st.none())
MISSING = object()  # the field is absent from the event
# No block may contain the small integers events hold: moto reads a number as an address.
CIDRS = st.sampled_from(["10.0.0.0/24", "10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "10.0.1.0/24"])


def _event_value(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.one_of(SCALARS, st.lists(SCALARS, min_size=1, max_size=3))
    if depth == 0:
        return leaf
    return st.one_of(leaf, st.dictionaries(st.sampled_from(KEYS), _event_value(depth - 1), min_size=1, max_size=3))


EVENTS = st.dictionaries(st.sampled_from(KEYS), _event_value(2), max_size=3)


def _scalars_of(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars_of(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scalars_of(v)]
    return [value]


@st.composite
def wildcards(draw: st.DrawFn, seed: st.SearchStrategy[str]) -> str:
    """A valid wildcard: literal pieces (with \\* and \\\\ escapes) and at most five single stars."""
    pieces = draw(st.lists(st.sampled_from(["a", "b", ".", "/", "\\*", "\\\\", "*"]), max_size=6))
    if draw(st.booleans()):
        pieces.insert(draw(st.integers(0, len(pieces))), draw(seed).replace("\\", "\\\\").replace("*", "\\*"))
    text, stars, after_star = "", 0, False
    for piece in filter(None, pieces):
        if piece == "*":
            if after_star or stars == 5:
                continue
            stars += 1
        text += piece
        after_star = piece == "*"
    return text


def _operands(
    strings_seen: list[str], numbers_seen: list[int | float], scalars_seen: list[Any]
) -> dict[str, st.SearchStrategy[Any]]:
    """Entries of a pattern array by operator, biased towards the values the event holds."""

    def biased(seen: list[Any], fallback: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(st.sampled_from(seen), fallback) if seen else fallback

    values = biased(scalars_seen, SCALARS)
    strings = biased(strings_seen, TEXT)
    numbers = biased(numbers_seen, NUMBERS)
    prefixes = strings.map(lambda s: s[: len(s) // 2 + 1]).filter(bool)
    suffixes = strings.map(lambda s: s[len(s) // 2 :]).filter(bool)
    comparison = st.tuples(st.sampled_from(["=", "<", "<=", ">", ">="]), numbers).map(list)
    ranged = (
        st.tuples(st.sampled_from([">", ">="]), numbers, st.sampled_from(["<", "<="]), numbers)
        .filter(lambda r: r[1] < r[3])
        .map(list)
    )
    anything_but = st.one_of(
        strings,
        numbers,
        st.lists(strings, min_size=1, max_size=3),
        st.lists(numbers, min_size=1, max_size=3),
        st.one_of(prefixes, st.lists(prefixes, min_size=1, max_size=2)).map(lambda p: {"prefix": p}),
        st.one_of(suffixes, st.lists(suffixes, min_size=1, max_size=2)).map(lambda s: {"suffix": s}),
        st.one_of(strings, st.lists(strings, min_size=1, max_size=2)).map(lambda s: {"equals-ignore-case": s}),
        st.one_of(wildcards(strings), st.lists(wildcards(strings), min_size=1, max_size=2)).map(
            lambda w: {"wildcard": w}
        ),
    )
    return {
        "exact": values,
        "prefix": strings.map(lambda s: {"prefix": s}),
        "suffix": strings.map(lambda s: {"suffix": s}),
        "prefix-ignore-case": strings.map(lambda s: {"prefix": {"equals-ignore-case": s.swapcase()}}),
        "suffix-ignore-case": strings.map(lambda s: {"suffix": {"equals-ignore-case": s.upper()}}),
        "equals-ignore-case": strings.map(lambda s: {"equals-ignore-case": s.swapcase()}),
        "wildcard": wildcards(strings).map(lambda w: {"wildcard": w}),
        "numeric": comparison.map(lambda n: {"numeric": n}),
        "numeric-range": ranged.map(lambda n: {"numeric": n}),
        "exists": st.booleans().map(lambda b: {"exists": b}),
        "cidr": CIDRS.map(lambda c: {"cidr": c}),
        "anything-but": anything_but.map(lambda a: {"anything-but": a}),
    }


OPERATORS = (
    "exact",
    "prefix",
    "suffix",
    "prefix-ignore-case",
    "suffix-ignore-case",
    "equals-ignore-case",
    "wildcard",
    "numeric",
    "numeric-range",
    "exists",
    "cidr",
    "anything-but",
)


def _operands_for(value: Any) -> dict[str, st.SearchStrategy[Any]]:
    seen = _scalars_of(value)
    return _operands([s for s in seen if isinstance(s, str)], [n for n in seen if isinstance(n, (int, float))], seen)


@st.composite
def pattern_objects(draw: st.DrawFn, operand: st.SearchStrategy[Any], depth: int = 2) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True))
    node: dict[str, Any] = {}
    for key in keys:
        if depth > 0 and draw(st.integers(0, 3)) == 0:
            node[key] = draw(pattern_objects(operand, depth - 1))
        else:
            node[key] = draw(st.lists(operand, min_size=1, max_size=3))
    if depth > 0 and draw(st.integers(0, 4)) == 0:
        node["$or"] = draw(st.lists(pattern_objects(operand, depth - 1), min_size=2, max_size=3))
    return node


@st.composite
def event_and_pattern(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    event = draw(EVENTS)
    return event, draw(pattern_objects(st.one_of(*_operands_for(event).values())))


def moto_matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))


@SETTINGS
@given(event_and_pattern())
def test_agrees_with_moto(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    event, pattern = case
    assert compile_pattern(pattern).matches(event) == moto_matches(pattern, event), (pattern, event)


@pytest.mark.parametrize("operator", OPERATORS)
@settings(max_examples=60, deadline=None, database=None)
@given(data=st.data())
def test_agrees_with_moto_on_single_leaf(operator: str, data: st.DataObject) -> None:
    """One field, one operator at a time, so every operator gets its share of examples."""
    scalars = st.one_of(IPS, SCALARS) if operator == "cidr" else SCALARS
    value = data.draw(st.one_of(scalars, st.lists(scalars, min_size=1, max_size=3), st.just(MISSING)), label="value")
    operand = data.draw(_operands_for(None if value is MISSING else value)[operator], label="operand")
    pattern = {"detail": {"f": [operand]}}
    event = {"detail": {"g": 1} if value is MISSING else {"f": value}}
    assert compile_pattern(pattern).matches(event) == moto_matches(pattern, event)


def test_generators_produce_matches_and_misses() -> None:
    """Guard against a differential that only ever compares False with False."""
    outcomes: set[bool] = set()

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)  # the same 60 every run: never flaky
    @given(event_and_pattern())
    def collect(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
        event, pattern = case
        outcomes.add(compile_pattern(pattern).matches(event))

    collect()
    assert outcomes == {True, False}


# Where moto disagrees with EventBridge. Each row: id, pattern, event, EventBridge's answer,
# and where that answer is documented. moto returns the opposite for every row (checked
# with moto 5.2.5); these regions are therefore kept out of the generators above.
MOTO_DISAGREES: list[tuple[str, dict[str, Any], dict[str, Any], bool, str]] = [
    (
        "array of objects (Security Hub findings)",
        {"detail": {"findings": {"Severity": {"Label": ["HIGH"]}}}},
        {"detail": {"findings": [{"Severity": {"Label": "LOW"}}, {"Severity": {"Label": "HIGH"}}]}},
        True,
        "event-ruler README, JSON Array Matching",
    ),
    (
        "nested arrays are crushed",
        {"a": ["x"]},
        {"a": [["x", "y"]]},
        True,
        "event-ruler README: works for multi-level arrays too",
    ),
    (
        "nested arrays of objects",
        {"a": {"b": ["x"]}},
        {"a": [[{"b": "x"}]]},
        True,
        "event-ruler README: works for multi-level arrays too",
    ),
    (
        "exists:true on an empty array",
        {"resources": [{"exists": True}]},
        {"resources": []},
        False,
        "EventBridge TestEventPattern (LocalStack snapshot exists_list_empty_NEG)",
    ),
    (
        "exists:false on an empty array",
        {"resources": [{"exists": False}]},
        {"resources": []},
        True,
        "an empty array holds no leaf value",
    ),
    (
        "exists:true on an empty object",
        {"a": [{"exists": True}]},
        {"a": {}},
        False,
        "content filtering: exists matching only works on leaf nodes",
    ),
    (
        "number pattern vs true",
        {"a": [1]},
        {"a": True},
        False,
        "event patterns: values follow JSON rules; true is a keyword, not a number",
    ),
    (
        "true pattern vs 1",
        {"a": [True]},
        {"a": 1},
        False,
        "event patterns: values follow JSON rules; true is a keyword, not a number",
    ),
    (
        "numeric vs true",
        {"a": [{"numeric": [">", 0]}]},
        {"a": True},
        False,
        "content filtering: numeric matching works with values that are JSON numbers",
    ),
    (
        "anything-but a number vs true",
        {"a": [{"anything-but": 1}]},
        {"a": True},
        True,
        "content filtering: anything-but matches anything except what is provided",
    ),
    (
        "anything-but numbers vs false",
        {"a": [{"anything-but": [0]}]},
        {"a": False},
        True,
        "content filtering: anything-but matches anything except what is provided",
    ),
    (
        "numeric beyond the supported range",
        {"a": [{"numeric": [">", 0]}]},
        {"a": 6e9},
        False,
        "content filtering: numeric matching is limited to a range (event-ruler: +/-5e9)",
    ),
    (
        "cidr on a number",
        {"a": [{"cidr": "10.0.0.0/8"}]},
        {"a": 167772161},
        False,
        "EventBridge TestEventPattern (LocalStack snapshot content_ip_address_bad_type_NEG)",
    ),
    (
        "cidr with host bits is floored to its network",
        {"a": [{"cidr": "10.0.0.7/24"}]},
        {"a": "10.0.0.9"},
        True,
        "aws/event-ruler#89: CIDR matching uses the floor of the range",
    ),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"), [c[1:4] for c in MOTO_DISAGREES], ids=[c[0] for c in MOTO_DISAGREES]
)
def test_where_moto_disagrees(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected


def test_moto_accepts_what_eventbridge_refuses() -> None:
    """moto matches an unknown operator as if it were true; EventBridge refuses the pattern."""
    from parry.errors import PatternError

    pattern = {"a": [{"contains": "x"}]}
    with pytest.raises(PatternError, match="a: Unrecognized match type contains"):
        compile_pattern(pattern)

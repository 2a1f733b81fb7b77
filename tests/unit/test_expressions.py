"""JMESPath selectors and ${...} interpolation."""

from __future__ import annotations

import pytest

from parry.errors import ExpressionError
from parry.routing.expressions import compile_expr, expressions_in, interpolate, placeholders, truthy

CONTEXT = {
    "target": {"user": "alice", "ports": [22, 3389], "count": 3, "none": None},
    "event": {"detail": {"id": "f-1"}},
}


def test_whole_value_placeholder_keeps_its_type():
    assert interpolate("${target.ports}", CONTEXT) == [22, 3389]
    assert interpolate("${target.count}", CONTEXT) == 3
    assert interpolate("${target.none}", CONTEXT) is None


def test_embedded_placeholders_render_as_text():
    assert interpolate("user ${target.user} finding ${event.detail.id}", CONTEXT) == "user alice finding f-1"
    assert interpolate("ports ${target.ports}", CONTEXT) == "ports [22, 3389]"
    assert interpolate("none:${target.none}:", CONTEXT) == "none::"


def test_nested_values_are_interpolated():
    assert interpolate({"a": ["${target.user}", {"b": "${target.count}"}], "c": 1}, CONTEXT) == {
        "a": ["alice", {"b": 3}],
        "c": 1,
    }


def test_braces_and_quotes_inside_a_placeholder():
    assert placeholders("x ${join('}', ['a','b'])} y") == [(2, 25, "join('}', ['a','b'])")]
    assert interpolate("${join('-', [target.user, 'x'])}", CONTEXT) == "alice-x"


def test_unclosed_placeholder_is_an_error():
    with pytest.raises(ExpressionError, match="unclosed"):
        expressions_in("${target.user")


def test_invalid_jmespath_names_the_expression():
    with pytest.raises(ExpressionError, match=r"invalid JMESPath 'detail\[\?'"):
        compile_expr("detail[?")


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, False),
        ("", False),
        ([], False),
        ({}, False),
        (False, False),
        (0, True),
        ("x", True),
        ([0], True),
        (True, True),
    ],
)
def test_truthiness_follows_jmespath(value, expected):
    assert truthy(value) is expected

"""JMESPath selectors and `${...}` interpolation.

Expressions are JMESPath (a boto3 dependency already): Parry does not parse expressions itself.
`target` and `dedup` expressions read the event; `when` and `${...}` read the run context
`{"event", "target", "case", "steps"}`. A value that is only `${expr}` keeps the type of what
`expr` yields; inside a longer string it is rendered as text.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from parry.errors import ExpressionError


@lru_cache(maxsize=4096)
def compile_expr(expr: str) -> Any:
    """A compiled JMESPath expression; ExpressionError with the parser's reason if it is invalid."""
    if not isinstance(expr, str) or not expr.strip():
        raise ExpressionError("expression must be a non-empty string")
    try:
        return jmespath.compile(expr)
    except JMESPathError as exc:
        reason = str(exc).splitlines()[0]
        raise ExpressionError(f"invalid JMESPath {expr!r}: {reason}") from exc


def search(expr: str, data: Any) -> Any:
    try:
        return compile_expr(expr).search(data)
    except JMESPathError as exc:
        raise ExpressionError(f"cannot evaluate {expr!r}: {exc}") from exc


def truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, empty string, list and object are false."""
    if value is None or value is False:
        return False
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True  # numbers, 0 included, are true in JMESPath


def placeholders(text: str) -> list[tuple[int, int, str]]:
    """(start, end, expression) of each `${...}` in text; braces and quotes inside are respected."""
    out = []
    i = 0
    while (start := text.find("${", i)) != -1:
        depth, j, quote = 1, start + 2, None
        while j < len(text) and depth:
            ch = text[j]
            if quote:
                if ch == "\\":
                    j += 1
                elif ch == quote:
                    quote = None
            elif ch in "'\"`":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            j += 1
        if depth:
            raise ExpressionError(f"unclosed ${{...}} in {text!r}")
        out.append((start, j, text[start + 2 : j - 1]))
        i = j
    return out


def expressions_in(value: Any) -> list[str]:
    """Every `${...}` expression inside a (nested) `with:` value."""
    if isinstance(value, str):
        return [expr for _, _, expr in placeholders(value)]
    if isinstance(value, dict):
        return [e for v in value.values() for e in expressions_in(v)]
    if isinstance(value, list):
        return [e for v in value for e in expressions_in(v)]
    return []


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def interpolate(value: Any, context: dict[str, Any]) -> Any:
    """Resolve every `${...}` in a (nested) value against the run context."""
    if isinstance(value, dict):
        return {k: interpolate(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    if not isinstance(value, str):
        return value
    found = placeholders(value)
    if not found:
        return value
    if len(found) == 1 and found[0][0] == 0 and found[0][1] == len(value):
        return search(found[0][2], context)
    parts, last = [], 0
    for start, end, expr in found:
        parts.append(value[last:start])
        parts.append(_as_text(search(expr, context)))
        last = end
    parts.append(value[last:])
    return "".join(parts)

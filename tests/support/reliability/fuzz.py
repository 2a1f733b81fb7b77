"""The event fuzzer: generated bad events through the runner handler, with the real engine on moto.

Malformed, retyped, huge or deeply nested events must end as a named rejection (ParryError) or a
run, never an unhandled exception; hypothesis generates them from the real fixture events and
from seeded events that point at real resources, so matching mutations run whole playbooks.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

from tests.support.reliability.figures import Figures
from tests.support.reliability.fixtures import fixture_events, fresh_runner, load_playbook, playbook_paths
from tests.support.reliability.seeds import SEEDS
from tests.support.reliability.world import World


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if len(prefix) > 12:
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value[:20]):
            out.extend(_paths(v, prefix + (i,)))
    return out


def _as_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except (RecursionError, ValueError):
        return "<deep>"


def _nest(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for i in range(depth):
        value = {"n": value} if i % 2 else [value]
    return value


class Sample:
    """One generated event; a short repr, since hypothesis reprs every example (deep nesting would
    exhaust its pretty-printer's recursion)."""

    __slots__ = ("event",)

    def __init__(self, event: Any):
        self.event = event

    def __repr__(self) -> str:
        try:
            text = json.dumps(self.event, default=str)
        except (RecursionError, ValueError):
            text = f"<{type(self.event).__name__} too deep to print>"
        return f"Sample({text[:300]}{'...' if len(text) > 300 else ''})"


def event_strategy(bases: list[dict[str, Any]]) -> Any:
    """Mutations of real events: fields removed, retyped or replaced by huge strings, unicode,
    deep nesting or random JSON; sometimes not an object at all, or wrapped in a manual request."""
    from hypothesis import strategies as st

    leaf = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30)
    )
    huge = st.tuples(
        st.sampled_from(["A", "é", "😀", "\u0000", "\\", "'", '"', "${target.user}", "\u202e", "\ud7ff"]),
        st.integers(1_000, 300_000),
    ).map(lambda t: t[0] * t[1])
    deep = st.tuples(st.integers(10, 5_000), leaf).map(lambda t: _nest(*t))
    random_json = st.recursive(
        leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=10
    )
    value = st.one_of(leaf, leaf, random_json, huge, deep)

    texts = [json.dumps(b) for b in bases]

    @st.composite
    def mutated(draw: Any) -> Any:
        event = json.loads(draw(st.sampled_from(texts)))
        shape = draw(st.sampled_from(["mutate"] * 14 + ["whole", "whole", "manual", "manual", "continue"]))
        if shape == "whole":
            return draw(value)
        for _ in range(draw(st.integers(0, 3))):
            paths = _paths(event)
            path = draw(st.sampled_from(paths[1:] or paths))
            if not path:
                break
            parent = event
            for part in path[:-1]:
                parent = parent[part]
            op = draw(st.sampled_from(["delete", "replace", "replace", "retype"]))
            if op == "delete":
                del parent[path[-1]]
            elif op == "replace":
                parent[path[-1]] = draw(value)
            else:
                old = parent[path[-1]]
                parent[path[-1]] = (
                    _as_text(old)
                    if not isinstance(old, str)
                    else draw(st.sampled_from([0, 4.5, [old], {"v": old}, None, True]))
                )
        if shape == "manual":
            return {
                "source": "parry",
                "detail-type": "Parry Run Request",
                "id": draw(st.text(max_size=10)),
                "detail": draw(st.sampled_from([{"event": event}, {"playbook": "x", "event": event}, event, [event]])),
            }
        if shape == "continue":
            return {"source": "parry", "detail-type": "Parry Run Request", "detail": {"continue_case": draw(value)}}
        return event

    return mutated().map(Sample)


class _Discard:
    """stdout for 10,000 invocations' EMF lines."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def fuzz_handler(world: World, *, examples: int, seed: int, playbooks: list[Any] | None = None) -> Figures:
    """`examples` generated events through the handler's `run` with the real engine on moto.

    A ParryError is the handled outcome (a rejection: logged, counted, raised for the DLQ); any
    other exception is a bug, collected with its event."""
    import os
    import tempfile
    import warnings

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    from parry.errors import ParryError
    from parry.routing.patterns import compile_pattern
    from parry.runtime.in_process import compile_to

    books = playbooks or [load_playbook(p) for p in playbook_paths()]
    patterns = {b.name: compile_pattern(b.trigger) for b in books}
    bases = [e for _, e in fixture_events()]
    for book in books:  # events that point at real resources, so matching mutations run whole playbooks
        if book.name in SEEDS:
            bases.append(SEEDS[book.name](world.admin, world.next()).event)
    outcomes: Counter = Counter()
    unhandled: list[str] = []
    matched = [0]
    with (
        tempfile.TemporaryDirectory() as tmp,
        contextlib.redirect_stdout(_Discard()),
        warnings.catch_warnings(),
        mock.patch.dict(os.environ, {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}),
    ):
        for book in books:
            compile_to(book, Path(tmp))
        warnings.simplefilter("ignore")  # powertools' per-invocation warnings, 10,000 times over
        runner = fresh_runner()
        engine = world.engine()

        @hseed(seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(st.sampled_from(books), event_strategy(bases))
        def one(book: Any, sample: Sample) -> None:
            event = sample.event
            if isinstance(event, dict) and patterns[book.name].matches(event):
                matched[0] += 1
            try:
                case = runner.run(event, None, playbook_name=book.name, playbooks_dir=tmp, engine=engine)
                outcomes[f"ran:{case['status']}"] += 1
            except ParryError as exc:
                outcomes[f"rejected:{type(exc).__name__}"] += 1
            except Exception as exc:
                outcomes[f"UNHANDLED:{type(exc).__name__}"] += 1
                if len(unhandled) < 20:
                    import traceback

                    where = " < ".join(
                        f"{Path(f.filename).name}:{f.lineno}"
                        for f in traceback.extract_tb(exc.__traceback__)[-4:][::-1]
                    )
                    unhandled.append(f"{book.name}: {type(exc).__name__}: {str(exc)[:200]} at {where} <- {sample!r}")

        started = time.perf_counter()
        one()
        seconds = time.perf_counter() - started
    total = sum(outcomes.values())
    return {
        "events": total,
        "matched_a_trigger": matched[0],
        "ran": sum(v for k, v in outcomes.items() if k.startswith("ran:")),
        "rejected": sum(v for k, v in outcomes.items() if k.startswith("rejected:")),
        "unhandled": sum(v for k, v in outcomes.items() if k.startswith("UNHANDLED:")),
        "seconds": round(seconds, 1),
        "outcomes": dict(outcomes),
        "examples": unhandled,
    }

"""Fault injection at step boundaries: the invocation dies (an exception, or killed) mid-run.

Every boundary a run crosses (claim, evidence writes, audit records, checkpoints, rate counting,
each action's apply, sealing) is a place Lambda can stop; `crash_everywhere` crashes at each in
turn and checks that redelivery finishes the case with every change made exactly once.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tests.support.reliability.figures import Figures
from tests.support.reliability.seeds import SEEDS
from tests.support.reliability.world import World


class InjectedCrash(BaseException):
    """Stands for the invocation dying (timeout, OOM, a bug) at one boundary; not an Exception, so
    nothing in Parry can mistake it for an action's own failure."""


@dataclass
class Boundaries:
    """Counts boundary crossings during a run and raises InjectedCrash at crossing number `crash_at`."""

    crash_at: int | None = None
    seen: list[str] = field(default_factory=list)
    crashed: bool = False

    def cross(self, label: str) -> None:
        self.seen.append(label)
        if self.crash_at is not None and len(self.seen) - 1 == self.crash_at and not self.crashed:
            self.crashed = True
            raise InjectedCrash(label)


@contextlib.contextmanager
def boundaries(b: Boundaries, *, kill: bool = False) -> Iterator[Boundaries]:
    """Instrument the engine's boundaries: claim, evidence writes, audit records, checkpoints,
    rate counting, each action's apply, sealing. With `kill`, a crash also skips the engine's
    cleanup (the lease stays held, as when Lambda kills the invocation at its timeout)."""
    import parry.engine.steps as steps_mod
    from parry.evidence.writer import CaseEvidence
    from parry.store.store import CaseStore

    def wrap(cls: Any, name: str, label: Callable[..., str] | None = None) -> Any:
        real = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            tag = f"{cls.__name__}.{name}" + (f"[{label(*args, **kwargs)}]" if label else "")
            b.cross(f"before {tag}")
            out = real(self, *args, **kwargs)
            b.cross(f"after {tag}")
            return out

        return mock.patch.object(cls, name, wrapper)

    real_execute = steps_mod.execute
    real_release = CaseStore.release_lease

    def execute(action: Any, ctx: Any, params: Any, **kwargs: Any) -> Any:
        real_apply = action.apply

        def apply(*args: Any, **kwargs: Any) -> Any:
            b.cross(f"before apply[{ctx.step_id}]")
            out = real_apply(*args, **kwargs)
            b.cross(f"after apply[{ctx.step_id}]")
            return out

        action.apply = apply
        return real_execute(action, ctx, params, **kwargs)

    def release(self: Any, case_id: str, *, owner: str) -> None:
        if kill and b.crashed:
            return  # a killed invocation cleans nothing up
        b.cross("before CaseStore.release_lease")
        real_release(self, case_id, owner=owner)

    with contextlib.ExitStack() as stack:
        stack.enter_context(wrap(CaseStore, "claim"))
        stack.enter_context(wrap(CaseStore, "save", lambda case, **kw: f"{case.status}@{case.next_step}"))
        stack.enter_context(wrap(CaseStore, "count_case"))
        stack.enter_context(wrap(CaseEvidence, "put", lambda relpath, *a, **kw: relpath.split("/")[0]))
        stack.enter_context(wrap(CaseEvidence, "audit", lambda kind, *a, **kw: kind))
        stack.enter_context(wrap(CaseEvidence, "seal"))
        stack.enter_context(mock.patch.object(steps_mod, "execute", execute))
        stack.enter_context(mock.patch.object(CaseStore, "release_lease", release))
        yield b


def _clean_run(world: World, book: Any) -> tuple[Any, Counter, list[str]]:
    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    b = Boundaries()
    with boundaries(b):
        case = world.engine(probe=probe).run(book, seeded.event)
    assert seeded.contained(), f"{book.name}: a clean run did not contain its resource"
    case.notifications = len(probe.notifications)
    return case, probe.mutation_counts(), b.seen


def _shape(counts: Counter) -> Counter:
    """Mutations by (service, operation), so runs on different seeded resources compare."""
    out: Counter = Counter()
    for (service, op, _), n in counts.items():
        out[(service, op)] += n
    return out


def boundary_labels(world: World, book: Any) -> list[str]:
    """The boundaries a clean run of `book` crosses, in order."""
    return _clean_run(world, book)[2]


def apply_boundaries(labels: list[str]) -> list[int]:
    """The sharpest boundaries: right after the claim, and right after each action's apply (the
    change is made but not checkpointed: the step must run again as a no-op)."""
    return [i for i, label in enumerate(labels) if label == "after CaseStore.claim" or label.startswith("after apply[")]


def step_boundaries(labels: list[str]) -> list[int]:
    """The boundaries that matter most, for the fast suite: right after the claim, around each
    action's apply (applied but not checkpointed), right after each checkpoint, and before sealing."""
    keep = []
    for i, label in enumerate(labels):
        if label in ("after CaseStore.claim", "before CaseEvidence.seal") or label.startswith(
            ("before apply[", "after apply[", "after CaseStore.save[RUNNING")
        ):
            keep.append(i)
    return keep


def _mutating_steps(case: Any) -> list[tuple[str, str]]:
    from parry.actions import registry

    return [(s.step_id, s.status) for s in case.steps if registry.get(s.action).mutating]


def crash_everywhere(world: World, book: Any, *, kill: bool = False, only: Any = None) -> Figures:
    """Crash at each boundary of a run, then redeliver the event until the case closes.

    Checks, per boundary: the crash happened there; redeliveries finish the case with the same
    status as a clean run; every mutation of a clean run happened, and none twice; the case has
    its opening evidence, a closing audit record and a manifest; exactly one case was opened.
    """
    clean_case, clean_mutations, labels = _clean_run(world, book)
    clean_shape = _shape(clean_mutations)
    if callable(only):
        only = only(labels)
    failures: list[str] = []
    repeated = missing = resumed = reruns_noop = extra_notifications = 0
    for k in only if only is not None else range(len(labels)):
        seeded = SEEDS[book.name](world.admin, world.next())
        probe = world.probe()
        now = [world.hour_clock()()]
        engine = world.engine(probe=probe, clock=lambda now=now: now[0])
        b = Boundaries(crash_at=k)
        try:
            with boundaries(b, kill=kill):
                engine.run(book, seeded.event)
            failures.append(f"{labels[k]}: no crash")
            continue
        except InjectedCrash:
            pass
        case = None
        for _attempt in range(3):  # Lambda's own retries of an async invocation
            now[0] += 1000.0 if kill else 60.0  # a killed run's lease has expired by the retry
            case = engine.run(book, seeded.event)
            if case.status not in ("RUNNING",):
                break
        assert case is not None
        stored = engine.store.get(case.case_id)
        counts = probe.mutation_counts()
        shape = _shape(counts)
        repeated += sum(n - 1 for n in counts.values() if n > 1)
        extra_notifications += max(0, len(probe.notifications) - clean_case.notifications)
        missing += sum((clean_shape - shape).values())
        problems = []
        if stored.status != clean_case.status:
            problems.append(f"status {stored.status} (clean run: {clean_case.status})")
        steps, clean_steps = _mutating_steps(stored), _mutating_steps(clean_case)
        if steps != clean_steps:  # e.g. a change made before the crash recorded as a no-op: undo would skip it
            problems.append(f"steps {steps} (clean run: {clean_steps})")
        if any(n > 1 for n in counts.values()):
            problems.append(f"repeated mutations {[m[:2] for m, n in counts.items() if n > 1]}")
        if shape != clean_shape:
            problems.append(f"mutations {dict(shape)} != clean {dict(clean_shape)}")
        if not seeded.contained():
            problems.append("resource not contained")
        keys = world.evidence_keys(stored.evidence_prefix)
        for needed in ("event.json", "playbook.json"):
            if needed not in keys:
                problems.append(f"evidence lacks {needed}")
        if not any(k.startswith("manifest") for k in keys):
            problems.append("evidence has no manifest")
        cases = world.cases_for(book.name, stored.dedup)
        if len(cases) != 1:
            problems.append(f"{len(cases)} cases")
        resumed += not problems
        reruns_noop += sum(1 for s in stored.steps if s.status == "noop")
        if problems:
            failures.append(f"crash {labels[k]} (#{k}): " + "; ".join(problems))
    tried = len(only) if only is not None else len(labels)
    return {
        "playbook": book.name,
        "mode": "kill" if kill else "exception",  # kill: no cleanup, the lease expires
        "boundaries": tried,
        "completed_after_redelivery": resumed,
        "repeated_mutations": repeated,
        "missing_mutations": missing,
        "steps_rerun_as_noop": reruns_noop,
        "repeated_notifications": extra_notifications,  # notify.sns is at-least-once: a crash after publishing sends again
        "failures": failures,
    }

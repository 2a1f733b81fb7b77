"""Fault injection at every AWS call: the invocation dies (an exception, or killed) mid-run.

Every AWS call a run makes (the claim, evidence and audit writes, checkpoints, rate counting, the
lease, each action's reads and changes, the seal's signature) is a place Lambda can stop, either
before the call or after AWS made the change but before Parry recorded it. The boundaries come from
botocore itself: a `before-call` and an `after-call` hook on every client the engine's factories make
(member-account factories too), so a new call in the engine is crashed at without anyone listing it.
`crash_everywhere` crashes at each in turn and checks that redelivery finishes the case with every
change made exactly once.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tests.support.reliability.counting import BOOKKEEPING_SERVICES, is_mutating
from tests.support.reliability.figures import Figures
from tests.support.reliability.seeds import SEEDS
from tests.support.reliability.world import World

# "before iam.UpdateAccessKey [deactivate-key]": when, service.Operation, and the step whose action made it
LABEL = re.compile(r"^(?P<when>before|after) (?P<service>[\w-]+)\.(?P<op>\w+)(?: \[(?P<step>[^\]]+)\])?$")


class InjectedCrash(BaseException):
    """Stands for the invocation dying (timeout, OOM, a bug) at one boundary; not an Exception, so
    nothing in Parry can mistake it for an action's own failure."""


@dataclass
class Boundaries:
    """Counts boundary crossings during a run and raises InjectedCrash at crossing number `crash_at`
    (or at the first crossing labelled `crash_on`, e.g. "after dynamodb.TransactWriteItems": the claim).

    With `kill`, a crashed invocation makes no call after the crash (its clean-up never runs: the
    lease stays held, as when Lambda kills the invocation at its timeout)."""

    crash_at: int | None = None
    crash_on: str | None = None
    kill: bool = field(default=False, init=False)  # set by `boundaries`
    seen: list[str] = field(default_factory=list)
    crashed: bool = False
    step: str | None = None  # the step whose action is applying, named in the labels of its calls

    def cross(self, label: str) -> None:
        if self.crashed and self.kill:
            raise InjectedCrash(f"{label}: the invocation was killed")
        self.seen.append(label)
        if not self.crashed and (len(self.seen) - 1 == self.crash_at or label == self.crash_on):
            self.crashed = True
            raise InjectedCrash(label)

    def call(self, when: str, model: Any) -> None:
        step = f" [{self.step}]" if self.step else ""
        self.cross(f"{when} {model.service_model.endpoint_prefix}.{model.name}{step}")


@contextlib.contextmanager
def boundaries(b: Boundaries, *, kill: bool = False) -> Iterator[Boundaries]:
    """Make every AWS call of every client a ClientFactory hands out inside the block a boundary:
    before the call is sent, and after AWS answered (the change is made, Parry has not recorded it).
    The one other patch only notes which step's action is applying, to name it in the labels."""
    import parry.engine.steps as steps_mod
    from parry.aws.clients import ClientFactory

    b.kill = kill
    hooked: dict[int, Any] = {}
    real_client = ClientFactory.client
    real_execute = steps_mod.execute

    def before(model: Any, **_: Any) -> None:
        b.call("before", model)

    def after(model: Any, **_: Any) -> None:
        b.call("after", model)

    def client(self: ClientFactory, service: str, region: str | None = None) -> Any:
        made = real_client(self, service, region)
        if id(made) not in hooked:
            hooked[id(made)] = made
            # first before the call and last after it, so a Probe counts exactly the calls AWS answered
            made.meta.events.register_first("before-call", before, unique_id=f"parry-crash-before-{id(b)}")
            made.meta.events.register_last("after-call", after, unique_id=f"parry-crash-after-{id(b)}")
        return made

    def execute(action: Any, ctx: Any, params: Any, **kwargs: Any) -> Any:
        real_apply = action.apply

        def apply(*args: Any, **kwargs: Any) -> Any:
            b.step = ctx.step_id
            try:
                return real_apply(*args, **kwargs)
            finally:
                b.step = None

        action.apply = apply
        return real_execute(action, ctx, params, **kwargs)

    try:
        with mock.patch.object(ClientFactory, "client", client), mock.patch.object(steps_mod, "execute", execute):
            yield b
    finally:  # the engine keeps its clients: a redelivery after the block must run uninstrumented
        for made in hooked.values():
            made.meta.events.unregister("before-call", unique_id=f"parry-crash-before-{id(b)}")
            made.meta.events.unregister("after-call", unique_id=f"parry-crash-after-{id(b)}")


def _clean_run(world: World, book: Any) -> tuple[Any, Counter, list[str]]:
    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    b = Boundaries()
    with boundaries(b):
        case = world.engine(probe=probe).run(book, seeded.event)
    assert seeded.contained(), f"{book.name}: a clean run did not contain its resource"
    crossed = Counter((p["service"], p["op"]) for p in map(LABEL.match, b.seen) if p and p["when"] == "before")
    unseen = Counter(probe.calls) - crossed
    assert not unseen, f"{book.name}: AWS calls that were not boundaries: {dict(unseen)}"
    case.notifications = len(probe.notifications)
    return case, probe.mutation_counts(), b.seen


def _shape(counts: Counter) -> Counter:
    """Mutations by (service, operation), so runs on different seeded resources compare."""
    out: Counter = Counter()
    for (service, op, _), n in counts.items():
        out[(service, op)] += n
    return out


def _writes(labels: list[str], when: str) -> list[tuple[int, re.Match[str]]]:
    """(index, parts) of the `when` crossings of calls that change something (Parry's own state too)."""
    out = []
    for i, label in enumerate(labels):
        parts = LABEL.match(label)
        assert parts, f"not a boundary label: {label!r}"
        if parts["when"] == when and is_mutating(parts["service"], parts["op"]):
            out.append((i, parts))
    return out


def apply_boundaries(labels: list[str]) -> list[int]:
    """The sharpest boundaries: right after the claim (the run's first DynamoDB write), and right
    after the last change each step's action makes (made, not yet checkpointed: the step must run
    again as a no-op and still be recorded as this case's change)."""
    after = _writes(labels, "after")
    claim = next(i for i, parts in after if parts["service"] in BOOKKEEPING_SERVICES)
    last = {parts["step"]: i for i, parts in after if parts["step"]}
    return sorted({claim, *last.values()})


def write_boundaries(labels: list[str]) -> list[int]:
    """Before and after every call that writes (the account's changes and Parry's own records): the
    engine's clean-up runs from each, and a crash around a read leaves what one around a write does."""
    return sorted({i for when in ("before", "after") for i, _ in _writes(labels, when)})


def record_boundaries(labels: list[str]) -> list[int]:
    """Where a killed run leaves the case record or the account changed and nothing after: before
    its first call, after each write to the case table (claim, checkpoints, counter, lease), and
    after each change a step's action makes. A killed run makes no call after its crash, so a crash
    around a read, or before a write, leaves what one of these does (evidence writes aside: the
    exception sweep crashes at those)."""
    return sorted({0, *(i for i, parts in _writes(labels, "after") if parts["service"] == "dynamodb" or parts["step"])})


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

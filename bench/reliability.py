"""Reliability figures for issue 6, measured on moto in-process, printed as a markdown table.

The scenarios are the ones tests/reliability asserts on (the package tests/support/reliability):
redeliveries, concurrent deliveries, a crash at every AWS call, throttling, the time budget,
generated bad events through the handler, broken playbooks and protected resources.

    python bench/reliability.py            # the figures, about five minutes on 2 cores
    python bench/reliability.py --full     # a crash before and after every AWS call of every playbook, both ways
    BENCH_FUZZ_EVENTS=2000 python bench/reliability.py   # a shorter fuzz run
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for var, value in (
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_REGION", "us-east-1"),
):
    os.environ[var] = value
for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(var, None)
for var in [v for v in os.environ if v.startswith("PARRY_")]:
    os.environ.pop(var)

from tests.support.reliability import exactly_once  # noqa: E402
from tests.support.reliability.broken_playbooks import broken_playbook_figures  # noqa: E402
from tests.support.reliability.faults import (  # noqa: E402
    apply_boundaries,
    crash_everywhere,
    record_boundaries,
    write_boundaries,
)
from tests.support.reliability.fixtures import PLAYBOOKS_DIR, load_playbook  # noqa: E402
from tests.support.reliability.fuzz import fuzz_handler  # noqa: E402
from tests.support.reliability.seeds import seedable_playbooks  # noqa: E402
from tests.support.reliability.throttling import throttled_runs  # noqa: E402
from tests.support.reliability.world import World, moto_world  # noqa: E402

Row = tuple[str, str, str, float]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def in_world(fn: Callable[[World], Any]) -> tuple[Any, float]:
    with moto_world() as world:
        return timed(lambda: fn(world))


def primary() -> Any:
    return load_playbook(PLAYBOOKS_DIR / "iam-credential-compromise.yaml")


def redeliveries() -> list[Row]:
    f, s = in_world(lambda w: exactly_once.redeliveries(w, primary(), n=1000))
    return [
        (
            "1,000 redeliveries of one event (resource re-opened behind Parry's back first)",
            "repeated mutations",
            f"**{f['repeated_mutations']}** (cases: {f['cases']}, duplicates recorded: "
            f"{f['duplicates_recorded']}, repeated notifications: {f['repeated_notifications']}, "
            f"{f['ms_per_redelivery']} ms per redelivery)",
            s,
        )
    ]


def concurrency() -> list[Row]:
    f, s = in_world(lambda w: exactly_once.concurrent_deliveries(w, primary(), n=8))
    return [
        (
            "8 concurrent deliveries of one event (threads, one moto)",
            "cases / mutations",
            f"**{f['cases']} case, {f['mutations']} mutations** ({f['ran']} ran it, {f['duplicates']} duplicates, "
            f"{f['busy_then_retried']} CaseBusy then retried as duplicates; repeated mutations "
            f"{f['repeated_mutations']}; errors {len(f['errors'])})",
            s,
        )
    ]


def crashes(full: bool) -> list[Row]:
    rows = []
    seeded, unseeded = seedable_playbooks()
    for kill in (False, True):
        totals = {
            "boundaries": 0,
            "completed_after_redelivery": 0,
            "repeated_mutations": 0,
            "missing_mutations": 0,
            "steps_rerun_as_noop": 0,
            "repeated_notifications": 0,
        }
        failures: list[str] = []
        started = time.perf_counter()
        for path in seeded:
            book = load_playbook(path)
            if kill and not full and book.name != "iam-credential-compromise":
                continue
            primary = book.name == "iam-credential-compromise"
            only = None if full else record_boundaries if kill else write_boundaries if primary else apply_boundaries
            with moto_world() as world:
                f = crash_everywhere(world, book, kill=kill, only=only)
            for key in totals:
                totals[key] += f[key]
            failures += f["failures"]
        scope = (
            "before and after every AWS call of every playbook"
            if full
            else "iam-credential-compromise before its first call, after each case-table write and each change an action makes"
            if kill
            else "iam-credential-compromise before and after each write; after the claim and after each change an action makes in the others"
        )
        mode = "killed (no cleanup; lease expires)" if kill else "exception (engine cleanup runs)"
        rows.append(
            (
                f"Crash at AWS calls, {mode}: {scope}",
                "completed after redelivery / repeated mutations",
                f"**{totals['completed_after_redelivery']}/{totals['boundaries']}, {totals['repeated_mutations']}** "
                f"(missing {totals['missing_mutations']}; steps re-run as no-ops {totals['steps_rerun_as_noop']}; "
                f"repeated notifications {totals['repeated_notifications']}; failures {len(failures)})",
                time.perf_counter() - started,
            )
        )
    if unseeded:
        rows.append(("Playbooks without a seed (not crash-tested)", "names", ", ".join(unseeded), 0.0))
    return rows


def throttling(sweep: list[int]) -> list[Row]:
    rows = []
    f, s = in_world(lambda w: throttled_runs(w, primary(), runs=40, rate=0.3, seed=6))
    calls = f["http_attempts"] * 0.7 / f["runs"]  # API calls per run: attempts x (1 - throttle rate)
    rows.append(
        (
            "ThrottlingException on 30 % of HTTP attempts (seeded), adaptive retries, "
            f"max_attempts={f['max_attempts']} (parry.aws.clients default)",
            "runs completed",
            f"**{f['completed']}/{f['runs']}** ({f['throttled']} of {f['http_attempts']} attempts throttled; "
            f"most retries of one call {f['max_retries_of_one_call']} of {f['max_attempts'] - 1}; back-off a real run "
            f"would sleep ≈ {f['virtual_backoff_s'] / f['runs']:.0f} s; ~{calls:.0f} calls per run, each exhausting "
            f"its attempts with p = 0.3^{f['max_attempts']} = {0.3 ** f['max_attempts']:.1e})",
            s,
        )
    )
    for n in sweep:
        f, s = in_world(lambda w, n=n: throttled_runs(w, primary(), runs=40, rate=0.3, seed=60 + n, max_attempts=n))
        rows.append(
            (
                f"… same, max_attempts={n}",
                "runs completed",
                f"{f['completed']}/{f['runs']} (p = 0.3^{n} = {0.3**n:.1e} per call)",
                s,
            )
        )
    return rows


def time_budget() -> list[Row]:
    f, s = in_world(lambda w: exactly_once.time_budget(w, primary()))
    return [
        (
            "Time budget: remaining_seconds shrinking 10 s per check, stop below 30 s",
            "stopped / resumed",
            f"**stopped {f['stopped_status']} at step {f['checkpoint_next_step']}/{f['steps_total']}, lease released "
            f"{f['lease_released']}; resume → {f['final_status']}**, repeated mutations {f['repeated_mutations']}",
            s,
        )
    ]


def fuzz(events: int) -> list[Row]:
    f, s = in_world(lambda w: fuzz_handler(w, examples=events, seed=2026))
    return [
        (
            f"{f['events']:,} generated events (mutations of tests/events fixtures) through the handler's run, real engine",
            "unhandled exceptions",
            f"**{f['unhandled']}** ({f['rejected']} rejected by name, {f['ran']} ran a case, "
            f"{f['matched_a_trigger']} matched a trigger)",
            s,
        )
    ]


def broken() -> list[Row]:
    f, s = timed(lambda: broken_playbook_figures(100))
    return [
        (
            "100 broken playbooks (mutations of the shipped ones)",
            "named FILE:LINE validation errors",
            f"**{f['named_validation_errors']}/100** ({f['kinds']} kinds of breakage; other outcomes {f['other_outcomes']})",
            s,
        )
    ]


def protected() -> list[Row]:
    import dataclasses

    from parry.actions import registry
    from parry.actions.base import ActionContext, Observation
    from parry.engine.steps import execute
    from parry.store.step_result import REFUSED
    from tests.support.reliability.dummy_params import dummy_params

    def run() -> tuple[int, int]:
        checked = refused = 0
        seen = Observation(
            state={"seen": 1}, arn="arn:aws:iam::123456789012:user/alice", tags={"parry:protected": "true"}
        )
        for cls in registry.all_actions().values():
            if not cls.mutating:
                continue
            action, applied = cls(), []
            action.observe = lambda ctx, params: dataclasses.replace(seen)  # type: ignore[method-assign]
            action.apply = lambda *a, applied=applied, **k: applied.append(1) or {}  # type: ignore[method-assign]
            ctx = ActionContext(
                aws=None, case_id="c", step_id="s", playbook="p", account="123456789012", region="us-east-1"
            )
            result = execute(action, ctx, dummy_params(cls))
            checked += 1
            refused += result.status == REFUSED and not applied
        return checked, refused

    (checked, refused), s = timed(run)
    return [
        (
            "Protected resource (tag parry:protected=true) observed by every mutating action",
            "refused before apply",
            f"**{refused}/{checked}** actions",
            s,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="crash at every AWS call of every playbook, both modes")
    parser.add_argument("--sweep", default="4,5,6,12", help="max_attempts values to try at 30 %% throttling")
    args = parser.parse_args()
    events = int(os.environ.get("BENCH_FUZZ_EVENTS", "10000"))
    sweep = [int(n) for n in args.sweep.split(",") if n.strip()]
    started = time.perf_counter()
    rows: list[Row] = []
    for part in (
        redeliveries,
        concurrency,
        lambda: crashes(args.full),
        lambda: throttling(sweep),
        time_budget,
        lambda: fuzz(events),
        broken,
        protected,
    ):
        new = part()
        rows += new
        for row in new:
            print(f"  {row[0]}: {row[2]} ({row[3]:.1f} s)", file=sys.stderr, flush=True)
    print("| scenario | figure | result | time |")
    print("| --- | --- | --- | --- |")
    for scenario, figure, result, seconds in rows:
        print(f"| {scenario} | {figure} | {result} | {seconds:.1f} s |")
    print(
        f"\nmoto {_version('moto')}, boto3 {_version('boto3')}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; total {time.perf_counter() - started:.0f} s"
    )


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main()

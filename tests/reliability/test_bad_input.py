"""Bad input never crashes Parry: generated events through the runner handler, and broken playbooks
through validation. A rejection by name (ParryError / ValidationError) is the handled outcome."""

from __future__ import annotations

import pytest

from tests.support.reliability.broken_playbooks import broken_playbook_figures
from tests.support.reliability.figures import report
from tests.support.reliability.fuzz import fuzz_handler

# 3,000 in all, spread over the xdist workers, asserting the same figures (none unhandled, real runs seen);
# bench/reliability.py runs the full 10,000 that docs/benchmarks.md reports
SHARDS = 2
EVENTS_PER_SHARD = 1500


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_generated_events_are_run_or_rejected_never_crash_the_handler(world, shard):
    figures = fuzz_handler(world, examples=EVENTS_PER_SHARD, seed=1000 + shard)
    report(shard=shard, **{k: v for k, v in figures.items() if k not in ("examples", "outcomes")})
    assert figures["events"] == EVENTS_PER_SHARD
    assert figures["unhandled"] == 0, "\n".join(figures["examples"])
    assert figures["matched_a_trigger"] > 0 and figures["ran"] > 0  # the real engine saw real work


# ---- broken playbooks ------------------------------------------------------------------------------


def test_100_broken_playbooks_each_yield_a_named_validation_error():
    figures = broken_playbook_figures(100)
    report(**{k: v for k, v in figures.items() if k != "other"})
    assert figures["other"] == []
    assert figures["named_validation_errors"] == 100 and figures["kinds"] >= 30

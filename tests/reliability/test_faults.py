"""A crash at every step boundary of every playbook: the redelivered event resumes and completes,
and each mutation happens exactly once (a step applied but not checkpointed runs again as a no-op).

The fast suite crashes at every boundary of the primary playbook (and, killed, at its key
boundaries: after the claim, around each apply, after each checkpoint, before sealing), and right
after the claim and after each apply of every other playbook. PARRY_RELIABILITY_FULL=1 crashes at
every boundary of every playbook, in both modes (about ten minutes).
"""

from __future__ import annotations

import os

import pytest

import reliability_harness as rh

FULL = os.environ.get("PARRY_RELIABILITY_FULL") == "1"
PRIMARY = "iam-credential-compromise"
SEEDED, UNSEEDED = rh.seedable_playbooks()


def _check(figures):
    rh.report(**{k: v for k, v in figures.items() if k != "failures"})
    assert figures["boundaries"] > 0
    assert figures["failures"] == [], "\n".join(figures["failures"])
    assert figures["repeated_mutations"] == 0 and figures["missing_mutations"] == 0
    assert figures["completed_after_redelivery"] == figures["boundaries"]


@pytest.mark.slow
@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_exception_at_each_boundary_then_redelivery_completes_exactly_once(world, path):
    book = rh.load_playbook(path)
    every = FULL or book.name == PRIMARY
    _check(rh.crash_everywhere(world, book, only=None if every else rh.apply_boundaries))


@pytest.mark.slow
@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_killed_invocation_at_each_boundary_is_finished_after_its_lease(world, path):
    """As when Lambda kills the invocation at its timeout: no cleanup runs, the lease stays held
    until it expires, then the retried delivery takes the case over and finishes it."""
    book = rh.load_playbook(path)
    if not FULL and book.name != PRIMARY:
        pytest.skip("killed runs of every playbook: PARRY_RELIABILITY_FULL=1")
    _check(rh.crash_everywhere(world, book, kill=True, only=None if FULL else rh.step_boundaries))


@pytest.mark.parametrize("name", UNSEEDED or ["(none)"])
def test_every_playbook_has_a_seed(name):
    if name == "(none)":
        return
    pytest.skip(f"no seeding function for playbook {name}: add one to reliability_harness.SEEDS")

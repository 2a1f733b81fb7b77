"""A crash at every AWS call of every playbook: the redelivered event resumes and completes, and
each mutation happens exactly once (a step applied but not checkpointed runs again as a no-op).

The boundaries are found, not listed: before and after every AWS call the engine's clients make
(tests/support/reliability/faults.py). The fast suite crashes, raising, before and after every call
of the primary playbook that writes; killed, before its first call and after each write to the case
table and each change an action makes; and, in every other playbook, right after the claim and
after the last change each step's action makes.
PARRY_RELIABILITY_FULL=1 crashes before and after every call of every playbook, in both modes.
"""

from __future__ import annotations

import os

import pytest

from tests.support.reliability.faults import (
    Boundaries,
    InjectedCrash,
    apply_boundaries,
    boundaries,
    crash_everywhere,
    record_boundaries,
    write_boundaries,
)
from tests.support.reliability.figures import report
from tests.support.reliability.fixtures import PLAYBOOKS_DIR, load_playbook
from tests.support.reliability.seeds import SEEDS, seedable_playbooks

FULL = os.environ.get("PARRY_RELIABILITY_FULL") == "1"
PRIMARY = "iam-credential-compromise"
SEEDED, UNSEEDED = seedable_playbooks()


def _check(figures):
    report(**{k: v for k, v in figures.items() if k != "failures"})
    assert figures["boundaries"] > 0
    assert figures["failures"] == [], "\n".join(figures["failures"])
    assert figures["repeated_mutations"] == 0 and figures["missing_mutations"] == 0
    assert figures["completed_after_redelivery"] == figures["boundaries"]


@pytest.mark.slow
@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_exception_at_each_boundary_then_redelivery_completes_exactly_once(world, path):
    book = load_playbook(path)
    only = None if FULL else write_boundaries if book.name == PRIMARY else apply_boundaries
    _check(crash_everywhere(world, book, only=only))


@pytest.mark.slow
@pytest.mark.parametrize("path", SEEDED, ids=lambda p: p.stem)
def test_killed_invocation_at_each_boundary_is_finished_after_its_lease(world, path):
    """As when Lambda kills the invocation at its timeout: no cleanup runs, the lease stays held
    until it expires, then the retried delivery takes the case over and finishes it."""
    book = load_playbook(path)
    if not FULL and book.name != PRIMARY:
        pytest.skip("killed runs of every playbook: PARRY_RELIABILITY_FULL=1")
    _check(crash_everywhere(world, book, kill=True, only=None if FULL else record_boundaries))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "boundary"),
    [
        ("lambda-compromise", "after lambda.PutFunctionConcurrency [quarantine-function]"),
        ("ec2-compromise", "after ec2.ModifyNetworkInterfaceAttribute [isolate]"),
    ],
)
def test_a_crash_between_an_actions_own_calls_repeats_none_of_them(world, name, boundary):
    """Found by the hook (the hand-kept list crashed only around a whole apply): the rerun finishes what the
    interrupted apply left, and repeats none of the calls it made."""
    book = load_playbook(PLAYBOOKS_DIR / f"{name}.yaml")
    _check(crash_everywhere(world, book, only=lambda labels: [labels.index(boundary)]))


def test_every_shipped_playbook_has_a_crash_seed():
    """A playbook the sweep cannot seed is never crashed at: that is a failure, not a skip."""
    assert UNSEEDED == [], f"no seeding function for {UNSEEDED}: add one to tests.support.reliability.seeds.SEEDS"


def test_every_aws_call_is_a_boundary_in_member_account_clients_too(world):
    """The hook is on every client a factory makes, an assumed-role one included, labelled
    service.Operation; a crash there stops the call, a killed run makes no call after, and
    outside the block the same clients cross nothing."""
    from parry.aws.clients import ClientFactory

    b = Boundaries(crash_on="before iam.ListUsers")
    with boundaries(b, kill=True):
        member = ClientFactory(region="us-east-1").assume("arn:aws:iam::123456789012:role/parry-member-x")
        iam = member.client("iam")
        iam.list_roles()
        with pytest.raises(InjectedCrash):
            iam.list_users()
        with pytest.raises(InjectedCrash, match="killed"):
            iam.list_roles()

    assert b.seen == [
        "before sts.AssumeRole",
        "after sts.AssumeRole",
        "before iam.ListRoles",
        "after iam.ListRoles",
        "before iam.ListUsers",
    ]
    iam.list_users()
    assert len(b.seen) == 5


def test_a_change_made_just_before_a_crash_is_still_undoable(world):
    """Applied, then the invocation died before the checkpoint: the redelivery finds the change
    already made (a no-op), but `parry undo` must still undo it, since this case made it."""
    from parry.engine.undo import undo

    book = load_playbook(PLAYBOOKS_DIR / f"{PRIMARY}.yaml")
    seeded = SEEDS[book.name](world.admin, world.next())
    engine = world.engine()
    with pytest.raises(InjectedCrash), boundaries(Boundaries(crash_on="after iam.UpdateAccessKey [deactivate-key]")):
        engine.run(book, seeded.event)
    case = engine.run(book, seeded.event)
    assert case.status == "SUCCEEDED" and seeded.contained()
    step = next(s for s in case.steps if s.step_id == "deactivate-key")

    undone = undo(engine, case.case_id, who="oncall", reason="false positive")

    report(
        scenario="undo-after-crash",
        step_status=step.status,
        case_status=undone.status,
        contained_after_undo=seeded.contained(),
    )
    assert step.status == "succeeded" and step.undo and step.before["status"] == "Active"
    assert undone.status == "UNDONE" and not seeded.contained()


def test_a_capture_interrupted_before_its_checkpoint_still_counts_as_captured(world):
    from parry.playbooks.validate import validate_document

    book = validate_document(
        {
            "name": "capture-then-delete",
            "trigger": {"source": ["aws.guardduty"]},
            "dedup": "detail.id",
            "target": {
                "user": "detail.resource.accessKeyDetails.userName",
                "key": "detail.resource.accessKeyDetails.accessKeyId",
            },
            "steps": [
                {"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}},
                {
                    "id": "delete",
                    "action": "iam.delete_access_key",
                    "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
                },
            ],
        },
        "capture-then-delete.yaml",
    )
    b = Boundaries()
    with boundaries(b):
        world.engine().run(book, SEEDS[PRIMARY](world.admin, world.next()).event)
    seeded = SEEDS[PRIMARY](world.admin, world.next())
    engine = world.engine()
    captured = max(i for i, label in enumerate(b.seen) if label.endswith(" [capture]"))  # its last write
    with pytest.raises(InjectedCrash), boundaries(Boundaries(crash_at=captured)):
        engine.run(book, seeded.event)

    case = engine.run(book, seeded.event)

    assert case.status == "SUCCEEDED", [(s.step_id, s.status, s.error) for s in case.steps]

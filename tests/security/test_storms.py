"""Storms: junk never counts toward a rate limit, a flood in one account never holds another
account's finding, and a cap across every playbook bounds them all together."""

from __future__ import annotations

import copy

import pytest

from parry.config import Settings
from parry.engine.run import Engine
from parry.store import model as cs
from tests.support.control import Context, fresh_runner
from tests.support.events import in_account
from tests.support.findings import registered
from tests.support.members import key_status
from tests.support.playbooks import playbook

BOOK = "iam-credential-compromise"  # shipped with max_cases_per_hour: 20
OTHER_ACCOUNT = "210987654321"


def finding(compromised_user, n: int, *, account: str = "123456789012") -> dict:
    """The finding again, as GuardDuty's `n`th one (its own id), in `account`."""
    event = copy.deepcopy(compromised_user["event"])
    finding_id = f"{n:032x}"
    event["id"] = f"delivery-{n}"
    event["account"] = event["detail"]["accountId"] = account
    event["detail"]["id"] = finding_id
    event["detail"]["arn"] = (
        in_account(event["detail"]["arn"].rsplit("/", 1)[0], account, "us-east-1") + "/" + finding_id
    )
    return event


def test_twenty_junk_requests_leave_a_real_finding_contained(monkeypatch, tmp_path, aws, parry_env, compromised_user):
    runner = fresh_runner(monkeypatch, tmp_path, BOOK)
    for n in range(10):  # findings GuardDuty never produced: refused at the re-read
        invented = finding(compromised_user, n + 1)
        assert runner.handler(invented, Context())["status"] == "REFUSED"
    for n in range(11):  # run requests anyone with events:PutEvents could put: refused, never sealed
        forged = {**copy.deepcopy(compromised_user["event"]), "source": "parry", "id": f"forged-{n}"}
        assert runner.handler(forged, Context())["status"] == "REFUSED"

    result = runner.handler(compromised_user["event"], Context())

    assert result["status"] == cs.SUCCEEDED
    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Inactive"


def test_a_flood_in_another_account_does_not_hold_this_account_s_finding(engine, aws, compromised_user):
    book = playbook(guardrails={"max_cases_per_hour": 2})
    for n in range(3):  # the other account's cases open and count (its member role is not set up here)
        engine.run(book, registered(aws, finding(compromised_user, n + 1, account=OTHER_ACCOUNT)))

    case = engine.run(book, compromised_user["event"])

    assert case.status == cs.SUCCEEDED
    assert key_status(aws.client("iam"), "ci-deployer", compromised_user["key"]) == "Inactive"
    held = engine.run(book, registered(aws, finding(compromised_user, 9, account=OTHER_ACCOUNT)))
    assert held.status == cs.AWAITING_APPROVAL and f"in account {OTHER_ACCOUNT}" in held.awaiting["reason"]


def test_the_cap_across_playbooks_holds_the_next_case_of_any_playbook(aws, parry_env, compromised_user):
    engine = Engine(aws, Settings.from_env(max_cases_per_hour=2))
    iam = aws.client("iam")
    for n, name in enumerate(["book-a", "book-b"]):
        engine.run(playbook(name=name), registered(aws, finding(compromised_user, n + 1)))
    key = iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    third = finding(compromised_user, 3)
    third["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = key

    held = engine.run(playbook(name="book-c"), registered(aws, third))

    assert held.status == cs.AWAITING_APPROVAL and "all playbooks" in held.awaiting["reason"]
    assert key_status(iam, "ci-deployer", key) == "Active"


def test_the_cap_comes_from_the_environment_with_a_default():
    assert Settings.from_env({}).max_cases_per_hour == 100
    assert Settings.from_env({"PARRY_MAX_CASES_PER_HOUR": "7"}).max_cases_per_hour == 7


@pytest.fixture
def engine(aws, parry_env):
    return Engine(aws, Settings.from_env())


# ---- GuardDuty sample findings -----------------------------------------------------------------------


def test_sample_findings_route_nowhere_and_the_same_finding_unmarked_routes():
    """Anyone in an account with GuardDuty can make sample findings (CreateSampleFindings) by the dozen."""
    from tests.support.routing import load, routes

    for fixture in SAMPLES:
        assert routes(load(fixture, sample=True)) == set(), fixture
    assert all(routes(load(fixture)) for fixture in SAMPLES)


def test_sample_exclusion_agrees_with_eventbridge_on_a_missing_field_and_on_false():
    """Parry's matcher (and so `parry route` and the runner's own check) decides as EventBridge does:
    `exists: false` matches a finding without the field, and `false` one that says so."""
    from parry.routing.patterns import compile_pattern

    pattern = compile_pattern(
        {"detail": {"service": {"additionalInfo": {"$or": [{"sample": [{"exists": False}]}, {"sample": [False]}]}}}}
    )
    assert pattern.matches({"detail": {"service": {"additionalInfo": {"value": "{}"}}}})
    assert pattern.matches({"detail": {"service": {}}}) and pattern.matches({"detail": {}})
    assert pattern.matches({"detail": {"service": {"additionalInfo": {"sample": False}}}})
    assert not pattern.matches({"detail": {"service": {"additionalInfo": {"sample": True}}}})


CAPTURES = ("evidence", "notify")
SAMPLES = (
    "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json",
    "guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json",
    "guardduty/unauthorizedaccess-iamuser-toripcaller.eventbridge.json",
    "guardduty/recon-iamuser-maliciousipcaller.custom.mit0.bare.json",
)


def test_the_deployed_cap_and_reservation_come_from_context_and_are_checked():
    from aws_cdk import App

    from stacks.config import ConfigError, ParryConfig

    config = ParryConfig.from_context(App(context={"parry:maxCasesPerHour": 40, "parry:runnerReservedConcurrency": 0}))
    assert (config.max_cases_per_hour, config.runner_reserved_concurrency) == (40, 0)
    defaults = ParryConfig.from_context(App())
    assert (defaults.max_cases_per_hour, defaults.runner_reserved_concurrency) == (100, 5)
    with pytest.raises(ConfigError, match="parry:maxCasesPerHour"):
        ParryConfig.from_context(App(context={"parry:maxCasesPerHour": 0}))


def test_a_manual_quarantine_is_limited_and_each_change_waits_for_a_second_person():
    from parry.actions import registry
    from tests.support.routing import BOOKS

    book = BOOKS["manual-quarantine"]
    assert book.max_cases_per_hour and book.separate_approver is not False
    # every containment change; captures (snapshots included) and the notice only record
    changes = [s for s in book.steps if registry.get(s.action).mutating and s.action.split(".")[0] not in CAPTURES]
    assert changes and all(s.approval for s in changes), [s.id for s in changes if not s.approval]

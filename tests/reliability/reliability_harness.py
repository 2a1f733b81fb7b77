"""Reliability scenarios on moto, shared by tests/reliability and bench/reliability.py.

Everything here runs in-process against moto: an engine whose ClientFactory counts every call
its clients make (mutating calls on resources, notifications, HTTP attempts), can inject
throttling at the HTTP layer (botocore's own adaptive retry handles it), and can be made to
crash at any step boundary. Each scenario returns a `Figures` dict that the tests assert on and
the benchmark prints.

No pytest import here: the benchmark imports this module directly.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import re
import threading
import time
import types
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from unittest import mock

from parry.aws import DEFAULT_MAX_ATTEMPTS, ClientFactory

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS_DIR = ROOT / "playbooks"
EVENTS_DIR = ROOT / "tests" / "events"
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}

Figures = dict[str, Any]


def report(**figures: Any) -> str:
    """The one line each test prints: `RELIABILITY key=value ...` (run pytest with -s to see it)."""
    line = "RELIABILITY " + " ".join(f"{k}={v}" for k, v in figures.items() if not isinstance(v, (list, dict)) or v)
    print(line)
    return line

# ---- counting calls ------------------------------------------------------------------------------

READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Search", "Query", "Scan", "BatchGet", "Select",
                 "Test", "Simulate", "Check", "Estimate", "Validate", "Verify")
# Parry's own bookkeeping, not an effect on the account being protected.
BOOKKEEPING_SERVICES = ("dynamodb", "sts")
BOOKKEEPING_OPS = {("kms", "Sign"), ("kms", "GetPublicKey"), ("ssm", "GetParameter")}
NOTIFY_OPS = {("sns", "Publish")}


def is_mutating(service: str, op: str) -> bool:
    return not op.startswith(READ_PREFIXES)


class Probe:
    """Records every API call made by instrumented clients, classified.

    `mutations` are calls that change a resource of the protected account (Parry's case table,
    evidence bucket and signing key excluded); `notifications` are SNS publishes.
    """

    def __init__(self, evidence_bucket: str | None = None):
        self.evidence_bucket = evidence_bucket
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.mutations: list[tuple[str, str, str]] = []
        self.notifications: list[str] = []
        self.max_retry_attempts = 0
        self.failed_calls: list[str] = []

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.mutations.clear()
            self.notifications.clear()
            self.failed_calls.clear()
            self.max_retry_attempts = 0

    def on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service, op = model.service_model.endpoint_prefix, model.name
        with self.lock:
            self.calls.append((service, op))
            if (service, op) in NOTIFY_OPS:
                self.notifications.append(str(params.get("Subject", "")))
                return
            if service in BOOKKEEPING_SERVICES or (service, op) in BOOKKEEPING_OPS or not is_mutating(service, op):
                return
            if service == "s3" and params.get("Bucket") == self.evidence_bucket:
                return
            key = json.dumps({k: v for k, v in params.items() if k not in ("Body",)}, sort_keys=True, default=str)
            self.mutations.append((service, op, key))

    def on_after_call(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        attempts = (parsed or {}).get("ResponseMetadata", {}).get("RetryAttempts", 0)
        with self.lock:
            self.max_retry_attempts = max(self.max_retry_attempts, attempts)

    def on_error(self, exception: Exception, model: Any = None, **_: Any) -> None:
        if exception is not None:
            with self.lock:
                self.failed_calls.append(f"{getattr(model, 'name', '?')}: {type(exception).__name__}")

    def mutation_counts(self) -> Counter:
        with self.lock:
            return Counter(self.mutations)


# ---- throttling at the HTTP layer -----------------------------------------------------------------


def throttling_response(protocol: str, request: Any) -> Any:
    """A 400 ThrottlingException in the wire format of the service's protocol."""
    from botocore.awsrequest import AWSResponse

    request_id = str(uuid.uuid4())
    if protocol in ("query",):
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>ThrottlingException</Code>"
            f"<Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    elif protocol == "ec2":
        body = (
            "<Response><Errors><Error><Code>ThrottlingException</Code><Message>Rate exceeded</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        headers = {"Content-Type": "text/xml"}
    elif protocol == "rest-xml":
        body = f"<Error><Code>ThrottlingException</Code><Message>Rate exceeded</Message><RequestId>{request_id}</RequestId></Error>"
        headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id}
    elif protocol == "json":
        body = json.dumps({"__type": "com.amazonaws.coral#ThrottlingException", "message": "Rate exceeded"})
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
    elif protocol == "rest-json":
        body = json.dumps({"message": "Rate exceeded"})
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "ThrottlingException", "x-amzn-RequestId": request_id}
    else:
        return None
    raw = types.SimpleNamespace(stream=lambda **_: iter([body.encode()]))
    return AWSResponse(request.url, 400, headers, raw)


class Throttle:
    """Answers a seeded fraction of HTTP attempts with ThrottlingException before they reach moto."""

    def __init__(self, rate: float, seed: int = 0):
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.attempts = 0
        self.injected = 0

    def before_send(self, request: Any, protocol: str, **_: Any) -> Any:
        with self.lock:
            self.attempts += 1
            hit = self.rng.random() < self.rate
            if hit:
                self.injected += 1
        return throttling_response(protocol, request) if hit else None


class VirtualTime:
    """botocore's retry back-off and adaptive rate limiter sleep on a virtual clock.

    The retry decisions (attempt budget, retry quota, client-side rate) are botocore's own; only
    the waiting is skipped, and `slept` says how long a real run would have waited.
    """

    def __init__(self) -> None:
        self.offset = 0.0
        self.lock = threading.Lock()

    @property
    def slept(self) -> float:
        return self.offset

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.offset += max(0.0, float(seconds or 0.0))

    def now(self) -> float:
        return time.time() + self.offset

    @contextlib.contextmanager
    def active(self) -> Iterator["VirtualTime"]:
        import botocore.endpoint
        import botocore.retries.bucket as bucket

        vt = self

        class _Time:
            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            @staticmethod
            def sleep(seconds: float) -> None:
                vt.sleep(seconds)

        class _Condition(threading.Condition):
            def wait(self, timeout: float | None = None) -> bool:
                vt.sleep(timeout or 0.0)
                return True

        class _Threading:
            Condition = _Condition

            def __getattr__(self, name: str) -> Any:
                return getattr(threading, name)

        with mock.patch.object(botocore.endpoint, "time", _Time()), \
                mock.patch.object(bucket, "threading", _Threading()), \
                mock.patch.object(bucket.Clock, "sleep", lambda _self, amount: vt.sleep(amount)), \
                mock.patch.object(bucket.Clock, "current_time", lambda _self: vt.now()):
            yield self


class ProbedFactory(ClientFactory):
    """A ClientFactory whose clients report to a Probe and may be throttled."""

    def __init__(self, *, probe: Probe | None = None, throttle: Throttle | None = None,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, region: str = REGION):
        super().__init__(region=region, max_attempts=max_attempts)
        self.probe = probe
        self.throttle = throttle
        self._seen: set[int] = set()
        self._probe_lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        client = super().client(service, region)
        with self._probe_lock:
            if id(client) not in self._seen:
                self._seen.add(id(client))
                events = client.meta.events
                if self.probe is not None:
                    events.register("before-parameter-build.*.*", self.probe.on_params)
                    events.register("after-call.*.*", self.probe.on_after_call)
                    events.register("after-call-error.*.*", self.probe.on_error)
                if self.throttle is not None:
                    protocol = client.meta.service_model.protocol
                    handler = lambda request, _p=protocol, **kw: self.throttle.before_send(request, _p, **kw)  # noqa: E731
                    events.register_first("before-send", handler, unique_id=f"parry-throttle-{id(client)}")
        return client


# ---- a moto world --------------------------------------------------------------------------------


@dataclass
class World:
    admin: ClientFactory  # un-instrumented: seeding and reading back
    env: dict[str, str]
    counter: list[int] = field(default_factory=lambda: [0])
    hours: list[int] = field(default_factory=lambda: [0])

    def hour_clock(self) -> Callable[[], float]:
        """A clock in an hour of its own: scenarios never share a max_cases_per_hour window."""
        self.hours[0] += 2
        offset = self.hours[0] * 3600.0
        return lambda: time.time() + offset

    @property
    def settings(self) -> Any:
        from parry.engine import Settings

        return Settings.from_env(self.env)

    @property
    def bucket(self) -> str:
        return self.env["PARRY_EVIDENCE_BUCKET"]

    def probe(self) -> Probe:
        return Probe(self.bucket)

    def engine(self, *, probe: Probe | None = None, throttle: Throttle | None = None, clock: Callable[[], float] | None = None,
               max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Any:
        from parry.engine import Engine

        aws = ProbedFactory(probe=probe, throttle=throttle, max_attempts=max_attempts)
        return Engine(aws, self.settings, clock=clock or self.hour_clock())

    def next(self) -> int:
        self.counter[0] += 1
        return self.counter[0]

    def cases_for(self, playbook: str, dedup: str | None = None) -> list[dict[str, Any]]:
        """Case items of `playbook` (with that dedup value): how many cases a delivery opened."""
        ddb = self.admin.client("dynamodb")
        condition = "kind = :k AND playbook = :p" + (" AND dedup = :d" if dedup is not None else "")
        values = {":k": {"S": "case"}, ":p": {"S": playbook}}
        if dedup is not None:
            values[":d"] = {"S": dedup}
        items = []
        for page in ddb.get_paginator("scan").paginate(TableName=self.env["PARRY_CASES_TABLE"], FilterExpression=condition,
                                                       ProjectionExpression="pk", ExpressionAttributeValues=values):
            items.extend(page["Items"])
        return items

    def evidence_keys(self, prefix: str) -> list[str]:
        s3 = self.admin.client("s3")
        keys: list[str] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(o["Key"][len(prefix):] for o in page.get("Contents", []))
        return keys


@contextlib.contextmanager
def moto_world() -> Iterator[World]:
    """In-process moto with Parry's resources provisioned. Needs fake credentials in the environment."""
    from moto import mock_aws

    from parry.local import provision, security_hub_findings_like_aws

    security_hub_findings_like_aws()
    with mock_aws():
        admin = ClientFactory(region=REGION)
        env = provision(admin)
        yield World(admin, env)


@contextlib.contextmanager
def fake_credentials() -> Iterator[None]:
    with mock.patch.dict("os.environ", FAKE_ENV):
        yield


# ---- playbooks and their seeds ----------------------------------------------------------------------


def load_event(relpath: str) -> dict[str, Any]:
    from parry.events import wrap

    event, _ = wrap(json.loads((EVENTS_DIR / relpath).read_text()))
    return copy.deepcopy(event)


def fixture_events() -> list[tuple[str, dict[str, Any]]]:
    """Every fixture event under tests/events, wrapped in its EventBridge envelope."""
    out = []
    for path in sorted(EVENTS_DIR.rglob("*.json")):
        try:
            out.append((str(path.relative_to(EVENTS_DIR)), load_event(str(path.relative_to(EVENTS_DIR)))))
        except Exception:  # a fixture that is not an event (e.g. an expected-output file)
            continue
    return out


def playbook_paths() -> list[Path]:
    return sorted(p for p in PLAYBOOKS_DIR.iterdir() if p.suffix in (".yaml", ".yml"))


def load_playbook(path: Path) -> Any:
    from parry.validation import load_file

    return load_file(path)


@dataclass
class Seeded:
    """Resources a playbook acts on, the event that points at them, and a read-back of containment."""

    event: dict[str, Any]
    contained: Callable[[], bool]
    restore: Callable[[], None] | None = None  # undo the containment behind Parry's back


IAM_FINDING = "guardduty/unauthorizedaccess-iamuser-instancecredentialexfiltration-outsideaws.bare.json"


def seed_iam_key(aws: ClientFactory, n: int) -> Seeded:
    """An IAM user with an active key, and the real GuardDuty finding retargeted at it."""
    iam = aws.client("iam")
    user = f"rel-user-{n}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    event = load_event(IAM_FINDING)
    event["account"] = event["detail"]["accountId"] = ACCOUNT
    event["region"] = event["detail"]["region"] = REGION
    event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"parry-reliability-{n}"))
    event["detail"]["id"] = f"rel-finding-{n}"
    event["detail"]["arn"] = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/rel-detector/finding/rel-finding-{n}"
    event["detail"]["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
    in_security_hub(aws, event)

    def status() -> str:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        return next(k["Status"] for k in keys if k["AccessKeyId"] == key)

    return Seeded(event, lambda: status() == "Inactive",
                  lambda: iam.update_access_key(UserName=user, AccessKeyId=key, Status="Active"))


def load_record(relpath: str, **changes: Any) -> dict[str, Any]:
    """A bare fixture payload (e.g. a CloudTrail record), changed, then wrapped as EventBridge would."""
    from parry.events import wrap

    payload = json.loads((EVENTS_DIR / relpath).read_text())
    for dotted, value in changes.items():
        parent = payload
        parts = dotted.split("__")
        for part in parts[:-1]:
            parent = parent.setdefault(part, {})
        if value is _DELETE:
            parent.pop(parts[-1], None)
        else:
            parent[parts[-1]] = value
    event, _ = wrap(payload)
    return event


_DELETE = object()


def contained_by(aws: ClientFactory, book_name: str, event: dict[str, Any]) -> Callable[[], bool]:
    """Containment read back generically: every mutating step the playbook would run observes `done`.

    Evidence and the note on the Security Hub finding are records of the case, not containment.
    """

    def check() -> bool:
        from parry.actions import registry
        from parry.actions.registry import ActionContext
        from parry.engine import Engine
        from parry.expressions import interpolate, search, truthy

        book = load_playbook(next(p for p in playbook_paths() if load_playbook(p).name == book_name))
        target, _ = Engine.resolve(book, event)
        variables = {"event": event, "target": target, "case": {}, "steps": {}}
        for step in book.steps:
            cls = registry.get(step.action)
            if not cls.mutating or step.action.startswith(("evidence.", "securityhub.")) or (step.when and not truthy(search(step.when, variables))):
                continue
            params = registry.build_params(cls, interpolate(step.with_, variables))
            ctx = ActionContext(aws=aws, case_id="check", step_id=step.id, playbook=book.name, account=ACCOUNT, region=REGION)
            if not cls().observe(ctx, params).done:
                return False
        return True

    return check


def _role(aws: ClientFactory, name: str, service: str = "lambda.amazonaws.com") -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return aws.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _function(aws: ClientFactory, name: str, role_arn: str) -> str:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return aws.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role_arn, Handler="index.handler", Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]


_IMAGES: dict[int, str] = {}


def _instance(aws: ClientFactory, profile_arn: str | None = None) -> str:
    """An instance in a VPC of its own (isolation creates one security group per VPC, once)."""
    ec2 = aws.client("ec2")
    if id(aws) not in _IMAGES:
        _IMAGES[id(aws)] = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    kwargs: dict[str, Any] = {"ImageId": _IMAGES[id(aws)], "MinCount": 1, "MaxCount": 1, "InstanceType": "t3.micro",
                              "SubnetId": subnet}
    if profile_arn:
        kwargs["IamInstanceProfile"] = {"Arn": profile_arn}
    return ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]


def _guardduty(relpath: str, n: int) -> dict[str, Any]:
    event = load_event(relpath)
    event["account"] = event["detail"]["accountId"] = ACCOUNT
    event["region"] = event["detail"]["region"] = REGION
    event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"parry-reliability-{n}"))
    event["detail"]["id"] = f"rel-finding-{n}"
    event["detail"]["arn"] = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/rel-detector/finding/rel-finding-{n}"
    return event


def in_security_hub(aws: ClientFactory, event: dict[str, Any]) -> None:
    """The GuardDuty finding as Security Hub holds it, for the playbooks' mark-finding step."""
    from parry.local import guardduty_finding_in_security_hub

    guardduty_finding_in_security_hub(aws, event)


def seed_ec2(aws: ClientFactory, n: int) -> Seeded:
    role = _role(aws, f"rel-ec2-role-{n}", "ec2.amazonaws.com")
    iam = aws.client("iam")
    profile = iam.create_instance_profile(InstanceProfileName=f"rel-profile-{n}")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"rel-profile-{n}", RoleName=role.split("/")[-1])
    instance = _instance(aws, profile)
    event = _guardduty("guardduty/backdoor-ec2-cc-activity-b-dns.eventbridge.json", n)
    details = event["detail"]["resource"]["instanceDetails"]
    details["instanceId"] = instance
    details["iamInstanceProfile"] = {"arn": profile, "id": f"rel-profile-{n}"}
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "ec2-compromise", event))


def seed_instance_credentials(aws: ClientFactory, n: int) -> Seeded:
    role = f"rel-instance-role-{n}"
    _role(aws, role, "ec2.amazonaws.com")
    event = _guardduty(IAM_FINDING, n)
    event["detail"]["resource"]["accessKeyDetails"].update(userName=role, userType="AssumedRole", accessKeyId=f"ASIAREL{n:09d}")
    event["detail"]["resource"].setdefault("instanceDetails", {})["instanceId"] = _instance(aws)
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "instance-credential-exfiltration", event))


def seed_lambda_compromise(aws: ClientFactory, n: int) -> Seeded:
    role = _role(aws, f"rel-fn-role-{n}")
    arn = _function(aws, f"rel-fn-{n}", role)
    event = _guardduty(IAM_FINDING, n)
    event["detail"]["type"] = "Execution:Lambda/MaliciousFile"
    event["detail"]["resource"] = {"resourceType": "Lambda",
                                   "lambdaDetails": {"functionName": f"rel-fn-{n}", "functionArn": arn, "role": role}}
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "lambda-compromise", event))


def seed_lambda_public(aws: ClientFactory, n: int) -> Seeded:
    name = f"rel-public-fn-{n}"
    _function(aws, name, _role(aws, f"rel-public-role-{n}"))
    aws.client("lambda").add_permission(FunctionName=name, StatementId="everyone", Action="lambda:InvokeFunction", Principal="*")
    event = load_record("cloudtrail/lambda-addpermission.bare.json", awsRegion=REGION, recipientAccountId=ACCOUNT,
                        eventID=f"rel-{n}", requestParameters__functionName=name, requestParameters__statementId="everyone",
                        requestParameters__principal="*", requestParameters__action="lambda:InvokeFunction")
    return Seeded(event, contained_by(aws, "lambda-made-public", event))


def seed_s3_exposure(aws: ClientFactory, n: int) -> Seeded:
    bucket = f"rel-exposed-{n}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    event = load_record("cloudtrail/s3-putbucketpolicy-public.bare.json", awsRegion=REGION, recipientAccountId=ACCOUNT,
                        eventID=f"rel-{n}", requestParameters__bucketName=bucket)
    return Seeded(event, contained_by(aws, "s3-exposure", event))


def seed_trail_stopped(aws: ClientFactory, n: int) -> Seeded:
    bucket, trail = f"rel-trail-logs-{n}", f"rel-trail-{n}"
    aws.client("s3").create_bucket(Bucket=bucket)
    ct = aws.client("cloudtrail")
    ct.create_trail(Name=trail, S3BucketName=bucket)
    ct.start_logging(Name=trail)
    ct.stop_logging(Name=trail)
    event = load_record("cloudtrail/iam-createaccesskey.bare.json", awsRegion=REGION, recipientAccountId=ACCOUNT,
                        eventID=f"rel-{n}", eventSource="cloudtrail.amazonaws.com", eventName="StopLogging",
                        requestParameters={"name": trail}, responseElements=None, errorCode=_DELETE)
    return Seeded(event, contained_by(aws, "cloudtrail-logging-disabled", event))


def seed_root_login(aws: ClientFactory, n: int) -> Seeded:
    event = load_record("cloudtrail/signin-consolelogin-root.bare.json", awsRegion=REGION, recipientAccountId=ACCOUNT,
                        eventID=f"rel-{n}")
    return Seeded(event, lambda: True)  # nothing to contain by API: evidence and a notification


def seed_manual_quarantine(aws: ClientFactory, n: int) -> Seeded:
    user, role = f"rel-manual-user-{n}", f"rel-manual-role-{n}"
    aws.client("iam").create_user(UserName=user)
    _role(aws, role)
    event = {"version": "0", "id": f"rel-manual-{n}", "source": "parry", "detail-type": "Parry Run Request",
             "account": ACCOUNT, "region": REGION, "time": "2026-11-29T18:00:00Z", "resources": [],
             "detail": {"playbook": "manual-quarantine", "user": user, "role": role, "reason": "reliability test"}}
    return Seeded(event, contained_by(aws, "manual-quarantine", event))


# Playbook name -> seed. A playbook without a seed is skipped by the tests with its name.
SEEDS: dict[str, Callable[[ClientFactory, int], Seeded]] = {
    "iam-credential-compromise": seed_iam_key,
    "ec2-compromise": seed_ec2,
    "instance-credential-exfiltration": seed_instance_credentials,
    "lambda-compromise": seed_lambda_compromise,
    "lambda-made-public": seed_lambda_public,
    "s3-exposure": seed_s3_exposure,
    "cloudtrail-logging-disabled": seed_trail_stopped,
    "root-credential-usage": seed_root_login,
    "manual-quarantine": seed_manual_quarantine,
}


def seedable_playbooks() -> tuple[list[Path], list[str]]:
    """(playbook files with a seed, names of those without one)."""
    with_seed, without = [], []
    for path in playbook_paths():
        name = load_playbook(path).name
        (with_seed if name in SEEDS else without).append(path if name in SEEDS else name)
    return with_seed, without


# ---- scenario: redeliveries ----------------------------------------------------------------------


def redeliveries(world: World, book: Any, n: int = 1000) -> Figures:
    """One run, the resource restored behind Parry's back, then `n` deliveries of the same event."""
    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    engine = world.engine(probe=probe)
    first = engine.run(book, seeded.event)
    contained_first = seeded.contained()
    first_mutations = len(probe.mutations)
    if seeded.restore:
        seeded.restore()
    probe.reset()
    started = time.perf_counter()
    duplicates = 0
    for _ in range(n):
        again = engine.run(book, seeded.event)
        duplicates += bool(again.duplicate and again.case_id == first.case_id)
    seconds = time.perf_counter() - started
    stored = engine.store.get(first.case_id)
    return {
        "playbook": book.name,
        "redeliveries": n,
        "repeated_mutations": len(probe.mutations),
        "repeated_notifications": len(probe.notifications),
        "first_run_mutations": first_mutations,
        "first_status": first.status,
        "contained_after_first": contained_first,
        "duplicates_answered": duplicates,
        "duplicates_recorded": stored.duplicates,
        "cases": len(world.cases_for(book.name, first.dedup)),
        "ms_per_redelivery": round(1000 * seconds / max(n, 1), 1),
    }


# ---- scenario: crash at every step boundary -----------------------------------------------------


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
    import parry.steps as steps_mod
    from parry.cases import CaseStore
    from parry.evidence import CaseEvidence

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
                ("before apply[", "after apply[", "after CaseStore.save[RUNNING")):
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
    for k in (only if only is not None else range(len(labels))):
        seeded = SEEDS[book.name](world.admin, world.next())
        probe = world.probe()
        now = [world.hour_clock()()]
        engine = world.engine(probe=probe, clock=lambda: now[0])
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


# ---- scenario: throttling -------------------------------------------------------------------------


def throttled_runs(world: World, book: Any, *, runs: int = 20, rate: float = 0.3, seed: int = 6,
                   max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Figures:
    """`runs` fresh cases with `rate` of all HTTP attempts answered ThrottlingException."""
    completed = 0
    statuses: Counter = Counter()
    errors: list[str] = []
    throttle = Throttle(rate, seed)
    probe = world.probe()
    vt = VirtualTime()
    max_retry = 0
    with vt.active():
        for i in range(runs):
            seeded = SEEDS[book.name](world.admin, world.next())
            engine = world.engine(probe=probe, throttle=throttle, max_attempts=max_attempts)
            try:
                case = engine.run(book, seeded.event)
                statuses[case.status] += 1
                ok = case.status == "SUCCEEDED" and seeded.contained()
                if not ok:
                    errors.append(f"run {i}: {case.status}: " + "; ".join(s.error or "" for s in case.steps if s.error))
                completed += ok
            except Exception as exc:  # a run that did not complete: the delivery would be retried
                statuses[type(exc).__name__] += 1
                errors.append(f"run {i}: {type(exc).__name__}: {exc}")
            max_retry = max(max_retry, probe.max_retry_attempts)
    return {
        "playbook": book.name,
        "throttle_rate": rate,
        "max_attempts": max_attempts,
        "runs": runs,
        "completed": completed,
        "http_attempts": throttle.attempts,
        "throttled": throttle.injected,
        "max_retries_of_one_call": max_retry,
        "virtual_backoff_s": round(vt.slept, 1),
        "statuses": dict(statuses),
        "errors": errors[:5],
    }


# ---- scenario: concurrent deliveries ------------------------------------------------------------


def concurrent_deliveries(world: World, book: Any, *, n: int = 8) -> Figures:
    """`n` threads deliver the same event at once, each as its own invocation (own clients)."""
    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    clock = world.hour_clock()  # one clock: leases are compared across the invocations
    engines = [world.engine(probe=probe, clock=clock) for _ in range(n)]
    for engine in engines:  # make the clients before the race, as warm Lambdas would have them
        for service in ("dynamodb", "s3", "iam", "ssm", "sns", "sts"):
            engine.aws.client(service)
    barrier = threading.Barrier(n)
    serial = dynamodb_requests_atomic()
    results: list[Any] = [None] * n

    def deliver(i: int) -> None:
        barrier.wait()
        try:
            results[i] = engines[i].run(book, seeded.event)
        except BaseException as exc:  # noqa: BLE001 - reported in the figures
            results[i] = exc

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(n)]
    with serial:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    from parry.cases import CaseBusy

    busy = [i for i, r in enumerate(results) if isinstance(r, CaseBusy)]
    errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException) and not isinstance(r, CaseBusy)]
    cases = [r for r in results if not isinstance(r, BaseException)]
    # a delivery that found the case held by another run failed with CaseBusy: Lambda retries it
    retried = [engines[i].run(book, seeded.event) for i in busy]
    final = world.engine(probe=probe).store.get(cases[0].case_id) if cases else None
    counts = probe.mutation_counts()
    return {
        "playbook": book.name,
        "deliveries": n,
        "cases": len(world.cases_for(book.name, cases[0].dedup if cases else None)),
        "case_ids": len({c.case_id for c in cases + retried}),
        "ran": sum(1 for c in cases if not c.duplicate),
        "duplicates": sum(1 for c in cases if c.duplicate),
        "busy_then_retried": len(busy),
        "retries_answered_duplicate": sum(1 for c in retried if c.duplicate),
        "mutations": sum(counts.values()),
        "repeated_mutations": sum(v - 1 for v in counts.values() if v > 1),
        "final_status": final.status if final else None,
        "contained": seeded.contained(),
        "errors": errors,
    }


# ---- scenario: the time budget ----------------------------------------------------------------------


def dynamodb_requests_atomic() -> Any:
    """DynamoDB applies each request atomically; in-process moto does not under threads (its
    transact_write_items deep-copies tables another thread is writing). Serialize moto's DynamoDB
    requests, as the service would, so a race tests Parry and not the emulator."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    real = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return real(self)

    return mock.patch.object(DynamoHandler, "call_action", call_action)


class ShrinkingBudget:
    """remaining_seconds() for an invocation that loses `per_call` seconds each time it is asked."""

    def __init__(self, start: float, per_call: float):
        self.left, self.per_call = start, per_call
        self.asked = 0

    def __call__(self) -> float:
        self.asked += 1
        value = self.left
        self.left -= self.per_call
        return value


def time_budget(world: World, book: Any) -> Figures:
    """A run whose deadline approaches stops between steps, checkpointed; resume finishes it."""
    from parry.engine import STEP_BUDGET_SECONDS

    seeded = SEEDS[book.name](world.admin, world.next())
    probe = world.probe()
    engine = world.engine(probe=probe)
    # lease once, then one check per step: allow the first step only
    budget = ShrinkingBudget(STEP_BUDGET_SECONDS + 20.0, 10.0)
    stopped = engine.run(book, seeded.event, remaining_seconds=budget)
    stored = engine.store.get(stopped.case_id)
    item = world.admin.client("dynamodb").get_item(
        TableName=world.env["PARRY_CASES_TABLE"], Key={"pk": {"S": f"CASE#{stopped.case_id}"}, "sk": {"S": "CASE"}},
        ConsistentRead=True)["Item"]
    stopped_figures = {
        "stopped_status": stopped.status,
        "stored_status": stored.status,
        "checkpoint_next_step": stored.next_step,
        "steps_total": len(book.steps),
        "lease_released": "lease_owner" not in item,
        "mutations_before_stop": len(probe.mutations),
    }
    resumes = 0
    case = stored
    while case.status == "RUNNING" and resumes < len(book.steps) + 1:
        resumes += 1
        case = engine.resume(case.case_id, book, remaining_seconds=ShrinkingBudget(STEP_BUDGET_SECONDS + 20.0, 10.0))
    counts = probe.mutation_counts()
    return {
        "playbook": book.name,
        **stopped_figures,
        "resumes": resumes,
        "final_status": case.status,
        "contained": seeded.contained(),
        "mutations": sum(counts.values()),
        "repeated_mutations": sum(v - 1 for v in counts.values() if v > 1),
    }


# ---- scenario: bad input through the handler ------------------------------------------------------


def handler_module(name: str = "parry_runner_handler_reliability") -> Any:
    """A fresh copy of functions/runner/handler.py (its powertools objects are cached per module)."""
    import importlib.util

    path = ROOT / "functions" / "runner" / "handler.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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

    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(max_size=30))
    huge = st.tuples(st.sampled_from(["A", "é", "😀", "\u0000", "\\", "'", '"', "${target.user}", "\u202e", "\ud7ff"]),
                     st.integers(1_000, 300_000)).map(lambda t: t[0] * t[1])
    deep = st.tuples(st.integers(10, 5_000), leaf).map(lambda t: _nest(*t))
    random_json = st.recursive(leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                               max_leaves=10)
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
                parent[path[-1]] = _as_text(old) if not isinstance(old, str) else draw(st.sampled_from([0, 4.5, [old], {"v": old}, None, True]))
        if shape == "manual":
            return {"source": "parry", "detail-type": "Parry Run Request", "id": draw(st.text(max_size=10)),
                    "detail": draw(st.sampled_from([{"event": event}, {"playbook": "x", "event": event}, event, [event]]))}
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

    from parry.cli.common import compile_to
    from parry.errors import ParryError
    from parry.patterns import compile_pattern

    books = playbooks or [load_playbook(p) for p in playbook_paths()]
    patterns = {b.name: compile_pattern(b.trigger) for b in books}
    bases = [e for _, e in fixture_events()]
    for book in books:  # events that point at real resources, so matching mutations run whole playbooks
        if book.name in SEEDS:
            bases.append(SEEDS[book.name](world.admin, world.next()).event)
    outcomes: Counter = Counter()
    unhandled: list[str] = []
    matched = [0]
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(_Discard()), warnings.catch_warnings(), \
            mock.patch.dict(os.environ, {"POWERTOOLS_METRICS_DISABLED": "false", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}):
        for book in books:
            compile_to(book, Path(tmp))
        warnings.simplefilter("ignore")  # powertools' per-invocation warnings, 10,000 times over
        handler = handler_module(f"parry_runner_handler_fuzz_{seed}")
        engine = world.engine()

        @hseed(seed)
        @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(books), event_strategy(bases))
        def one(book: Any, sample: Sample) -> None:
            event = sample.event
            if isinstance(event, dict) and patterns[book.name].matches(event):
                matched[0] += 1
            try:
                case = handler.run(event, None, playbook_name=book.name, playbooks_dir=tmp, engine=engine)
                outcomes[f"ran:{case['status']}"] += 1
            except ParryError as exc:
                outcomes[f"rejected:{type(exc).__name__}"] += 1
            except Exception as exc:  # noqa: BLE001 - the figure this scenario measures
                outcomes[f"UNHANDLED:{type(exc).__name__}"] += 1
                if len(unhandled) < 20:
                    import traceback

                    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in traceback.extract_tb(exc.__traceback__)[-4:][::-1])
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


# ---- scenario: broken playbooks -------------------------------------------------------------------

import yaml  # noqa: E402 - only the broken-playbook scenario needs it

PROBLEM = re.compile(r"^(?P<file>[^:]+\.yaml):(?P<line>\d+): (?P<path>\S+): (?P<message>.+)$")


def _step(doc: Any, rng: random.Random) -> Any:
    return rng.choice(doc["steps"])


def _mutations() -> list[tuple[str, Callable[[Any, random.Random], Any]]]:
    """(kind, function(doc, rng) -> doc or YAML text). Every mutation makes the playbook invalid."""
    def drop(key):
        return lambda d, r: {k: v for k, v in d.items() if k != key}

    def setk(key, value):
        return lambda d, r: {**d, key: value}

    def step_set(key, value):
        def f(d, r):
            _step(d, r)[key] = value
            return d
        return f

    def step_drop(key):
        def f(d, r):
            _step(d, r).pop(key, None)
            return d
        return f

    def unknown_param(d, r):
        s = _step(d, r)
        s["with"] = {**(s.get("with") or {}), "no_such_parameter": "x"}
        return d

    def wrong_param_type(d, r):
        for s in d["steps"]:
            for name, value in (s.get("with") or {}).items():
                if isinstance(value, str):
                    s["with"][name] = {"not": ["a", "string"]}
                    return d
        d["steps"][0]["with"] = {"bogus": 1}
        return d

    def duplicate_id(d, r):
        d["steps"].append(dict(d["steps"][0]))
        return d

    def undeclared_target(d, r):
        s = _step(d, r)
        s["with"] = {**(s.get("with") or {}), next(iter(s.get("with") or {"x": 1})): "${target.nowhere}"}
        return d

    def approval_on_reader(d, r):
        d["steps"].insert(0, {"id": "look-first", "action": "evidence.capture_iam_user", "approval": "required",
                              "with": {"user_name": "someone"}})
        return d

    def undo_without_undo(d, r):
        d["steps"].append({"id": "tell-again", "action": "notify.sns", "undo": True, "with": {"subject": "x"}})
        return d

    def yaml_syntax(d, r):
        text = yaml.safe_dump(d, sort_keys=False)
        lines = text.splitlines()
        i = r.randrange(1, len(lines))
        lines[i] = lines[i] + " : ]["
        return "\n".join(lines)

    def tab_indent(d, r):
        text = yaml.safe_dump(d, sort_keys=False)
        return text.replace("\n  ", "\n\t", 1)

    return [
        ("missing name", drop("name")),
        ("missing trigger", drop("trigger")),
        ("missing steps", drop("steps")),
        ("unknown field", setk("triggers", {"source": ["aws.guardduty"]})),
        ("bad name", setk("name", "Not A Valid Name!")),
        ("empty steps", setk("steps", [])),
        ("steps not a list", setk("steps", "deactivate everything")),
        ("bad mode", setk("mode", "yolo")),
        ("bad dedup expression", setk("dedup", "detail.[[id")),
        ("bad target expression", lambda d, r: {**d, "target": {**(d.get("target") or {}), "x": "a..b"}}),
        ("target not a string", lambda d, r: {**d, "target": {**(d.get("target") or {}), "x": 5}}),
        ("invalid trigger pattern", setk("trigger", {"source": "aws.guardduty"})),
        ("invalid numeric pattern", setk("trigger", {"detail": {"severity": [{"numeric": ["<<", "x"]}]}})),
        ("empty trigger", setk("trigger", {})),
        ("guardrail zero", setk("guardrails", {"max_cases_per_hour": 0})),
        ("guardrail unknown", setk("guardrails", {"max_cases_per_day": 3})),
        ("approval ttl too long", setk("guardrails", {"approval_ttl_hours": 100000})),
        ("unknown action", step_set("action", "iam.deactivate_acess_key")),
        ("step missing id", step_drop("id")),
        ("step missing action", step_drop("action")),
        ("bad step id", step_set("id", "Bad Id")),
        ("bad on_error", step_set("on_error", "ignore")),
        ("bad approval", step_set("approval", "maybe")),
        ("bad when", step_set("when", "target.[")),
        ("unknown step field", step_set("retry", 3)),
        ("unknown parameter", unknown_param),
        ("wrong parameter type", wrong_param_type),
        ("duplicate step id", duplicate_id),
        ("undeclared target", undeclared_target),
        ("approval on a read-only step", approval_on_reader),
        ("undo on an action without one", undo_without_undo),
        ("not a mapping", lambda d, r: [d]),
        ("YAML syntax error", yaml_syntax),
        ("tab indentation", tab_indent),
    ]


def broken_playbooks(n: int = 100, seed: int = 6) -> Iterator[tuple[str, str, str]]:
    rng = random.Random(seed)
    sources = playbook_paths()
    kinds = _mutations()
    for i in range(n):
        path = sources[i % len(sources)]
        kind, mutate = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        doc = yaml.safe_load(path.read_text())
        out = mutate(doc, rng)
        text = out if isinstance(out, str) else yaml.safe_dump(out, sort_keys=False)
        yield f"broken-{i:03d}-{path.stem}.yaml", kind, text



def broken_playbook_figures(n: int = 100) -> Figures:
    """Each broken playbook must fail validation with problems of the form FILE:LINE: path: message."""
    from parry.errors import ValidationError
    from parry.validation import load_yaml, validate_document

    named, kinds, other = 0, set(), []
    for filename, kind, text in broken_playbooks(n):
        try:
            located = load_yaml(text, filename)
            validate_document(located.doc, filename, located)
        except ValidationError as exc:
            bad = [p for p in exc.problems if not (PROBLEM.match(p) and PROBLEM.match(p)["file"] == filename
                                                   and 1 <= int(PROBLEM.match(p)["line"]) <= text.count("\n") + 1)]
            if exc.problems and not bad:
                named += 1
                kinds.add(kind)
            else:
                other.append(f"{kind} ({filename}): malformed problem lines {bad or '(none)'}")
            continue
        except Exception as exc:  # noqa: BLE001 - the figure this scenario measures
            other.append(f"{kind} ({filename}): {type(exc).__name__}: {exc}")
            continue
        other.append(f"{kind} ({filename}): accepted")
    return {"broken_playbooks": n, "named_validation_errors": named, "other_outcomes": len(other), "kinds": len(kinds),
            "other": other}

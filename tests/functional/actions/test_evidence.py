"""Evidence capture actions on moto: what is stored, that a second run is a no-op, missing resources."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading

import pytest
from botocore.stub import ANY, Stubber

from parry.actions.evidence_compute import download
from parry.errors import ActionError
from tests.support.actions import PROTECTED, assert_missing, assert_refused, lambda_zip, launch, run

SECRET = "hunter2-do-not-store"


def stored(ctx, result) -> dict:
    return json.loads(ctx.evidence.store.get(result.output["artifact"]["key"]))


def assert_capture(ctx, name: str, **params):
    first = run(ctx, name, **params)
    assert first.status == "succeeded", first.error
    assert run(ctx, name, **params).status == "noop"
    return first


# ---- IAM role ------------------------------------------------------------------------------------


def test_capture_iam_role(ctx, aws):
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "team", "Value": "a"}])
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="web", PolicyName="s3", PolicyDocument=json.dumps(doc))
    iam.create_instance_profile(InstanceProfileName="web-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web")
    first = assert_capture(ctx, "evidence.capture_iam_role", role_name="web")
    body = stored(ctx, first)
    assert body["inline_policies"] == {"s3": doc}
    assert body["role"]["AssumeRolePolicyDocument"] == trust
    assert body["instance_profiles"][0].endswith(":instance-profile/web-profile")
    assert body["tags"] == {"team": "a"}
    assert_missing(ctx, "evidence.capture_iam_role", "IAM role ghost does not exist", role_name="ghost")


def test_capture_iam_user_outputs_the_captured_key_ids(ctx, aws):
    iam = aws.client("iam")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    first = assert_capture(ctx, "evidence.capture_iam_user", user_name="alice")
    assert first.output["user_name"] == "alice" and first.output["access_key_ids"] == [key]
    assert stored(ctx, first)["access_keys"][0]["AccessKeyId"] == key


# ---- S3 ------------------------------------------------------------------------------------------


def test_capture_bucket(ctx, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="site")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
        ],
    }
    s3.put_bucket_policy(Bucket="site", Policy=json.dumps(policy))
    first = assert_capture(ctx, "evidence.capture_bucket", bucket="site")
    body = stored(ctx, first)
    assert body["policy"] == policy and body["public_access_block"] is None
    assert body["acl"]["Grants"]

    s3.create_bucket(Bucket="bare")
    ctx.step_id = "other"
    bare = stored(ctx, run(ctx, "evidence.capture_bucket", bucket="bare"))
    assert bare["policy"] is None
    assert_missing(ctx, "evidence.capture_bucket", "S3 bucket ghost-bucket does not exist", bucket="ghost-bucket")


# ---- Lambda --------------------------------------------------------------------------------------


@pytest.fixture
def function(aws):
    role = aws.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = aws.client("lambda")
    package = lambda_zip()
    lam.create_function(
        FunctionName="worker",
        Runtime="python3.11",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": package},
        Environment={"Variables": {"DB_PASSWORD": SECRET, "STAGE": "prod"}},
    )
    lam.add_permission(FunctionName="worker", StatementId="public", Action="lambda:InvokeFunction", Principal="*")
    return package


def test_capture_lambda_stores_names_not_values_and_the_code(ctx, aws, function):
    fetched = []

    def fake_download(url, *, timeout, max_bytes):
        fetched.append((url, timeout, max_bytes))
        return function

    ctx.downloader = fake_download
    first = assert_capture(ctx, "evidence.capture_lambda", function_name="worker")
    assert len(fetched) == 1 and fetched[0][0].startswith("https://")

    body = stored(ctx, first)
    assert body["environment_variable_names"] == ["DB_PASSWORD", "STAGE"]
    assert "Environment" not in body["configuration"]
    assert [s["Sid"] for s in body["resource_policy"]] == ["public"]
    assert "Location" not in body["code"]

    code = first.output["code"]
    assert code["sha256"] == hashlib.sha256(function).hexdigest()
    assert ctx.evidence.store.get(code["key"]) == function
    assert code["matches_code_sha256"] is (
        base64.b64encode(hashlib.sha256(function).digest()).decode() == body["configuration"]["CodeSha256"]
    )

    # the secret value is nowhere: not in the stored evidence, not in the step's recorded state
    everything = b"".join(ctx.evidence.store.get(k) for k in ctx.evidence.store.keys(ctx.evidence.prefix))
    assert SECRET.encode() not in everything
    assert SECRET not in json.dumps(first.as_dict(), default=str)


def test_capture_lambda_missing(ctx):
    assert_missing(ctx, "evidence.capture_lambda", "Lambda function ghost does not exist", function_name="ghost")


@pytest.fixture
def http_server():
    """A package served on 127.0.0.1, as the pre-signed S3 URL serves it in production."""
    body = lambda_zip()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            payload = body * 50 if self.path == "/big" else body
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", body
    server.shutdown()


def test_download_fetches_with_a_cap(http_server):
    base, body = http_server
    assert download(f"{base}/code.zip", timeout=5) == body
    with pytest.raises(ActionError, match="cap"):
        download(f"{base}/big", timeout=5, max_bytes=len(body) * 10)
    with pytest.raises(ActionError, match="refusing"):
        download("file:///etc/passwd")


# ---- EC2 -----------------------------------------------------------------------------------------


def test_capture_instance(ctx, aws, net):
    iid = launch(aws.client("ec2"), net)
    first = assert_capture(ctx, "evidence.capture_instance", instance_id=iid)
    body = stored(ctx, first)
    assert body["instance"]["InstanceId"] == iid
    assert isinstance(body["console_output"], str) and body["console_output"]
    assert_missing(ctx, "evidence.capture_instance", "does not exist", instance_id="i-00000000000000000")


def test_snapshot_volumes(ctx, aws, net):
    ec2 = aws.client("ec2")
    iid = launch(ec2, net)
    first = run(ctx, "evidence.snapshot_volumes", instance_id=iid, finding_id="f-1")
    assert first.status == "succeeded", first.error
    assert first.before["snapshots"] == {} and set(first.after["snapshots"]) == set(first.before["volumes"])
    assert first.undo is None
    again = run(ctx, "evidence.snapshot_volumes", instance_id=iid, finding_id="f-1")
    assert again.status == "noop"

    (volume, snap_id), *_ = first.output["snapshots"].items()
    snap = ec2.describe_snapshots(SnapshotIds=[snap_id])["Snapshots"][0]
    tags = {t["Key"]: t["Value"] for t in snap["Tags"]}
    assert tags == {"parry:case": "case-1", "parry:instance": iid, "parry:volume": volume, "parry:finding": "f-1"}

    assert_missing(ctx, "evidence.snapshot_volumes", "does not exist", instance_id="i-00000000000000000")
    protected = launch(ec2, net, tags=PROTECTED)
    assert_refused(ctx, "evidence.snapshot_volumes", instance_id=protected)
    assert case_snapshot_count(ec2, protected) == 0


def case_snapshot_count(ec2, iid):
    return len(ec2.describe_snapshots(Filters=[{"Name": "tag:parry:instance", "Values": [iid]}])["Snapshots"])


# ---- CloudTrail history (moto has no LookupEvents) -----------------------------------------------


def _event(i: int) -> dict:
    return {
        "EventId": f"e{i}",
        "EventName": "ListBuckets",
        "Username": "alice",
        "CloudTrailEvent": json.dumps({"eventID": f"e{i}"}),
    }


def test_capture_cloudtrail_paginates_and_caps(ctx, aws):
    client = aws.client("cloudtrail")
    ctx.event = {"time": "2024-05-01T10:00:00Z"}
    with Stubber(client) as stub:
        expected = {
            "LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "alice"}],
            "StartTime": ANY,
            "EndTime": ANY,
            "MaxResults": 50,
        }
        stub.add_response("lookup_events", {"Events": [_event(1), _event(2)], "NextToken": "t"}, expected)
        stub.add_response(
            "lookup_events", {"Events": [_event(3), _event(4)], "NextToken": "u"}, {**expected, "NextToken": "t"}
        )
        first = run(ctx, "evidence.capture_cloudtrail", principal="alice", hours=2, max_events=3)
        stub.assert_no_pending_responses()
    assert first.status == "succeeded", first.error
    assert first.output["events"] == 3 and first.output["truncated"] is True
    body = stored(ctx, first)
    assert [e["EventId"] for e in body["events"]] == ["e1", "e2", "e3"]
    assert body["events"][0]["CloudTrailEvent"] == {"eventID": "e1"}
    assert body["start"] == "2024-05-01T08:00:00+00:00" and body["end"] == "2024-05-01T10:00:00+00:00"
    assert run(ctx, "evidence.capture_cloudtrail", principal="alice", hours=2, max_events=3).status == "noop"


def test_capture_cloudtrail_rejects_an_unknown_attribute(ctx):
    result = run(ctx, "evidence.capture_cloudtrail", principal="alice", attribute="Nope")
    assert result.status == "failed" and "attribute must be one of" in result.error


def test_capture_lambda_keeps_the_configuration_when_the_download_fails(ctx, function):
    """The configuration is stored, and the step says it is partial and what it could not take."""

    def unreachable(url, *, timeout, max_bytes):
        raise OSError("connection timed out")

    ctx.downloader = unreachable
    result = run(ctx, "evidence.capture_lambda", function_name="worker")
    assert result.status == "partial"
    assert result.unmet == ["code.zip not stored: code package not downloaded: connection timed out"]
    assert result.error == "partial: code.zip not stored: code package not downloaded: connection timed out"
    assert result.output["code"] == {"error": "code package not downloaded: connection timed out"}
    again = run(ctx, "evidence.capture_lambda", function_name="worker")  # a re-run after a crash, say
    assert again.status == "partial" and again.unmet == result.unmet and again.output["code"] == result.output["code"]
    body = stored(ctx, result)
    assert body["code_package"] == result.output["code"]
    assert body["environment_variable_names"] == ["DB_PASSWORD", "STAGE"]

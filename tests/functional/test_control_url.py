"""The CLI against a deployed Parry: each request is POSTed to the front door's function URL, signed
with SigV4 for service `lambda` in the URL's region by the caller's own credentials, with the caller
proof the door asks STS about (who asks is never taken from the body). The network is replaced at urllib's edge."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request

import pytest

from parry.aws import caller_proof
from parry.errors import ConfigError, ParryError
from parry.runtime.control import ControlPlane, post_signed, url_region
from tests.support.cli import parry

URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"


class Sent:
    def __init__(self, answer: dict, status: int = 200):
        self.answer, self.status, self.requests = answer, status, []

    def __call__(self, request: urllib.request.Request, timeout: float):
        self.requests.append(request)
        body = json.dumps(self.answer).encode()
        if self.status != 200:
            raise urllib.error.HTTPError(request.full_url, self.status, "refused", {}, io.BytesIO(body))
        return io.BytesIO(body)


@pytest.fixture
def sent(monkeypatch):
    def install(answer: dict, status: int = 200) -> Sent:
        fake = Sent(answer, status)
        monkeypatch.setattr(urllib.request, "urlopen", fake)
        return fake

    return install


def test_a_request_is_signed_for_lambda_in_the_urls_region(sent, aws):
    fake = sent({"status": "REFUSED", "error": "x"})
    body = {"kind": "approve", "case_id": "case-20261201-abcdef0123"}

    post_signed(URL, json.dumps(body).encode(), aws)

    (request,) = fake.requests
    headers = {k.lower(): v for k, v in request.header_items()}
    assert request.get_method() == "POST" and request.full_url == URL
    assert json.loads(request.data) == body
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/eu-west-1/lambda/aws4_request" in headers["authorization"]
    assert "x-amz-date" in headers and "SignedHeaders=" in headers["authorization"]
    # and the caller proof: a GetCallerIdentity for the URL's region's STS, signed over this very body
    proof = json.loads(base64.b64decode(headers[caller_proof.HEADER]))
    assert proof["url"] == "https://sts.eu-west-1.amazonaws.com"
    assert "/eu-west-1/sts/aws4_request" in proof["headers"]["authorization"]
    assert proof["headers"][caller_proof.BODY_DIGEST] == caller_proof.digest(request.data)


def test_the_doors_refusal_is_the_commands_error(sent, engine, aws):
    sent({"status": "REFUSED", "error": "arn:aws:sts::1:assumed-role/dev/m may not approve"}, status=403)
    control = ControlPlane(engine, lambda name: pytest.fail("nothing runs here"), url=URL)

    with pytest.raises(ParryError, match="may not approve"):
        control.approve("case-20261201-abcdef0123")


def test_a_deployed_runners_summary_is_shown_as_the_case(sent, engine, compromised_user):
    from parry.playbooks.validate import load_file

    case = engine.run(load_file("playbooks/iam-credential-compromise.yaml"), compromised_user["event"])
    fake = sent({"case_id": case.case_id, "status": case.status, "duplicate": False})

    shown = ControlPlane(engine, lambda name: pytest.fail("nothing runs here"), url=URL).resume(case.case_id)

    assert shown["case_id"] == case.case_id and shown["steps"] and len(fake.requests) == 1


def test_the_cli_posts_to_the_control_url(sent, capsys, parry_env, aws):
    fake = sent({"status": "ERROR", "error": "case case-20261201-abcdef0123 is DENIED, not waiting for approval"}, 400)

    code, _, err = parry(capsys, "deny", "case-20261201-abcdef0123", "--reason", "pentest", "--control-url", URL)

    assert code == 2 and "not waiting for approval" in err
    assert json.loads(fake.requests[0].data) == {
        "kind": "deny",
        "case_id": "case-20261201-abcdef0123",
        "reason": "pentest",
    }


def test_only_a_lambda_function_url_is_a_front_door():
    assert url_region(URL) == "eu-west-1"
    with pytest.raises(ConfigError, match="not a Lambda function URL"):
        url_region("http://attacker.example/")

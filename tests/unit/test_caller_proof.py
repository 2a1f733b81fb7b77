"""The caller proof must verify against real STS, which moto does not check: the request the front door
sends is the one the caller signed (same method, URL, body and signed headers), so the signature
recomputed from what went out matches the one the caller made."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

from parry.aws import caller_proof
from parry.aws.clients import ClientFactory
from parry.errors import Unauthorized

IDENTITY = b"""<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role/parry-oncall/alice</Arn>
<UserId>AROAEXAMPLE:alice</UserId><Account>111122223333</Account></GetCallerIdentityResult>
<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"""
CREDENTIALS = {"aws_access_key_id": "ASIAEXAMPLE", "aws_secret_access_key": "secret", "aws_session_token": "token"}


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Raw:
    def stream(self, **_):
        yield IDENTITY


def door_factory(sent: list) -> ClientFactory:
    """The door's clients, with STS answered here; what would go over the wire lands in `sent`."""
    session = boto3.Session(region_name="eu-west-1", aws_access_key_id="door", aws_secret_access_key="door")

    def answer(request, **_):
        sent.append(request)
        return AWSResponse(request.url, 200, {}, Raw())

    session.events.register("before-send.sts.GetCallerIdentity", answer)
    return ClientFactory(session=session)


def test_the_door_sends_sts_exactly_what_the_caller_signed():
    caller = ClientFactory(session=boto3.Session(region_name="eu-west-1", **CREDENTIALS))
    body = b'{"kind": "start", "playbook": "manual-quarantine"}'
    sent: list = []

    arn = caller_proof.verify(caller_proof.sign(caller, body, region="eu-west-1"), body, door_factory(sent))

    assert arn == "arn:aws:sts::111122223333:assumed-role/parry-oncall/alice"
    (request,) = sent
    assert request.url == "https://sts.eu-west-1.amazonaws.com/" and request.method == "POST"
    authorization = text(request.headers["Authorization"])
    signed = re.search(r"SignedHeaders=([^,]+)", authorization)[1].split(";")
    assert {"host", "x-amz-date", "x-amz-security-token", caller_proof.BODY_DIGEST} <= set(signed)
    again = AWSRequest(
        method="POST",
        url=request.url,
        data=request.body,
        headers={name: text(request.headers[name]) for name in signed if name != "host"},
    )
    again.context["timestamp"] = text(request.headers["X-Amz-Date"])
    auth = SigV4Auth(Credentials("ASIAEXAMPLE", "secret", "token"), "sts", "eu-west-1")
    assert f"Signature={auth.signature(auth.string_to_sign(again, auth.canonical_request(again)), again)}" in (
        authorization
    )
    assert text(request.headers[caller_proof.BODY_DIGEST]) == caller_proof.digest(body)


def test_a_proof_signed_for_another_region_s_sts_is_refused():
    caller = ClientFactory(session=boto3.Session(region_name="us-east-1", **CREDENTIALS))
    body = b"{}"
    sent: list = []
    with pytest.raises(Unauthorized, match="not this door's STS endpoint https://sts.eu-west-1"):
        caller_proof.verify(caller_proof.sign(caller, body), body, door_factory(sent))
    assert sent == []

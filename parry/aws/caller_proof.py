"""Proof of who is asking that holds however the request arrived.

A function URL with AuthType AWS_IAM hands the code the caller's ARN, but anyone allowed
lambda:InvokeFunction on the function can invoke it directly with an invented requestContext. So the
caller also signs, with their own credentials (SigV4), an sts:GetCallerIdentity request whose signed
headers carry the sha256 of the request body. The front door sends that request to STS itself and
STS answers whose signature it is: only the caller's credentials can make it, and it names only this
body. STS rejects a signature older than a few minutes, so a captured proof does not last either.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from parry.errors import Unauthorized

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

HEADER = "x-parry-caller-proof"
BODY_DIGEST = "x-parry-body-sha256"
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"
STS_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
SIGNED = ("authorization", "x-amz-date", "x-amz-security-token", BODY_DIGEST)
SCOPE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/[a-z0-9-]+/sts/aws4_request, SignedHeaders=(?P<h>[a-z0-9;-]+),"
)


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def sts_url(aws: ClientFactory, region: str | None = None) -> str:
    """The STS endpoint a proof is signed for: the front door's region's, as botocore resolves it."""
    url: str = aws.client("sts", region).meta.endpoint_url
    return url


def sign(aws: ClientFactory, body: bytes, *, region: str | None = None) -> str:
    """The proof (a header value) that `aws`'s credentials ask for exactly `body`."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    from parry.errors import ConfigError

    credentials = aws.session.get_credentials()
    if credentials is None:
        raise ConfigError("no AWS credentials to prove who is asking with")
    url = sts_url(aws, region)
    request = AWSRequest(
        method="POST", url=url, data=STS_BODY, headers={"Content-Type": STS_CONTENT_TYPE, BODY_DIGEST: digest(body)}
    )
    SigV4Auth(credentials.get_frozen_credentials(), "sts", region or aws.region).add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items() if name.lower() in SIGNED}
    return base64.b64encode(json.dumps({"url": url, "headers": headers}).encode()).decode()


def verify(proof: str | None, body: bytes, aws: ClientFactory) -> str:
    """The ARN that signed `proof` for `body`, as STS answers it; Unauthorized for anything else."""
    headers = _headers(proof, body, sts_url(aws))
    return _ask_sts(aws, headers)


def _headers(proof: str | None, body: bytes, url: str) -> dict[str, str]:
    if not proof:
        raise Unauthorized(f"no caller proof ({HEADER}): a request must carry its signed sts:GetCallerIdentity")
    try:
        decoded = json.loads(base64.b64decode(proof, validate=True))
        headers, signed_for = decoded["headers"], decoded["url"]
    except (ValueError, TypeError, KeyError) as exc:
        raise Unauthorized(f"the caller proof is not a signed sts:GetCallerIdentity: {exc}") from exc
    if signed_for != url:
        raise Unauthorized(f"the caller proof is signed for {signed_for!r}, not this door's STS endpoint {url}")
    if (
        not isinstance(headers, dict)
        or not set(headers) <= set(SIGNED)
        or not all(isinstance(v, str) for v in headers.values())
    ):
        raise Unauthorized(f"the caller proof may carry only the headers {', '.join(SIGNED)}")
    scope = SCOPE.match(headers.get("authorization", ""))
    if scope is None or BODY_DIGEST not in scope["h"].split(";"):
        raise Unauthorized(f"the caller proof is not a SigV4 signature for sts that signs {BODY_DIGEST}")
    if headers.get(BODY_DIGEST) != digest(body):
        raise Unauthorized("the caller proof was signed for another request body")
    return headers


def _ask_sts(aws: ClientFactory, headers: dict[str, str]) -> str:
    """Send the caller's signed GetCallerIdentity as it was signed (this client adds no signature)."""
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError

    sts = aws.session.client(
        "sts", region_name=aws.region, config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 3})
    )

    def as_signed(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            request.headers[name] = value

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", as_signed)
    try:
        arn: str = sts.get_caller_identity()["Arn"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise Unauthorized(f"STS did not accept the caller proof: {error.get('Code')}: {error.get('Message')}") from exc
    return arn

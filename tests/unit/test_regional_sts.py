"""STS is called on the client's own region's endpoint: opt-in regions refuse the global endpoint's tokens."""

from __future__ import annotations

import pytest

from parry.aws.clients import ClientFactory


@pytest.fixture(params=["legacy", "regional"])
def sts_setting(request, monkeypatch):
    """Both of botocore's `sts_regional_endpoints` settings: the result must not depend on it."""
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", request.param)
    return request.param


@pytest.mark.parametrize("region", ["ap-east-1", "us-east-1", "eu-west-1", "me-south-1"])
def test_sts_is_regional_whatever_botocore_is_told(sts_setting, region):
    factory = ClientFactory(region=region)

    assert factory.client("sts").meta.endpoint_url == f"https://sts.{region}.amazonaws.com"


def test_a_factory_in_an_opt_in_region_calls_sts_there(sts_setting):
    home = ClientFactory(region="us-east-1")

    abroad = home.in_region("ap-east-1")

    assert abroad.region == "ap-east-1"
    assert abroad.client("sts").meta.endpoint_url == "https://sts.ap-east-1.amazonaws.com"
    assert abroad.client("ec2").meta.region_name == "ap-east-1"
    assert home.client("sts").meta.endpoint_url == "https://sts.us-east-1.amazonaws.com"


def test_in_region_keeps_the_credentials_and_the_assumed_role():
    home = ClientFactory(region="us-east-1")
    home.role_arn, home.session_name, home.expires_at = "arn:aws:iam::111122223333:role/parry-member", "case-1", 42.0

    abroad = home.in_region("eu-west-1")

    assert abroad.session is home.session
    assert (abroad.role_arn, abroad.session_name, abroad.expires_at) == (home.role_arn, "case-1", 42.0)
    assert home.in_region("eu-west-1") is abroad and home.in_region("us-east-1") is home


def test_a_local_endpoint_is_kept(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")

    assert ClientFactory(region="ap-east-1").client("sts").meta.endpoint_url == "http://127.0.0.1:5000"

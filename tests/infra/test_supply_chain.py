"""What runs in Lambda is what was tested: the Powertools layer's version and publisher, the runtime
updates, the pinned CDK CLI."""

from __future__ import annotations

import re

import pytest

from tests.support.paths import ROOT
from tests.support.synth import Synth
from tests.support.templates import as_list

pytestmark = pytest.mark.xdist_group("synth")


def _functions(template: dict) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]


def test_the_lockfile_tests_the_powertools_the_default_layer_carries():
    from stacks.config import POWERTOOLS_LAYER_VERSION, POWERTOOLS_VERSION, ParryConfig

    assert ParryConfig().powertools_layer_version == POWERTOOLS_LAYER_VERSION
    pinned = re.search(r"^aws-lambda-powertools==(\S+)", (ROOT / "requirements.lock").read_text(), re.M)
    assert pinned and pinned.group(1) == POWERTOOLS_VERSION


def test_every_function_takes_aws_powertools_layer_and_changes_runtime_only_on_deploy(synth: Synth):
    functions = _functions(synth.responder)
    assert len(functions) > 3
    for fn in functions:
        assert fn["RuntimeManagementConfig"] == {"UpdateRuntimeOn": "FunctionUpdate"}, fn["FunctionName"]
        for layer in as_list(fn.get("Layers", [])):
            text = str(layer)
            assert ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27" in text, text


@pytest.mark.parametrize(
    ("region", "publisher"),
    [("eu-west-1", "017000801446"), ("cn-north-1", "498634801083"), ("us-gov-west-1", "165093116878")],
)
def test_the_layer_publisher_is_awss_for_the_partition(region: str, publisher: str):
    from aws_cdk import App

    from stacks.config import ParryConfig

    assert ParryConfig.from_context(App(context={"parry:homeRegion": region})).powertools_layer_account == publisher


@pytest.mark.parametrize(
    "context",
    [{"parry:powertoolsLayerAccount": "123456789012"}, {"parry:homeRegion": "cn-northwest-1"}],
    ids=["another publisher", "a region without a published layer"],
)
def test_no_context_picks_another_layer_publisher(context: dict):
    from aws_cdk import App

    from stacks.config import ConfigError, ParryConfig

    with pytest.raises(ConfigError, match="Powertools|powertoolsLayerAccount"):
        ParryConfig.from_context(App(context=context))


def test_docs_pin_the_cdk_cli():
    for doc in ("README.md", "docs/deploy.md"):
        text = (ROOT / doc).read_text()
        versions = set(re.findall(r"npx aws-cdk@([\w.]+)", text))
        assert versions == {"2.1148.1"}, (doc, versions)

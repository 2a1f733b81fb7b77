"""Build Parry's CDK app: read the settings, validate and compile the playbooks, stage the
Lambda asset once, and add the stacks and cdk-nag. `app.py`, the tests and the benchmark all
call `build`, so they synthesize the same thing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, BootstraplessSynthesizer, Environment, Validations

from parry.playbooks.model import Playbook
from parry.playbooks.validate import load_all
from stacks.asset import ROOT, StagedAsset, into_assembly, stage
from stacks.config import ParryConfig
from stacks.member_account_stack import MemberAccountStack, member_permissions
from stacks.regional_forwarder import RegionalForwarderStack, forwarded_pattern
from stacks.responder_stack import ResponderStack

CDK_JSON = ROOT / "cdk.json"
RESPONDER_STACK = "Parry"
MEMBER_STACK = "ParryMember"
FORWARDER_STACK = "ParryRegionalForwarder"


@dataclass
class Built:
    app: App
    config: ParryConfig
    playbooks: list[Playbook]
    asset: StagedAsset
    responder: ResponderStack
    member: MemberAccountStack | None
    forwarder: RegionalForwarderStack | None


def default_context() -> dict[str, Any]:
    """cdk.json's context: the CLI passes it itself, but `python app.py` alone would not see it."""
    return dict(json.loads(CDK_JSON.read_text()).get("context", {}))


def build(*, context: dict[str, Any] | None = None, outdir: str | None = None, nag: bool = True) -> Built:
    """The app, ready to synthesize. Raises parry.errors.ValidationError for invalid playbooks and
    stacks.config.ConfigError for unusable context values."""
    # CDK's built-in CloudFormation validation costs ~1.5 s per playbook and only warns; cfn-lint
    # checks the synthesized templates in the infra tests instead (per region, and stricter).
    app = App(
        context={**default_context(), **(context or {})},
        outdir=outdir,
        builtin_cloud_formation_validation=False,
    )
    config = ParryConfig.from_context(app)
    playbooks = load_all([config.playbooks_dir]) if Path(config.playbooks_dir).exists() else []
    asset = stage(playbooks)
    if playbooks:  # the runners' code goes into the cloud assembly; without runners there is none
        asset = into_assembly(asset, Path(app.outdir))
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    responder = ResponderStack(
        app,
        RESPONDER_STACK,
        config=config,
        playbooks=playbooks,
        asset=asset,
        env=Environment(account=account, region=config.home_region),
        description="Parry: incident-response automation (security account)",
    )
    member: MemberAccountStack | None = None
    if any(member_permissions(book) for book in playbooks):  # CloudFormation refuses an empty stack
        member = MemberAccountStack(
            app,
            MEMBER_STACK,
            playbooks=playbooks,
            home_region=config.home_region,
            security_account=config.security_account,
            organization_id=config.organization_id,
            external_id=config.external_id,
            instance_roles=config.instance_roles,
            other_regions=config.regions[1:],
            env=Environment(region=config.home_region),
            description="Parry: roles its playbooks assume in a member account",
            # No assets and no bootstrap needed: the template deploys as is, also as a StackSet.
            synthesizer=BootstraplessSynthesizer(),
        )
    forwarder: RegionalForwarderStack | None = None
    if pattern := forwarded_pattern(playbooks):
        forwarder = RegionalForwarderStack(
            app,
            FORWARDER_STACK,
            pattern=pattern,
            home_region=config.home_region,
            security_account=config.security_account,
            # region-agnostic: a StackSet deploys it in each of parry:regions, of every account
            description="Parry: forwards this region's trigger events to the security account's home bus",
            synthesizer=BootstraplessSynthesizer(),
        )
    if nag:
        from cdk_nag import AwsSolutionsChecks

        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return Built(
        app=app,
        config=config,
        playbooks=playbooks,
        asset=asset,
        responder=responder,
        member=member,
        forwarder=forwarder,
    )

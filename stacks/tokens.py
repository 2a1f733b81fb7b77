"""CloudFormation pseudo parameters as CDK tokens, fetched once.

Every `Aws.PARTITION` is a round trip to jsii's Node process; the token it returns is the same
string every time, so the stacks read these constants instead (a measurable part of synth time
with many playbooks: bench/synth.py).
"""

from aws_cdk import Aws

PARTITION: str = Aws.PARTITION
REGION: str = Aws.REGION
ACCOUNT_ID: str = Aws.ACCOUNT_ID

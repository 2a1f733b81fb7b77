"""The hand-written responder bench/peers.py measures Parry against: plain boto3, the same account
effects as Parry's playbooks, nothing else (no case record, no evidence, no re-read of the finding,
no check of what it changed). The clients are made once, as a Lambda module would make them.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

DENY_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
QUARANTINE_POLICY = "parry-quarantine"
ISOLATION_GROUP = "parry-isolation"


class Responder:
    def __init__(self, topic_arn: str, region: str = "us-east-1") -> None:
        self.topic_arn, self.region = topic_arn, region
        self.iam = boto3.client("iam", region_name=region)
        self.ec2 = boto3.client("ec2", region_name=region)
        self.hub = boto3.client("securityhub", region_name=region)
        self.sns = boto3.client("sns", region_name=region)

    def contain_key(self, event: dict[str, Any]) -> None:
        """Deactivate the key, deny the user everything, mark the finding, notify."""
        details = event["detail"]["resource"]["accessKeyDetails"]
        user, key = details["userName"], details["accessKeyId"]
        self.iam.update_access_key(UserName=user, AccessKeyId=key, Status="Inactive")
        self.iam.put_user_policy(UserName=user, PolicyName=QUARANTINE_POLICY, PolicyDocument=DENY_ALL)
        self._mark(event)
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=f"Deactivated access key {key} and quarantined {user}",
            Message=f"Access key {key} of {user} is Inactive; {user} has a deny-all policy.",
        )

    def contain_instance(self, event: dict[str, Any]) -> None:
        """Snapshot every volume, move every interface to a group without rules, protect it from
        termination, stop on shutdown, take its role away, mark the finding, notify."""
        iid = event["detail"]["resource"]["instanceDetails"]["instanceId"]
        instance = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
        for mapping in instance.get("BlockDeviceMappings", []):
            self.ec2.create_snapshot(VolumeId=mapping["Ebs"]["VolumeId"], Description=f"evidence: {iid}")
        isolation = self._isolation_group(instance["VpcId"])
        for eni in instance["NetworkInterfaces"]:
            self.ec2.modify_network_interface_attribute(
                NetworkInterfaceId=eni["NetworkInterfaceId"], Groups=[isolation]
            )
        self.ec2.modify_instance_attribute(InstanceId=iid, DisableApiTermination={"Value": True})
        self.ec2.modify_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior", Value="stop")
        associations = self.ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [iid]}, {"Name": "state", "Values": ["associated"]}]
        )["IamInstanceProfileAssociations"]
        for association in associations:
            self.ec2.disassociate_iam_instance_profile(AssociationId=association["AssociationId"])
        self._mark(event)
        self.sns.publish(TopicArn=self.topic_arn, Subject=f"Isolated EC2 instance {iid}", Message=f"{iid} is isolated.")

    def _isolation_group(self, vpc_id: str) -> str:
        found = self.ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [ISOLATION_GROUP]}]
        )["SecurityGroups"]
        if found:
            return str(found[0]["GroupId"])
        group = self.ec2.create_security_group(GroupName=ISOLATION_GROUP, Description="no traffic", VpcId=vpc_id)
        egress = self.ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0]
        self.ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=egress["IpPermissionsEgress"])
        return str(group["GroupId"])

    def _mark(self, event: dict[str, Any]) -> None:
        self.hub.batch_update_findings(
            FindingIdentifiers=[
                {
                    "Id": event["detail"]["arn"],
                    "ProductArn": f"arn:aws:securityhub:{self.region}::product/aws/guardduty",
                }
            ],
            Workflow={"Status": "NOTIFIED"},
            Note={"Text": "contained by the hand-written responder", "UpdatedBy": "responder"},
        )

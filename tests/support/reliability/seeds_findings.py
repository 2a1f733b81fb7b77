"""Seeds of the playbooks that answer a finding of 2026's families: GuardDuty Runtime Monitoring on
EC2, ECS and EKS, Extended Threat Detection attack sequences, RDS Protection, Malware Protection for
S3, and IAM Access Analyzer. Each is the real fixture retargeted at resources made for the run, and
registered where Parry re-reads it (the rehearsals' set-ups: tests/playbooks/test_rehearsals_*.py)."""

from __future__ import annotations

import json
from collections.abc import Callable

from parry.aws.clients import ClientFactory
from tests.support.reliability.seeding import (
    Seeded,
    contained_by,
    guardduty_event,
    in_effect,
    in_security_hub,
    make_instance,
    make_role,
    recorded,
)
from tests.support.reliability.world import ACCOUNT, REGION


def seed_ec2_runtime(aws: ClientFactory, n: int) -> Seeded:
    """GuardDuty's DockerSocketAccessed sample (a container on an EC2 host) on a new instance with a role."""
    iam = aws.client("iam")
    profile = f"rel-runtime-profile-{n}"
    profile_arn = iam.create_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(
        InstanceProfileName=profile,
        RoleName=make_role(aws, f"rel-runtime-role-{n}", "ec2.amazonaws.com").split("/")[-1],
    )
    event = guardduty_event("guardduty/privilegeescalation-runtime-dockersocketaccessed.bare.json", n)
    details = event["detail"]["resource"]["instanceDetails"]
    details["instanceId"] = make_instance(aws, profile_arn)
    details["iamInstanceProfile"] = {"arn": profile_arn, "id": profile}
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "ec2-runtime-threat", event))


def seed_ecs_runtime(aws: ClientFactory, n: int) -> Seeded:
    """A Fargate task with its own network interface, and the runtime finding on it (DockerSocketAccessed,
    moved onto the ECS cluster resource as GuardDuty documents it)."""
    ec2, ecs = aws.client("ec2"), aws.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName=f"rel-web-{n}", Description="web", VpcId=vpc)["GroupId"]
    cluster = f"rel-cluster-{n}"
    ecs.create_cluster(clusterName=cluster)
    definition = ecs.register_task_definition(
        family=f"rel-api-{n}",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "api", "image": "public.ecr.aws/nginx/nginx:latest", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    task = ecs.run_task(
        cluster=cluster,
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [web]}},
    )["tasks"][0]["taskArn"]
    event = guardduty_event("guardduty/privilegeescalation-runtime-dockersocketaccessed.bare.json", n)
    event["detail"]["resource"] = {
        "resourceType": "ECSCluster",
        "ecsClusterDetails": {
            "name": cluster,
            "arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
            "taskDetails": {"arn": task, "definitionArn": definition, "launchType": "FARGATE"},
        },
    }
    in_security_hub(aws, event)
    return Seeded(event, contained_by(aws, "ecs-runtime-threat", event))


def seed_eks(aws: ClientFactory, n: int) -> Seeded:
    cluster = f"rel-eks-{n}"
    aws.client("eks").create_cluster(
        name=cluster,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": [], "securityGroupIds": []},
    )
    event = guardduty_event("guardduty/persistence-kubernetes-successfulanonymousaccess.bare.json", n)
    event["detail"]["resource"]["eksClusterDetails"]["name"] = cluster
    in_security_hub(aws, event)
    return Seeded(event, lambda: True)  # capture and notify: pods are beyond AWS APIs


def seed_attack_sequence(aws: ClientFactory, n: int) -> Seeded:
    """The real attack-sequence finding, completed with the resources block AWS documents (no published
    sequence keeps it), naming an IAM user's access key and an instance."""
    iam = aws.client("iam")
    user = f"rel-seq-user-{n}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    instance = make_instance(aws)
    event = guardduty_event("guardduty/attacksequence-iam-compromisedcredentials.bare.json", n)
    event["detail"]["service"]["detection"] = {
        "sequence": {
            "uid": f"rel-seq-{n}",
            "resources": [
                {"uid": key, "resourceType": "ACCESS_KEY", "accountId": ACCOUNT, "region": REGION},
                {"uid": instance, "resourceType": "EC2_INSTANCE", "accountId": ACCOUNT, "region": REGION},
            ],
        }
    }
    in_security_hub(aws, event)

    def contained() -> bool:  # sequence.contain places its parts only in a case: each part read back here
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        return keys[0]["Status"] == "Inactive" and in_effect(aws, "ec2.isolate_instance", {"instance_id": instance})

    return Seeded(event, contained)


def seed_rds_login(aws: ClientFactory, n: int) -> Seeded:
    database = f"rel-db-{n}"
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=database,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword="not-in-evidence-1",
        AllocatedStorage=20,
    )
    event = guardduty_event("guardduty/credentialaccess-rds-anomalousbehavior-successfullogin.bare.json", n)
    event["detail"]["resource"]["rdsDbInstanceDetails"]["dbInstanceIdentifier"] = database
    in_security_hub(aws, event)
    return Seeded(event, lambda: True)  # evidence and a snapshot: the database is left as it is


def seed_malware_object(aws: ClientFactory, n: int) -> Seeded:
    """An object GuardDuty tagged THREATS_FOUND in a versioned bucket, and the published scan result
    moved to it (a scan result is re-read from the object's tag: nothing to register)."""
    from tests.support.reliability.fixtures import load_event
    from tests.support.scan_results import EICAR, SCAN

    bucket, key = f"rel-uploads-{n}", "in/eicar.com"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=bucket, Key=key, Body=EICAR, ChecksumAlgorithm="SHA256")
    s3.put_object_tagging(
        Bucket=bucket,
        Key=key,
        VersionId=put["VersionId"],
        Tagging={"TagSet": [{"Key": "GuardDutyMalwareScanStatus", "Value": "THREATS_FOUND"}]},
    )
    event = load_event(SCAN)
    event["id"] = f"rel-scan-{n}"
    event["account"], event["region"] = ACCOUNT, REGION
    event["resources"] = [f"arn:aws:guardduty:{REGION}:{ACCOUNT}:malware-protection-plan/rel-plan"]
    event["detail"]["s3ObjectDetails"].update(
        bucketName=bucket, objectKey=key, versionId=put["VersionId"], eTag=put["ETag"].strip('"')
    )
    return Seeded(event, contained_by(aws, "s3-malware-object", event))


def seed_external_access(aws: ClientFactory, n: int) -> Seeded:
    """A bucket whose policy grants another account read access beside the owner's own statement, and
    the published Access Analyzer finding about it, held by the local analyzer."""
    from tests.support.access_analyzer import sandbox_event

    bucket = f"rel-shared-{n}"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    objects = f"arn:aws:s3:::{bucket}/*"
    statements = [
        {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:*"},
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
            "Action": "s3:GetObject",
        },
    ]
    policy = {"Version": "2012-10-17", "Statement": [{**s, "Resource": objects} for s in statements]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    event = sandbox_event(resource=f"arn:aws:s3:::{bucket}")
    event["id"] = f"rel-access-analyzer-{n}"
    event["detail"]["id"] = f"rel-aa-finding-{n}"
    return Seeded(recorded(aws, event), contained_by(aws, "access-analyzer-external-access", event))


FINDING_SEEDS: dict[str, Callable[[ClientFactory, int], Seeded]] = {
    "ec2-runtime-threat": seed_ec2_runtime,
    "ecs-runtime-threat": seed_ecs_runtime,
    "eks-threat": seed_eks,
    "guardduty-attack-sequence": seed_attack_sequence,
    "rds-anomalous-login": seed_rds_login,
    "s3-malware-object": seed_malware_object,
    "access-analyzer-external-access": seed_external_access,
}

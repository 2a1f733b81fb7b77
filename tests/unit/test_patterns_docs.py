"""Every example from the EventBridge user guide's event-pattern pages, as table rows.

Sources (the guide's wording and examples, plus aws/event-ruler's README, the engine
EventBridge runs on, for the array-of-objects examples the guide leaves out):

- EP  = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
- CF  = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
- OPS = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
- ARR = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
- NUL = https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
- RUL = https://github.com/aws/event-ruler/blob/main/README.md

Refusals carry the reason EventBridge itself gives (recorded from the real API by
LocalStack's snapshot tests, tests/aws/services/events/test_events_patterns.snapshot.json),
prefixed with the path of the offending field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from parry.errors import PatternError
from parry.routing.patterns import compile_pattern

# The event used throughout the content-filtering page and the event-ruler README.
EC2_STATE = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}

# EP / NUL: the Auto Scaling event with an empty string and a null.
AUTOSCALING = {
    "version": "0",
    "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
    "detail-type": "EC2 Instance Launch Successful",
    "source": "aws.autoscaling",
    "account": "123456789012",
    "time": "2015-11-11T21:31:47Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"eventVersion": "", "responseElements": None},
}

# EP: the (truncated) Macie Classic alert.
MACIE = {
    "version": "0",
    "id": "3e355723-fca9-4de3-9fd7-154c289d6b59",
    "detail-type": "Macie Alert",
    "source": "aws.macie",
    "account": "123456789012",
    "time": "2017-04-24T22:28:49Z",
    "region": "us-east-1",
    "resources": [
        "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id/alert/alert_id",
        "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id",
    ],
    "detail": {
        "notification-type": "ALERT_CREATED",
        "name": "Scanning bucket policies",
        "tags": ["Custom_Alert", "Insider"],
        "risk-score": 80,
        "trigger": {
            "rule-arn": "arn:aws:macie:us-east-1:123456789012:trigger/trigger_id",
            "alert-type": "basic",
            "risk": 8,
        },
    },
}

# CF (exists): the event the guide says does NOT have detail.state.
NO_STATE = {
    "detail-type": ["EC2 Instance State-change Notification"],
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
    "detail": {"c-count": {"c1": 100}},
}

# RUL "JSON Array Matching": an array of objects, then the same split over nested arrays.
EMPLOYEES = {
    "employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"},
    ]
}
EMPLOYEES_NESTED = {
    "employees": [
        [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones"}],
    ]
}

# A Security Hub "Findings - Imported" event, reduced to the fields the patterns use.
SECURITY_HUB = {
    "version": "0",
    "id": "8e5622f9-d81c-4d81-612a-9319e7ee2506",
    "detail-type": "Security Hub Findings - Imported",
    "source": "aws.securityhub",
    "account": "123456789012",
    "time": "2019-04-11T21:52:17Z",
    "region": "us-west-2",
    "resources": ["arn:aws:securityhub:us-west-2::product/aws/macie/arn:aws:macie:us-west-2:123456789012"],
    "detail": {
        "findings": [
            {
                "Id": "f-1",
                "Severity": {"Label": "LOW", "Normalized": 1},
                "Workflow": {"Status": "NEW"},
                "Compliance": {"Status": "PASSED"},
            },
            {
                "Id": "f-2",
                "Severity": {"Label": "HIGH", "Normalized": 70},
                "Workflow": {"Status": "RESOLVED"},
                "Compliance": {"Status": "FAILED"},
            },
        ]
    },
}


def ev(**fields: Any) -> dict[str, Any]:
    """A minimal event carrying just ``fields`` (the guide's fragments are partial events)."""
    return dict(fields)


MATCH_CASES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    # --- EP: event pattern basics ---------------------------------------------------
    (
        "EP ec2 terminated",
        {
            "source": ["aws.ec2"],
            "detail-type": ["EC2 Instance State-change Notification"],
            "detail": {"state": ["terminated"]},
        },
        {**EC2_STATE, "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}},
        True,
    ),
    ("EP ec2 terminated vs running", {"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}, EC2_STATE, False),
    ("EP match values: source is ec2 or fargate", {"source": ["aws.ec2", "aws.fargate"]}, EC2_STATE, True),
    ("EP match values: fargate", {"source": ["aws.ec2", "aws.fargate"]}, ev(source="aws.fargate"), True),
    ("EP match values: neither", {"source": ["aws.ec2", "aws.fargate"]}, ev(source="aws.s3"), False),
    ("EP field missing never matches", {"detail": {"state": ["terminated"]}}, ev(source="aws.ec2"), False),
    ("EP same nesting required", {"state": ["running"]}, EC2_STATE, False),
    ("EP strings are case-sensitive", {"source": ["AWS.EC2"]}, EC2_STATE, False),
    (
        "EP null field matching",
        {
            "source": ["aws.autoscaling"],
            "detail-type": ["EC2 Instance Launch Successful"],
            "detail": {"responseElements": [None]},
        },
        AUTOSCALING,
        True,
    ),
    (
        "EP value matching (Macie)",
        {
            "source": ["aws.macie"],
            "detail-type": ["Macie Alert"],
            "detail": {"risk-score": [80], "trigger": {"risk": [8]}},
        },
        MACIE,
        True,
    ),
    ("EP value matching (Macie) wrong risk", {"detail": {"risk-score": [80], "trigger": {"risk": [9]}}}, MACIE, False),
    ("EP numbers: 300 vs 300.0", {"number": [300]}, ev(number=300.0), True),
    # --- NUL: null and empty string -------------------------------------------------
    ("NUL empty string", {"detail": {"eventVersion": [""]}}, AUTOSCALING, True),
    ("NUL null", {"detail": {"responseElements": [None]}}, AUTOSCALING, True),
    ("NUL empty string does not match null", {"detail": {"responseElements": [""]}}, AUTOSCALING, False),
    ("NUL null does not match empty string", {"detail": {"eventVersion": [None]}}, AUTOSCALING, False),
    ("NUL null does not match a missing field", {"detail": {"other": [None]}}, AUTOSCALING, False),
    # --- ARR: arrays ----------------------------------------------------------------
    (
        "ARR intersection non-empty",
        {
            "resources": [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
            ]
        },
        ev(
            resources=[
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-"
                "d5978ed4a025:autoScalingGroupName/ASGTerminate",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            ]
        ),
        True,
    ),
    (
        "ARR intersection empty",
        {"resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]},
        ev(resources=["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]),
        False,
    ),
    ("ARR empty event array matches nothing", {"resources": [None]}, ev(resources=[]), False),
    ("RUL array of objects", {"employees": {"firstName": ["Anna"]}}, EMPLOYEES, True),
    ("RUL array of objects, no element", {"employees": {"firstName": ["Zoe"]}}, EMPLOYEES, False),
    (
        "RUL array consistency: fields from different elements",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        EMPLOYEES,
        False,
    ),
    (
        "RUL array consistency: fields from the same element",
        {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
        EMPLOYEES,
        True,
    ),
    ("RUL multi-level arrays", {"employees": {"firstName": ["Peter"]}}, EMPLOYEES_NESTED, True),
    (
        "RUL multi-level arrays, consistency",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        EMPLOYEES_NESTED,
        False,
    ),
    ("Security Hub: any finding HIGH", {"detail": {"findings": {"Severity": {"Label": ["HIGH"]}}}}, SECURITY_HUB, True),
    (
        "Security Hub: no CRITICAL finding",
        {"detail": {"findings": {"Severity": {"Label": ["CRITICAL"]}}}},
        SECURITY_HUB,
        False,
    ),
    (
        "Security Hub: HIGH and NEW must be the same finding",
        {"detail": {"findings": {"Severity": {"Label": ["HIGH"]}, "Workflow": {"Status": ["NEW"]}}}},
        SECURITY_HUB,
        False,
    ),
    (
        "Security Hub: HIGH and FAILED in the same finding",
        {"detail": {"findings": {"Severity": {"Label": ["HIGH"]}, "Compliance": {"Status": ["FAILED"]}}}},
        SECURITY_HUB,
        True,
    ),
    (
        "Security Hub: numeric inside findings",
        {"detail": {"findings": {"Severity": {"Normalized": [{"numeric": [">=", 70]}]}}}},
        SECURITY_HUB,
        True,
    ),
    # --- CF: prefix / suffix (and ignoring case) --------------------------------------
    ("CF prefix", {"time": [{"prefix": "2017-10-02"}]}, ev(time="2017-10-02T18:43:48Z"), True),
    ("CF prefix, other day", {"time": [{"prefix": "2017-10-02"}]}, ev(time="2017-10-03T18:43:48Z"), False),
    ("CF prefix only on strings", {"c": [{"prefix": "1"}]}, ev(c=12), False),
    (
        "CF prefix: Auto Scaling in Europe",
        {"source": ["aws.autoscaling"], "region": [{"prefix": "eu-"}]},
        ev(source="aws.autoscaling", region="eu-west-1"),
        True,
    ),
    (
        "CF prefix ignoring case",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        ev(detail={"service": "eventbridge"}),
        True,
    ),
    (
        "CF prefix ignoring case, upper",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        ev(detail={"service": "EVENTBRIDGE"}),
        True,
    ),
    (
        "CF prefix ignoring case, no",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        ev(detail={"service": "Event Bridge"}),
        False,
    ),
    ("CF suffix", {"FileName": [{"suffix": ".png"}]}, ev(FileName="image.png"), True),
    ("CF suffix is case-sensitive", {"FileName": [{"suffix": ".png"}]}, ev(FileName="image.PNG"), False),
    (
        "CF suffix ignoring case",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        ev(detail={"FileName": "image.PNG"}),
        True,
    ),
    (
        "CF suffix ignoring case, no",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        ev(detail={"FileName": "image.jpg"}),
        False,
    ),
    ("RUL suffix", {"source": [{"suffix": "ec2"}]}, EC2_STATE, True),
    (
        "OPS ends with ignoring case",
        {"service": [{"suffix": {"equals-ignore-case": "tbridge"}}]},
        ev(service="EventBRIDGE"),
        True,
    ),
    # --- CF: anything-but -----------------------------------------------------------
    ("CF anything-but string", {"detail": {"state": [{"anything-but": "initializing"}]}}, EC2_STATE, True),
    (
        "CF anything-but string, excluded",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        ev(detail={"state": "initializing"}),
        False,
    ),
    (
        "CF anything-but needs the field",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        ev(detail={}),
        False,
    ),
    ("CF anything-but number", {"detail": {"x-limit": [{"anything-but": 123}]}}, EC2_STATE, True),
    (
        "CF anything-but number, excluded",
        {"detail": {"x-limit": [{"anything-but": 123}]}},
        ev(detail={"x-limit": 123}),
        False,
    ),
    (
        "CF anything-but string list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        EC2_STATE,
        True,
    ),
    (
        "CF anything-but string list, excluded",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        ev(detail={"state": "stopped"}),
        False,
    ),
    ("CF anything-but number list", {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, EC2_STATE, True),
    (
        "CF anything-but number list, excluded numerically",
        {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
        ev(detail={"x-limit": 200.0}),
        False,
    ),
    ("CF anything-but prefix", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, EC2_STATE, True),
    (
        "CF anything-but prefix, excluded",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        ev(detail={"state": "initializing"}),
        False,
    ),
    (
        "CF anything-but prefix list",
        {"detail": {"state": [{"anything-but": {"prefix": ["init", "stop"]}}]}},
        ev(detail={"state": "stopping"}),
        False,
    ),
    (
        "CF anything-but: not CloudTrail",
        {"detail-type": [{"anything-but": "AWS API Call via CloudTrail"}]},
        EC2_STATE,
        True,
    ),
    ("CF anything-but: not ec2 or s3", {"source": [{"anything-but": ["aws.ec2", "aws.s3"]}]}, EC2_STATE, False),
    (
        "CF anything-but prefix: own events only",
        {"source": [{"anything-but": {"prefix": "aws."}}]},
        ev(source="com.example.orders"),
        True,
    ),
    (
        "CF anything-but prefix: AWS events excluded",
        {"source": [{"anything-but": {"prefix": "aws."}}]},
        EC2_STATE,
        False,
    ),
    (
        "CF anything-but suffix",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        ev(detail={"FileName": "notes.md"}),
        True,
    ),
    (
        "CF anything-but suffix, excluded",
        {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
        ev(detail={"FileName": "notes.txt"}),
        False,
    ),
    (
        "CF anything-but ignoring case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}},
        ev(detail={"state": "STOPPED"}),
        False,
    ),
    (
        "CF anything-but ignoring case, other value",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}},
        ev(detail={"state": "running"}),
        True,
    ),
    (
        "OPS anything-but ignoring case, single",
        {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
        ev(state="INITIALIZING"),
        False,
    ),
    (
        "CF anything-but wildcard",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        ev(detail={"FilePath": "/usr/bin/python"}),
        True,
    ),
    (
        "CF anything-but wildcard, excluded",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
        ev(detail={"FilePath": "/usr/lib/python"}),
        False,
    ),
    (
        "CF anything-but wildcard list",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}},
        ev(detail={"FilePath": "/usr/bin/python"}),
        False,
    ),
    (
        "anything-but wildcard list, no slash before dir",
        {"detail": {"state": [{"anything-but": {"wildcard": ["*/init/*", "*/dir/*"]}}]}},
        ev(detail={"state": "dir/post/dir"}),
        True,
    ),
    (
        "anything-but: null is a value that differs",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        ev(detail={"state": None}),
        True,
    ),
    (
        "anything-but prefix: a number has no prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        ev(detail={"state": 12}),
        True,
    ),
    (
        "anything-but wildcard: a number is not a path",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/dir/*"}}]}},
        ev(detail={"FilePath": 123}),
        True,
    ),
    ("anything-but 0", {"detail": {"x-limit": [{"anything-but": 0}]}}, ev(detail={"x-limit": 789}), True),
    # --- CF: numeric ----------------------------------------------------------------
    (
        "CF numeric, all fields",
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        EC2_STATE,
        True,
    ),
    (
        "CF numeric, c-count out of range",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        ev(detail={"c-count": 6}),
        False,
    ),
    (
        "CF numeric, lower bound open",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        ev(detail={"c-count": 0}),
        False,
    ),
    (
        "CF numeric only on JSON numbers",
        {"detail": {"c-count": [{"numeric": [">", 0]}]}},
        ev(detail={"c-count": "5"}),
        False,
    ),
    ("numeric on a float", {"number": [{"numeric": [">", 100]}]}, ev(number=101.0), True),
    ("OPS numeric equals", {"Price": [{"numeric": ["=", 100]}]}, ev(Price=100), True),
    ("OPS numeric range", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, ev(Price=20), True),
    ("OPS numeric range, above", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, ev(Price=20.5), False),
    # --- CF: IP address -------------------------------------------------------------
    (
        "CF cidr",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        ev(detail={"sourceIPAddress": "10.0.0.255"}),
        True,
    ),
    (
        "CF cidr, outside",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        ev(detail={"sourceIPAddress": "10.0.1.0"}),
        False,
    ),
    (
        "CF cidr IPv6",
        {"detail": {"sourceIPAddress": [{"cidr": "2001:db8:1234:1a00::/64"}]}},
        ev(detail={"sourceIPAddress": "2001:db8:1234:1a00::dead:beef"}),
        True,
    ),
    (
        "CF cidr IPv6, outside",
        {"detail": {"sourceIPAddress": [{"cidr": "2001:db8:1234:1a00::/64"}]}},
        ev(detail={"sourceIPAddress": "2001:db8:1234:1a01::1"}),
        False,
    ),
    (
        "cidr on a number",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
        ev(detail={"sourceIPAddress": 123}),
        False,
    ),
    ("RUL cidr /8", {"detail": {"source-ip": [{"cidr": "10.0.0.0/8"}]}}, EC2_STATE, True),
    # --- CF: exists -----------------------------------------------------------------
    (
        "CF exists true",
        {"detail": {"state": [{"exists": True}]}},
        {
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-abcd1111", "state": "pending"},
        },
        True,
    ),
    ("CF exists true, no detail.state", {"detail": {"state": [{"exists": True}]}}, NO_STATE, False),
    (
        "CF exists false, absent",
        {"detail": {"c-count": [{"exists": False}]}},
        {
            "detail-type": ["EC2 Instance State-change Notification"],
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],
            "detail": {"state": ["initializing", "running"]},
        },
        True,
    ),
    (
        "CF exists false: c-count is not a leaf",
        {"detail": {"c-count": [{"exists": False}]}},
        {**NO_STATE, "detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}},
        True,
    ),
    ("CF exists false, present", {"detail": {"c-count": [{"exists": False}]}}, EC2_STATE, False),
    (
        "CF exists: description present",
        {"detail": {"description": [{"exists": True}]}},
        ev(detail={"description": "x"}),
        True,
    ),
    ("exists true on an empty array", {"resources": [{"exists": True}]}, AUTOSCALING, False),
    (
        "exists true: one element of an array of objects has it",
        {"detail": {"automations": {"id": [{"exists": True}]}}},
        ev(detail={"automations": [{"key1": "value1"}, {"id": "match-does-exist"}, {"key2": "value2"}]}),
        True,
    ),
    (
        "exists false or anything-but: parent absent",
        {"dynamodb": {"NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": False}]}}}},
        ev(dynamodb={"NewImage": {"purchased": {"N": "789"}}}),
        True,
    ),
    # --- CF: equals-ignore-case ---------------------------------------------------------
    (
        "CF equals-ignore-case",
        {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
        EC2_STATE,
        True,
    ),
    (
        "CF equals-ignore-case, different text",
        {"detail-type": [{"equals-ignore-case": "ec2 instance"}]},
        EC2_STATE,
        False,
    ),
    ("OPS equals-ignore-case", {"Name": [{"equals-ignore-case": "alice"}]}, ev(Name="ALICE"), True),
    (
        "equals-ignore-case of the empty string",
        {"detail": {"value": [{"equals-ignore-case": ""}]}},
        ev(detail={"value": ""}),
        True,
    ),
    ("RUL equals-ignore-case", {"source": [{"equals-ignore-case": "EC2"}]}, ev(source="ec2"), True),
    # --- CF: wildcard ---------------------------------------------------------------
    (
        "CF wildcard",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
        ev(EventBusArn="arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"),
        True,
    ),
    (
        "CF wildcard, other region",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
        ev(EventBusArn="arn:aws:events:eu-west-1:123456789012:event-bus/myEventBus"),
        False,
    ),
    (
        "wildcard after a prefix",
        {"FileName": [{"wildcard": "/Users/*/doc.txt"}]},
        ev(FileName="/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"),
        True,
    ),
    (
        "wildcard with repeating sequences",
        {"FileName": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]},
        ev(FileName="/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"),
        True,
    ),
    ("OPS wildcard", {"FileName": [{"wildcard": "dir/*.png"}]}, ev(FileName="dir/image.png"), True),
    ("RUL wildcard", {"source": [{"wildcard": "Simple*Service"}]}, ev(source="SimpleQueueService"), True),
    (
        "RUL wildcard matches zero characters",
        {"source": [{"wildcard": "Simple*Service"}]},
        ev(source="SimpleService"),
        True,
    ),
    ("RUL wildcard: \\* is a literal star", {"name": [{"wildcard": "a\\*b"}]}, ev(name="a*b"), True),
    ("RUL wildcard: \\* is not a wildcard", {"name": [{"wildcard": "a\\*b"}]}, ev(name="axb"), False),
    ("RUL wildcard: \\\\ is a backslash", {"name": [{"wildcard": "a\\\\*"}]}, ev(name="a\\bc"), True),
    ("wildcard only on strings", {"n": [{"wildcard": "1*"}]}, ev(n=12), False),
    # --- CF: complex and $or --------------------------------------------------------
    (
        "CF complex example",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        EC2_STATE,
        True,
    ),
    (
        "RUL complex example with cidr",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
                "source-ip": [{"cidr": "10.0.0.0/8"}],
            },
        },
        EC2_STATE,
        True,
    ),
    (
        "CF $or on detail fields",
        {
            "detail": {
                "$or": [
                    {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
                    {"d-count": [{"numeric": ["<", 10]}]},
                    {"x-limit": [{"numeric": ["=", 3.018e2]}]},
                ]
            }
        },
        ev(detail={"d-count": 3}),
        True,
    ),
    (
        "CF $or, no branch",
        {"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}},
        ev(detail={"c-count": 9, "d-count": 10}),
        False,
    ),
    ("OPS or", {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}, ev(Location="Paris", Day="Monday"), True),
    (
        "RUL $or: source and (metricName or namespace)",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
        },
        ev(source="aws.cloudwatch", namespace="AWS/ES"),
        True,
    ),
    (
        "RUL $or: source must still match",
        {
            "source": ["aws.cloudwatch"],
            "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
        },
        ev(source="aws.ec2", namespace="AWS/ES"),
        False,
    ),
    (
        "RUL parallel $or",
        {
            "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]}, {"namespace": ["AWS/EC2", "AWS/ES"]}],
            "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]},
        },
        ev(metricName="ReadLatency", detail={"detail-type": "CloudWatch Alarm State Change"}),
        True,
    ),
    (
        "RUL parallel $or, second group fails",
        {
            "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
            "detail": {"$or": [{"source": ["aws.cloudwatch"]}, {"detail-type": ["CloudWatch Alarm State Change"]}]},
        },
        ev(metricName="CPUUtilization", detail={"source": "aws.ec2"}),
        False,
    ),
    (
        "RUL $or with an and inside",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
                {"scope": ["Service"]},
            ],
        },
        ev(source="aws.cloudwatch", metricType="MetricType", namespace="AWS/EC2"),
        True,
    ),
    (
        "RUL $or with an and inside, half of the and",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
                {"scope": ["Service"]},
            ],
        },
        ev(source="aws.cloudwatch", metricType="MetricType"),
        False,
    ),
    (
        "RUL nested $or and and",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {
                    "metricType": ["MetricType"],
                    "namespace": ["AWS/EC2", "AWS/ES"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
                {"scope": ["Service"]},
            ],
        },
        ev(source="aws.cloudwatch", metricType="MetricType", namespace="AWS/ES", spaceId=1000),
        True,
    ),
    (
        "RUL nested $or and and, inner $or fails",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization", "ReadLatency"]},
                {
                    "metricType": ["MetricType"],
                    "namespace": ["AWS/EC2", "AWS/ES"],
                    "$or": [{"metricId": [1234]}, {"spaceId": [1000]}],
                },
                {"scope": ["Service"]},
            ],
        },
        ev(source="aws.cloudwatch", metricType="MetricType", namespace="AWS/ES", spaceId=1001),
        False,
    ),
    # --- OPS table rows not covered above ---------------------------------------------
    ("OPS and", {"Location": ["New York"], "Day": ["Monday"]}, ev(Location="New York", Day="Monday"), True),
    ("OPS and, one false", {"Location": ["New York"], "Day": ["Monday"]}, ev(Location="New York", Day="Sunday"), False),
    ("OPS begins with", {"Region": [{"prefix": "us-"}]}, ev(Region="us-east-1"), True),
    ("OPS anything-but begins with", {"Region": [{"anything-but": {"prefix": "us-"}}]}, ev(Region="us-east-1"), False),
    ("OPS empty", {"LastName": [""]}, ev(LastName=""), True),
    ("OPS equals", {"Name": ["Alice"]}, ev(Name="Alice"), True),
    ("OPS exists", {"ProductName": [{"exists": True}]}, ev(ProductName="Widget"), True),
    ("OPS does not exist", {"ProductName": [{"exists": False}]}, ev(Other="x"), True),
    ("OPS null", {"UserID": [None]}, ev(UserID=None), True),
]


@pytest.mark.parametrize(
    ("pattern", "event", "expected"), [case[1:] for case in MATCH_CASES], ids=[case[0] for case in MATCH_CASES]
)
def test_documented_example(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected
    # The same pattern given as JSON text behaves the same.
    assert compile_pattern(json.dumps(pattern)).matches(event) is expected


def test_duplicate_key_last_one_wins() -> None:
    # CF note: "if you include a key more than once the last reference will be the one used".
    text = '{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}'
    pattern = compile_pattern(text)
    assert pattern.matches({"detail": {"location": "eu-west"}})
    assert not pattern.matches({"detail": {"location": "us-east"}})


# (id, pattern, path named in the message, EventBridge's reason)
INVALID_CASES: list[tuple[str, Any, str, str]] = [
    ("int value", {"int": 42}, "int", '"int" must be an object or an array'),
    ("string value", {"string": "my-value"}, "string", '"string" must be an object or an array'),
    ("empty array", {"resources": []}, "resources", "Empty arrays are not allowed"),
    ("empty object", {}, "(pattern)", "Empty objects are not allowed"),
    ("empty nested object", {"detail": {}}, "detail", "Empty objects are not allowed"),
    (
        "operator casing NUMERIC",
        {"detail": {"equal": [{"NUMERIC": ["=", 5]}]}},
        "detail.equal",
        "Unrecognized match type NUMERIC",
    ),
    ("operator casing EXISTS", {"my_key": [{"EXISTS": True}]}, "my_key", "Unrecognized match type EXISTS"),
    (
        "numeric two lower bounds",
        {"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}},
        "detail.c-count",
        "Bad numeric range operator: >",
    ),
    (
        "numeric missing top",
        {"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}},
        "detail.c-count",
        "Value of < must be numeric",
    ),
    (
        "numeric empty",
        {"detail": {"severity": [{"numeric": []}]}},
        "detail.severity",
        "numeric needs an operator and a number",
    ),
    (
        "consecutive wildcards",
        {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]},
        "EventBusArn",
        "Consecutive wildcard characters at pos 26",
    ),
    (
        "wildcard too complex",
        {"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]},
        "EventBusArn",
        "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
        "after a wildcard character",
    ),
    ("wildcard int", {"EventBusArn": [{"wildcard": 123}]}, "EventBusArn", "wildcard match pattern must be a string"),
    (
        "wildcard list",
        {"EventBusArn": [{"wildcard": ["arn:*"]}]},
        "EventBusArn",
        "wildcard match pattern must be a string",
    ),
    (
        "equals-ignore-case list",
        {"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]},
        "detail-type",
        "equals-ignore-case match pattern must be a string",
    ),
    (
        "equals-ignore-case object",
        {"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]},
        "detail-type",
        "equals-ignore-case match pattern must be a string",
    ),
    (
        "cidr without slash",
        {"detail": {"sourceIPAddress": [{"cidr": "bad-value"}]}},
        "detail.sourceIPAddress",
        "Malformed CIDR, one '/' required",
    ),
    (
        "cidr bad mask",
        {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/xx"}]}},
        "detail.sourceIPAddress",
        "Malformed CIDR, mask bits must be an integer",
    ),
    (
        "cidr bad ip",
        {"detail": {"sourceIPAddress": [{"cidr": "xx.11.xx/24"}]}},
        "detail.sourceIPAddress",
        "Nonstandard IP address: xx.11.xx",
    ),
    (
        "cidr bad ipv6",
        {"detail": {"sourceIPAddress": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}},
        "detail.sourceIPAddress",
        "Nonstandard IP address: xxxx:db8:1234:1a00::",
    ),
    # EventBridge words this one "prefix match pattern must be a string"; Parry names the operator.
    (
        "cidr list",
        {"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}},
        "detail.sourceIPAddress",
        "cidr match pattern must be a string",
    ),
    (
        "anything-but equals-ignore-case number",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}},
        "detail.state",
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ),
    (
        "anything-but equals-ignore-case numbers",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}},
        "detail.state",
        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
    ),
    (
        "anything-but wildcard list with a number",
        {"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}},
        "detail.state",
        "wildcard match pattern must be a string",
    ),
    (
        "anything-but wildcard number",
        {"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}},
        "detail.FilePath",
        "wildcard match pattern must be a string",
    ),
    (
        "anything-but suffix list with a number",
        {"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}},
        "detail.FileName",
        "prefix/suffix match pattern must be a string",
    ),
    (
        "anything-but suffix number",
        {"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}},
        "detail.FileName",
        "prefix/suffix match pattern must be a string",
    ),
    (
        "anything-but prefix list with a number",
        {"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}},
        "detail.state",
        "prefix/suffix match pattern must be a string",
    ),
    (
        "anything-but prefix number",
        {"detail": {"state": [{"anything-but": {"prefix": 123}}]}},
        "detail.state",
        "prefix/suffix match pattern must be a string",
    ),
    (
        "anything-but empty prefix",
        {"detail": {"state": [{"anything-but": {"prefix": ""}}]}},
        "detail.state",
        "Null prefix/suffix not allowed",
    ),
    (
        "anything-but prefix ignoring case",
        {"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}},
        "detail.FileName",
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "anything-but suffix ignoring case",
        {"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}},
        "detail.FileName",
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        "anything-but list with null",
        {"detail": {"state": [{"anything-but": ["stopped", None]}]}},
        "detail.state",
        "Inside anything but list, start|null|boolean is not supported.",
    ),
    ("prefix list", {"time": [{"prefix": ["2022-07-13"]}]}, "time", "prefix match pattern must be a string"),
    ("prefix number", {"time": [{"prefix": 123}]}, "time", "prefix match pattern must be a string"),
    ("suffix number", {"FileName": [{"suffix": 123}]}, "FileName", "suffix match pattern must be a string"),
    ("suffix list", {"FileName": [{"suffix": [".png"]}]}, "FileName", "suffix match pattern must be a string"),
    (
        "RUL reserved names inside $or",
        {"$or": [{"numeric": [123]}, {"prefix": ["abc"]}]},
        "$or[0].numeric",
        "numeric is a reserved word and cannot be a field name inside $or",
    ),
]


@pytest.mark.parametrize(
    ("pattern", "path", "reason"), [c[1:] for c in INVALID_CASES], ids=[c[0] for c in INVALID_CASES]
)
def test_refused_pattern(pattern: Any, path: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert str(caught.value) == f"{path}: {reason}"


@pytest.mark.parametrize(
    "text",
    [
        "this is valid json but not a dict",
        "{'bad': 'quotation'}",
        '{"not": closed mark"',
    ],
)
def test_refused_invalid_json(text: str) -> None:
    with pytest.raises(PatternError, match="^pattern is not valid JSON: "):
        compile_pattern(text)


@pytest.mark.parametrize("text", ['["not", "a", "dict", "but valid json"]', "42", "null", '"text"'])
def test_refused_not_an_object(text: str) -> None:
    with pytest.raises(PatternError, match=r"Filter is not an object"):
        compile_pattern(text)

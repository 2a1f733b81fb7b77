"""parry.routing.patterns: the public API and the semantics the documentation table leaves implicit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from parry.errors import ParryError, PatternError
from parry.routing.patterns import Pattern, compile_pattern

GUARDDUTY = {
    "version": "0",
    "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad",
    "detail-type": "GuardDuty Finding",
    "source": "aws.guardduty",
    "account": "123456789012",
    "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "type": "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
        "severity": 8,
        "resource": {
            "resourceType": "AccessKey",
            "accessKeyDetails": {"userName": "alice", "accessKeyId": "AKIAEXAMPLE"},
        },
        "service": {"action": {"awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": "198.51.100.7"}}}},
    },
}


# --- API ----------------------------------------------------------------------------


def test_compile_returns_a_pattern_keeping_its_source() -> None:
    source = {"source": ["aws.guardduty"]}
    pattern = compile_pattern(source)
    assert isinstance(pattern, Pattern)
    assert pattern.source is source
    assert pattern.matches(GUARDDUTY)


def test_compile_accepts_json_text() -> None:
    pattern = compile_pattern('{"source": ["aws.guardduty"], "detail": {"severity": [{"numeric": [">=", 7]}]}}')
    assert pattern.source == {"source": ["aws.guardduty"], "detail": {"severity": [{"numeric": [">=", 7]}]}}
    assert pattern.matches(GUARDDUTY)


def test_repr_shows_the_pattern() -> None:
    assert repr(compile_pattern({"source": ["aws.s3"]})) == 'Pattern({"source": ["aws.s3"]})'


def test_pattern_error_is_a_parry_error() -> None:
    with pytest.raises(ParryError):
        compile_pattern({"source": "aws.s3"})


@pytest.mark.parametrize("pattern", [["source"], 42, None, "[1, 2]"])
def test_refuses_a_pattern_that_is_not_an_object(pattern: Any) -> None:
    with pytest.raises(PatternError, match="must be a JSON object"):
        compile_pattern(pattern)


@pytest.mark.parametrize("text", ['{"a": [NaN]}', '{"a": [Infinity]}'])
def test_refuses_non_json_constants(text: str) -> None:
    with pytest.raises(PatternError, match="not valid JSON"):
        compile_pattern(text)


@pytest.mark.parametrize("event", [None, [], "text", 3])
def test_an_event_that_is_not_an_object_never_matches(event: Any) -> None:
    assert not compile_pattern({"a": [{"exists": False}]}).matches(event)


def test_matching_does_not_modify_the_event() -> None:
    event = json.loads(json.dumps(GUARDDUTY))
    compile_pattern({"detail": {"type": [{"prefix": "Unauthorized"}], "missing": [{"exists": False}]}}).matches(event)
    assert event == GUARDDUTY


# --- exact values and types ---------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern_value", "event_value", "expected"),
    [
        (300, 300.0, True),
        (300.0, 300, True),
        (3.018e2, 301.8, True),
        (123456789012, 123456789012, True),  # beyond the numeric range, still equal
        (1, True, False),
        (0, False, False),
        (True, 1, False),
        (False, 0, False),
        (None, 0, False),
        (None, "", False),
        ("1", 1, False),
        (1, "1", False),
        ("true", True, False),
        (True, True, True),
        (False, False, True),
    ],
)
def test_exact_values_compare_by_json_type(pattern_value: Any, event_value: Any, expected: bool) -> None:
    assert compile_pattern({"f": [pattern_value]}).matches({"f": event_value}) is expected


def test_values_in_a_leaf_are_alternatives() -> None:
    pattern = compile_pattern({"f": ["x", 5, None, {"prefix": "pre"}]})
    assert [pattern.matches({"f": v}) for v in ("x", 5, None, "prefix", "y", 6, False)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


# --- absence: missing, empty array, object -----------------------------------------------


@pytest.mark.parametrize(
    ("event", "exists_true", "exists_false"),
    [
        ({"f": "x"}, True, False),
        ({"f": None}, True, False),  # null is a value
        ({"f": ""}, True, False),
        ({"f": 0}, True, False),
        ({"f": ["x"]}, True, False),
        ({"f": [None]}, True, False),
        ({}, False, True),
        ({"f": []}, False, True),
        ({"f": [[]]}, False, True),
        ({"f": {}}, False, True),
        ({"f": {"g": 1}}, False, True),  # an object is not a leaf
        ({"f": [{"g": 1}]}, False, True),  # nor is an array of objects
    ],
)
def test_exists(event: dict[str, Any], exists_true: bool, exists_false: bool) -> None:
    assert compile_pattern({"f": [{"exists": True}]}).matches(event) is exists_true
    assert compile_pattern({"f": [{"exists": False}]}).matches(event) is exists_false


def test_exists_false_under_a_missing_parent() -> None:
    pattern = compile_pattern({"detail": {"extra": {"flag": [{"exists": False}]}}})
    assert pattern.matches({"source": "x"})
    assert pattern.matches({"detail": "a string, not an object"})
    assert pattern.matches({"detail": {"extra": {"other": 1}}})
    assert not pattern.matches({"detail": {"extra": {"flag": False}}})


def test_a_missing_field_fails_every_operator_but_exists_false() -> None:
    for operand in (
        {"anything-but": "x"},
        {"anything-but": {"prefix": "x"}},
        {"numeric": [">", 0]},
        {"prefix": ""},
        {"suffix": ""},
        {"wildcard": "*"},
        {"cidr": "10.0.0.0/8"},
        {"equals-ignore-case": ""},
        {"exists": True},
        None,
        "",
    ):
        assert not compile_pattern({"f": [operand]}).matches({"g": 1}), operand


def test_prefix_empty_string_matches_any_string_only() -> None:
    pattern = compile_pattern({"source": [{"prefix": ""}]})
    assert pattern.matches({"source": "anything"})
    assert pattern.matches({"source": ""})
    assert not pattern.matches({"source": 5})
    assert not pattern.matches({"source": None})


# --- arrays in events -------------------------------------------------------------------


def test_event_array_matches_if_any_element_does() -> None:
    pattern = compile_pattern({"f": [{"numeric": [">", 10]}]})
    assert pattern.matches({"f": [1, 2, 30]})
    assert not pattern.matches({"f": [1, 2, 3]})
    assert pattern.matches({"f": [[1], [2, [30]]]})  # nested arrays are crushed


def test_exists_false_with_a_non_empty_array_of_values() -> None:
    assert not compile_pattern({"f": [{"exists": False}]}).matches({"f": ["x", None]})


def test_anything_but_on_an_array_needs_one_other_element() -> None:
    pattern = compile_pattern({"state": [{"anything-but": ["stopped"]}]})
    assert pattern.matches({"state": ["stopped", "running"]})
    assert not pattern.matches({"state": ["stopped", "stopped"]})


def test_array_of_objects_needs_one_element_matching_all_fields() -> None:
    pattern = compile_pattern(
        {
            "detail": {
                "findings": {
                    "Severity": {"Label": ["HIGH", "CRITICAL"]},
                    "Resources": {"Type": ["AwsS3Bucket"]},
                    "RecordState": ["ACTIVE"],
                }
            }
        }
    )
    finding = {
        "Severity": {"Label": "HIGH"},
        "Resources": [{"Type": "AwsIamRole"}, {"Type": "AwsS3Bucket"}],
        "RecordState": "ACTIVE",
    }
    assert pattern.matches({"detail": {"findings": [{"RecordState": "ARCHIVED"}, finding]}})
    # Each field satisfied by some finding, but never all by the same one.
    split = [{**finding, "RecordState": "ARCHIVED"}, {**finding, "Severity": {"Label": "LOW"}}]
    assert not pattern.matches({"detail": {"findings": split}})


def test_exists_false_inside_an_array_of_objects() -> None:
    pattern = compile_pattern({"items": {"deleted": [{"exists": False}]}})
    assert pattern.matches({"items": [{"deleted": True}, {"name": "kept"}]})
    assert not pattern.matches({"items": [{"deleted": True}]})
    assert pattern.matches({"items": []})
    assert pattern.matches({"items": ["scalar"]})


def test_object_pattern_against_a_scalar_or_scalar_array_is_absent() -> None:
    pattern = compile_pattern({"a": {"b": ["x"]}})
    assert not pattern.matches({"a": "x"})
    assert not pattern.matches({"a": ["x"]})


def test_dotted_keys_are_not_paths() -> None:
    # event-ruler joins "a.b" and {"a": {"b"}} but documents it as unreliable; Parry keeps them apart.
    assert not compile_pattern({"a": {"b": ["x"]}}).matches({"a.b": "x"})
    assert compile_pattern({"a.b": ["x"]}).matches({"a.b": "x"})


# --- numeric ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeric", "inside", "outside"),
    [
        (["=", 5], [5, 5.0], [4.999, 5.001, "5"]),
        (["<", 5], [4.999, -5e9], [5, 6]),
        (["<=", 5], [5, -1], [5.001]),
        ([">", 5], [5.001, 5e9], [5, 4]),
        ([">=", 5], [5, 6], [4.999]),
        ([">", 0, "<", 1], [0.5], [0, 1]),
        ([">", 0, "<=", 1], [1, 0.001], [0, 1.001]),
        ([">=", 0, "<", 1], [0, 0.999], [1, -0.001]),
        ([">=", 0, "<=", 1], [0, 1], [-0.001, 1.001]),
        ([">=", -5e9, "<=", 5e9], [-5e9, 0, 5e9], [-5.000001e9, 5.000001e9, True]),
    ],
)
def test_numeric_bounds(numeric: list[Any], inside: list[Any], outside: list[Any]) -> None:
    pattern = compile_pattern({"n": [{"numeric": numeric}]})
    assert all(pattern.matches({"n": v}) for v in inside)
    assert not any(pattern.matches({"n": v}) for v in outside)


@pytest.mark.parametrize(
    ("numeric", "reason"),
    [
        (5, "Value of numeric must be an array."),
        ([5], "Invalid member in numeric match: 5"),
        (["!=", 5], "Unrecognized numeric range operator: !="),
        (["=", "5"], "Value of equals must be numeric"),
        (["=", True], "Value of equals must be numeric"),
        ([">"], "Value of > must be numeric"),
        (["<", 5, ">", 1], "Too many elements in numeric expression"),
        (["=", 5, "<", 6], "Too many elements in numeric expression"),
        ([">", 0, 5, 6], "Bad value in numeric range: 5"),
        ([">", 0, ">=", 6], "Bad numeric range operator: >="),
        ([">", 0, "<", 10, 20], "Too many terms in numeric range expression"),
        ([">", 5, "<", 5], "Bottom must be less than top"),
        ([">", 6, "<=", 5], "Bottom must be less than top"),
        ([">", 6e9], "Value must be between -5.0E9 and 5.0E9, inclusive"),
        ([">", 0, "<", 6e9], "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ],
)
def test_numeric_refusals(numeric: Any, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern({"detail": {"severity": [{"numeric": numeric}]}})
    assert str(caught.value) == f"detail.severity: {reason}"


def test_anything_but_number_out_of_range_is_refused() -> None:
    with pytest.raises(PatternError, match="f: Value must be between"):
        compile_pattern({"f": [{"anything-but": [1, 6e9]}]})


# --- cidr ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "inside", "outside"),
    [
        ("10.0.0.0/24", ["10.0.0.0", "10.0.0.255"], ["10.0.1.0", "9.255.255.255", "::a00:1", "10.0.0.0/24"]),
        ("10.0.0.7/24", ["10.0.0.0", "10.0.0.1", "10.0.0.255"], ["10.0.1.0"]),  # floored to the network
        ("0.0.0.0/0", ["0.0.0.0", "255.255.255.255"], ["::1", "256.0.0.1", "1.2.3", "host.example.com", 0]),
        (
            "2001:db8::/32",
            ["2001:db8::", "2001:DB8:ffff::1", "2001:0db8:0000:0000:0000:0000:0000:0001"],
            ["2001:db9::", "10.0.0.1", "2001:db8::1%eth0"],
        ),
        ("::/0", ["::", "::1", "ffff::1"], ["10.0.0.1"]),
        ("192.168.1.0/31", ["192.168.1.0", "192.168.1.1"], ["192.168.1.2"]),
    ],
)
def test_cidr(cidr: str, inside: list[Any], outside: list[Any]) -> None:
    pattern = compile_pattern({"ip": [{"cidr": cidr}]})
    assert all(pattern.matches({"ip": v}) for v in inside)
    assert not any(pattern.matches({"ip": v}) for v in outside)


@pytest.mark.parametrize(
    ("cidr", "reason"),
    [
        ("10.0.0.1/32", "IPv4 mask bits must be < 32"),
        ("2001:db8::1/128", "IPv6 mask bits must be < 128"),
        ("10.0.0.0/-1", "Malformed CIDR, mask bits must not be negative"),
        ("10.0.0.0/8/8", "Malformed CIDR, one '/' required"),
        ("10.0.0.0/ 8", "Malformed CIDR, mask bits must be an integer"),
        ("256.0.0.0/8", "Invalid IP address: 256.0.0.0"),
        ("10.0.0/8", "Nonstandard IP address: 10.0.0"),
        ("2001:db8:::1/64", "Invalid IP address: 2001:db8:::1"),
    ],
)
def test_cidr_refusals(cidr: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern({"ip": [{"cidr": cidr}]})
    assert str(caught.value) == f"ip: {reason}"


# --- wildcard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wildcard", "inside", "outside"),
    [
        ("*", ["", "anything", "multi\nline"], [1, None]),
        ("*.png", [".png", "a.png", "dir/a.png"], ["a.png.txt", "a.PNG"]),
        ("a*b*c", ["abc", "aXbYc", "abbc"], ["ab", "acb"]),
        ("a\\*", ["a*"], ["a", "ab"]),
        ("a\\\\*", ["a\\", "a\\zz"], ["a", "az"]),
        ("\\**", ["*", "*xyz"], ["x*"]),
        ("a.c", ["a.c"], ["abc"]),  # regex metacharacters are literal
        ("(x)+[y]", ["(x)+[y]"], ["xy"]),
        ("no stars", ["no stars"], ["no stars!"]),
    ],
)
def test_wildcard(wildcard: str, inside: list[Any], outside: list[Any]) -> None:
    pattern = compile_pattern({"f": [{"wildcard": wildcard}]})
    assert all(pattern.matches({"f": v}) for v in inside)
    assert not any(pattern.matches({"f": v}) for v in outside)


@pytest.mark.parametrize(
    ("wildcard", "reason"),
    [
        ("a**", "Consecutive wildcard characters at pos 2"),
        ("é**", "Consecutive wildcard characters at pos 3"),  # positions count UTF-8 bytes
        ("a\\b", "Invalid escape character at pos 2"),
        ("trailing\\", "Invalid escape character at pos 9"),
        (
            "*a*b*c*d*e*",
            "Rule is too complex - try using fewer wildcard characters or fewer repeating "
            "character sequences after a wildcard character",
        ),
    ],
)
def test_wildcard_refusals(wildcard: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern({"f": [{"wildcard": wildcard}]})
    assert str(caught.value) == f"f: {reason}"
    with pytest.raises(PatternError):
        compile_pattern({"f": [{"anything-but": {"wildcard": [wildcard]}}]})


def test_wildcard_with_five_stars_is_accepted() -> None:
    assert compile_pattern({"f": [{"wildcard": "*a*b*c*d*"}]}).matches({"f": "xaybzcwdv"})


# --- case-insensitive and anything-but ------------------------------------------------


def test_equals_ignore_case_only_on_strings() -> None:
    pattern = compile_pattern({"f": [{"equals-ignore-case": "TRUE"}]})
    assert pattern.matches({"f": "true"})
    assert not pattern.matches({"f": True})


@pytest.mark.parametrize(
    ("operand", "inside", "outside"),
    [
        ({"anything-but": "x"}, ["y", 1, None, True], ["x"]),
        ({"anything-but": 5}, [6, "5", None, False], [5, 5.0]),
        ({"anything-but": ["a", "b"]}, ["c", 1, None], ["a", "b"]),
        ({"anything-but": [1, 2]}, [3, "1", True], [1, 2.0]),
        ({"anything-but": {"prefix": ["us-", "eu-"]}}, ["ap-south-1", 5], ["us-east-1", "eu-west-1"]),
        ({"anything-but": {"suffix": ".png"}}, ["a.jpg", None], ["a.png"]),
        ({"anything-but": {"equals-ignore-case": "x"}}, ["y", 1], ["X", "x"]),
        ({"anything-but": {"equals-ignore-case": []}}, ["y", 1], []),
        ({"anything-but": {"wildcard": "*/lib/*"}}, ["/usr/bin", 1], ["/usr/lib/x"]),
    ],
)
def test_anything_but(operand: dict[str, Any], inside: list[Any], outside: list[Any]) -> None:
    pattern = compile_pattern({"f": [operand]})
    assert all(pattern.matches({"f": v}) for v in inside)
    assert not any(pattern.matches({"f": v}) for v in outside)


@pytest.mark.parametrize(
    ("operand", "reason"),
    [
        ({"anything-but": None}, "Value of anything-but must be an array or single string/number value."),
        ({"anything-but": True}, "Value of anything-but must be an array or single string/number value."),
        (
            {"anything-but": []},
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        (
            {"anything-but": ["a", 1]},
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
        ({"anything-but": [True]}, "Inside anything but list, start|null|boolean is not supported."),
        ({"anything-but": {}}, "Anything-But expression name not found"),
        ({"anything-but": {"numeric": [">", 1]}}, "Unsupported anything-but pattern: numeric"),
        ({"anything-but": {"prefix": "a", "suffix": "b"}}, "Only one key allowed in match expression"),
        ({"anything-but": {"suffix": [""]}}, "Null prefix/suffix not allowed"),
        (
            {"anything-but": {"equals-ignore-case": None}},
            "Value of anything-but must be an array or single string/number value.",
        ),
    ],
)
def test_anything_but_refusals(operand: dict[str, Any], reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern({"f": [operand]})
    assert str(caught.value) == f"f: {reason}"


# --- other refusals, with the path they name ----------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"detail": {"severity": [[1]]}}, "detail.severity: Match value must be String, number, true, false, or null"),
        ({"detail": {"severity": [{}]}}, "detail.severity: Match expression name not found"),
        ({"f": [{"prefix": "a", "suffix": "b"}]}, "f: Only one key allowed in match expression"),
        ({"f": [{"exactly": "a"}]}, "f: Unrecognized match type exactly"),
        ({"f": [{"exists": "true"}]}, "f: exists match pattern must be either true or false."),
        ({"f": [{"exists": 1}]}, "f: exists match pattern must be either true or false."),
        ({"f": [{"prefix": {"wildcard": "a*"}}]}, "f: Unsupported prefix pattern: wildcard"),
        ({"f": [{"suffix": {}}]}, "f: Suffix expression name not found"),
        ({"f": [{"prefix": {"equals-ignore-case": 1}}]}, "f: equals-ignore-case match pattern must be a string"),
        ({"f": [{"prefix": {"equals-ignore-case": "a", "x": "b"}}]}, "f: Only one key allowed in match expression"),
        ({"a": {"b": {"c": ("x",)}}}, 'a.b.c: "c" must be an object or an array'),
        ({"$or": {"a": ["x"]}}, "$or: It must be an Array followed with $or."),
        ({"$or": [{"a": ["x"]}]}, "$or: There must have at least 2 Objects in $or relationship."),
        ({"$or": [{"a": ["x"]}, ["b"]]}, "$or: Only JSON object is allowed in array of $or relationship."),
        ({"$or": [{"a": ["x"]}, {}]}, "$or[1]: Empty objects are not allowed"),
        (
            {"detail": {"$or": [{"a": ["x"]}, {"b": {"prefix": ["y"]}}]}},
            "detail.$or[1].b.prefix: prefix is a reserved word and cannot be a field name inside $or",
        ),
        (
            {"detail": {"$or": [{"a": ["x"]}, {"b": [{"numeric": [">", "1"]}]}]}},
            "detail.$or[1].b: Value of > must be numeric",
        ),
        ({1: ["x"]}, "(pattern): field names must be strings, not 1"),
    ],
)
def test_refusal_names_the_path(pattern: dict[Any, Any], message: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern)
    assert str(caught.value) == message


def test_reserved_words_are_ordinary_fields_outside_or() -> None:
    assert compile_pattern({"detail": {"prefix": ["x"]}}).matches({"detail": {"prefix": "x"}})


# --- $or --------------------------------------------------------------------------


def test_or_branches_can_use_exists_false() -> None:
    pattern = compile_pattern(
        {"source": ["aws.s3"], "$or": [{"detail": {"tag": [{"exists": False}]}}, {"detail": {"tag": ["keep"]}}]}
    )
    assert pattern.matches({"source": "aws.s3", "detail": {}})
    assert pattern.matches({"source": "aws.s3", "detail": {"tag": "keep"}})
    assert not pattern.matches({"source": "aws.s3", "detail": {"tag": "drop"}})
    assert not pattern.matches({"source": "aws.ec2"})


def test_or_inside_an_array_of_objects_stays_within_one_element() -> None:
    pattern = compile_pattern({"findings": {"$or": [{"Severity": ["HIGH"]}, {"Critical": [True]}], "Status": ["NEW"]}})
    assert pattern.matches({"findings": [{"Severity": "HIGH", "Status": "NEW"}]})
    assert pattern.matches({"findings": [{"Critical": True, "Status": "NEW"}]})
    assert not pattern.matches({"findings": [{"Severity": "HIGH"}, {"Status": "NEW"}]})


# --- a realistic playbook trigger ---------------------------------------------------------


def test_guardduty_trigger() -> None:
    pattern = compile_pattern(
        {
            "source": ["aws.guardduty"],
            "detail-type": ["GuardDuty Finding"],
            "detail": {
                "type": [{"prefix": "UnauthorizedAccess:IAMUser/"}, {"wildcard": "*CredentialExfiltration*"}],
                "severity": [{"numeric": [">=", 7, "<=", 8.9]}],
                "resource": {"accessKeyDetails": {"userName": [{"anything-but": ["break-glass"]}]}},
                "service": {
                    "action": {
                        "awsApiCallAction": {"remoteIpDetails": {"ipAddressV4": [{"anything-but": {"prefix": "10."}}]}}
                    }
                },
            },
        }
    )
    assert pattern.matches(GUARDDUTY)
    low = json.loads(json.dumps(GUARDDUTY))
    low["detail"]["severity"] = 5
    assert not pattern.matches(low)
    break_glass = json.loads(json.dumps(GUARDDUTY))
    break_glass["detail"]["resource"]["accessKeyDetails"]["userName"] = "break-glass"
    assert not pattern.matches(break_glass)


@pytest.mark.parametrize("failing", ["a", "b", "c", "d", "e"])
def test_every_field_of_a_wide_object_counts(failing: str) -> None:
    pattern = compile_pattern({key: [key] for key in "abcde"})
    event = {key: key for key in "abcde"}
    assert pattern.matches(event)
    assert not pattern.matches({**event, failing: "other"})

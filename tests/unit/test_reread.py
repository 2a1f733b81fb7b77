"""How every re-read names a difference between a delivered event and its service's copy."""

from __future__ import annotations

from parry.routing.reread import differ, shown


def test_a_value_is_named_as_written_and_a_missing_one_as_absent():
    assert shown("AKIA1") == "'AKIA1'"
    assert shown(7) == "7" and shown(True) == "True"
    assert shown(None) == "absent"
    assert shown("x" * 500) == repr("x" * 500)[:200]


def test_a_delivered_object_is_shown_by_its_contents_bounded():
    assert shown({"AWS": "*"}) == "{'AWS': '*'}"
    assert len(shown([list(range(1000))] * 1000)) <= 200


def test_a_deeply_nested_value_is_shown_without_recursing_away():
    nested: list = []
    for _ in range(100_000):
        nested = [nested]

    assert shown(nested).startswith("[[[")


def test_a_difference_names_its_path_both_values_and_who_holds_the_copy():
    assert differ("detail.userName", "admin", "user2", "CloudTrail") == [
        "detail.userName is 'admin' in the event, 'user2' in CloudTrail"
    ]
    assert differ("region", "us-east-1", "us-east-1", "the service") == []


def test_objects_are_compared_key_by_key_and_named_at_the_key_that_differs():
    delivered = {"userName": "admin", "extra": 1, "same": {"a": 1}}
    held = {"userName": "user2", "same": {"a": 1}, "added": "x"}

    assert differ("detail.requestParameters", delivered, held, "CloudTrail") == [
        "detail.requestParameters.userName is 'admin' in the event, 'user2' in CloudTrail",
        "detail.requestParameters.extra is 1 in the event, absent in CloudTrail",
        "detail.requestParameters.added is absent in the event, 'x' in CloudTrail",
    ]


def test_a_difference_deeper_than_four_levels_is_named_at_the_fourth():
    delivered = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    held = {"a": {"b": {"c": {"d": {"e": 2}}}}}

    assert differ("x", delivered, held, "CloudTrail") == ["x.a.b.c.d is {'e': 1} in the event, {'e': 2} in CloudTrail"]

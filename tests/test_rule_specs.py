"""Every rule's YAML tests, run through panther_core with this pack's data model and with none
(a scheduled rule's, which judge query rows, with none).

`pat test` runs each test once, with whatever data model is enabled (ours ships disabled). Here
each test runs both ways, and every alert function must give the same output: no rule's result
may depend on which data model a Panther instance has enabled.
"""

import pytest

from compute_abuse.content import (
    function_errors,
    load_data_model,
    load_rule,
    run_rule,
    specs_of_type,
)

RULE_SPECS = specs_of_type("rule") + specs_of_type("scheduled_rule")
DATA_MODELS = specs_of_type("datamodel")


def rule_tests():
    for spec in RULE_SPECS:
        for test in spec.body.get("Tests", []):
            yield pytest.param(spec, test, id=f"{spec.analysis_id}: {test['Name']}")


def outputs(result):
    return {
        "alert": result.trigger_alert,
        "title": result.title_output,
        "dedup": result.dedup_output,
        "severity": result.severity_output,
        "alert_context": result.alert_context_output,
    }


@pytest.fixture(scope="module")
def data_model():
    assert len(DATA_MODELS) == 1, "one data model for AWS.CloudTrail"
    return load_data_model(DATA_MODELS[0])


KV_FUNCTIONS = ("get_string_set", "add_to_string_set", "remove_from_string_set")


@pytest.mark.parametrize("spec, test", list(rule_tests()))
def test_rule_gives_same_result_with_and_without_data_model(spec, test, data_model):
    rule = load_rule(spec)
    mocks = test.get("Mocks") or []
    # A KV function the test does not mock must not be called: under `pat test` it would reach
    # for a real DynamoDB table.
    unmocked_calls = []
    mocked = {mock["objectName"] for mock in mocks}
    patches = {
        name: lambda *args, _name=name, **kwargs: unmocked_calls.append(_name)
        for name in KV_FUNCTIONS
        if name not in mocked
    }
    without = run_rule(rule, test["Log"], None, mocks, patches)
    model = data_model if spec.analysis_type == "rule" else None  # rows have no log type
    with_model = run_rule(rule, test["Log"], model, mocks, patches)
    assert unmocked_calls == []
    assert function_errors(without) == {}
    assert function_errors(with_model) == {}
    assert without.trigger_alert is test["ExpectedResult"]
    assert outputs(with_model) == outputs(without)
    if without.trigger_alert:
        assert without.title_output and without.dedup_output and without.alert_context_output


def test_data_model_is_disabled_so_it_never_displaces_panthers():
    assert [spec.body["Enabled"] for spec in DATA_MODELS] == [False]


def test_data_model_fields_read_launch_events(data_model):
    from panther_core.enriched_event import PantherEvent

    from compute_abuse.events import run_instances

    event = PantherEvent(run_instances("g5.12xlarge", 2, 2), data_model)
    assert event.udm("instance_types") == ["g5.12xlarge"]
    assert event.udm("instance_count") == 2
    assert event.udm("vcpus") == 96
    assert event.udm("accelerator_count") == 8
    assert event.udm("launch_outcome") == "success"
    assert event.udm("actor_user") == "alice"
    assert event.udm("source_ip") == "198.51.100.23"

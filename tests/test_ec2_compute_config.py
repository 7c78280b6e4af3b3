"""The configuration module: defaults, and parsing of the strings test mocks return."""

import pytest

import ec2_compute_config as config
from ec2_instance_catalog import ACCELERATED_FAMILIES


@pytest.mark.parametrize(
    "value, expected",
    [
        (["p2.xlarge", "g5"], ["p2.xlarge", "g5"]),
        ("p2.xlarge,g5.8xlarge", ["p2.xlarge", "g5.8xlarge"]),
        ("p2.xlarge, g5.8xlarge\ninf2", ["p2.xlarge", "g5.8xlarge", "inf2"]),
        ('["p2.xlarge", "g5"]', ["p2.xlarge", "g5"]),
        ("[p2.xlarge, g5]", ["p2.xlarge", "g5"]),  # not JSON: still a list
        ("p2.xlarge", ["p2.xlarge"]),
        ("", []),
        (None, []),
        (True, []),  # a bool mock is not a list
        (("a", 3, None, " b "), ["a", "b"]),
        (7, []),
    ],
)
def test_as_list(value, expected):
    assert config.as_list(value) == expected


def test_default_unusual_types_are_every_accelerated_family():
    assert set(config.unusual_instance_types()) == set(ACCELERATED_FAMILIES)


def test_extra_and_usual_types_are_applied(monkeypatch):
    monkeypatch.setattr(config, "EXTRA_UNUSUAL_INSTANCE_TYPES", ["c7i.48xlarge"])
    monkeypatch.setattr(config, "USUAL_INSTANCE_TYPES", ["g4dn.xlarge"])
    assert "c7i.48xlarge" in config.unusual_instance_types()
    assert config.usual_instance_types() == ["g4dn.xlarge"]


def test_config_functions_return_copies():
    config.allowlisted_principal_arns().append("arn:aws:iam::1:user/x")
    assert config.allowlisted_principal_arns() == config.ALLOWLISTED_PRINCIPAL_ARNS

"""How the content is laid out, so Panther loads it the way the tests do."""

from compute_abuse.content import load_specs, specs_of_type


def test_global_helper_files_are_named_by_global_id():
    # Tests import helpers from global_helpers/ by module name; Panther imports them by GlobalID.
    for spec in specs_of_type("global"):
        assert spec.python_path.stem == spec.analysis_id


def test_every_python_file_named_by_a_spec_exists():
    for spec in load_specs():
        if spec.python_path:
            assert spec.python_path.is_file(), spec.path


def test_the_pack_lists_every_item_of_the_repo():
    (pack,) = specs_of_type("pack")
    items = {spec.analysis_id for spec in load_specs() if spec.analysis_type != "pack"}
    assert set(pack.body["PackDefinition"]["IDs"]) == items

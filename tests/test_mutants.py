"""The mutation tool makes the mutants it promises, one change each, and picks guarding tests."""

import ast

from compute_abuse import mutants


def test_each_mutant_changes_one_thing_of_its_file():
    found = mutants.mutants()
    threshold = [m for m in found if "HIGH_INSTANCE_COUNT_THRESHOLD 10 to 20" in m.label()]
    assert len(threshold) == 1
    comparison = next(m for m in found if m.path.endswith("region_spread.py") and m.how != "double")
    source = (mutants.REPO_ROOT / comparison.path).read_text()
    mutated = mutants._mutated_source(source, comparison)
    before = ast.dump(ast.parse(source))
    after = ast.dump(ast.parse(mutated))
    assert before != after
    assert ast.dump(ast.parse(mutants._mutated_source(source, comparison))) == after  # stable


def test_a_setting_is_guarded_by_the_rules_that_read_it():
    (mutant,) = [m for m in mutants.mutants() if "REGION_SPREAD_MIN_REGIONS 3 to 6" in m.label()]
    modules, specs = mutant.tests  # the config's own tests first
    assert "RegionSpread" in specs[-1]
    assert "tests/test_probing_rules.py" in modules
    assert not any("test_conventions" in argument for argument in modules)


def test_a_helper_module_is_guarded_by_its_own_tests_too():
    """The window module's own tests (tests/test_ec2_compute_windows.py names no rule) run for
    its mutants, and the config's for the config's."""
    found = mutants.mutants()
    window = next(m for m in found if m.path == mutants.WINDOWS)
    setting = next(m for m in found if m.path == mutants.CONFIG)
    assert window.tests[0][0] == "tests/test_ec2_compute_windows.py"  # first: quick, and -x
    assert setting.tests[0][0] == "tests/test_ec2_compute_config.py"

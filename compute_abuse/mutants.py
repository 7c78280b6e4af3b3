"""Mutation check: do the tests fail when a rule's threshold or comparison changes?

    python -m compute_abuse.mutants [--jobs N] [--only TEXT] [--list]

Mutants (one change each, made on the syntax tree):
- every comparison in `rules/` and in the window module: `<` and `<=`, `>` and `>=` swapped,
  `==` and `!=` swapped (an off-by-one at a threshold, a test turned around);
- every number of 2 or more in `rules/` doubled (a threshold or limit moved);
- every numeric setting of `global_helpers/ec2_compute_config.py` doubled and halved.

Each mutant runs the tests that guard its file, in a copy of the repository made once per job,
so the working copy is never touched: for a rule, its YAML tests (`tests/test_rule_specs.py`, as
`pat test` runs them) and every test module that names it; for a setting, those of the rules that
read it; for the window module, those of every windowed rule. Tests that only compare generated
files with their generator (queries, docs, catalog, sample) are left out: a moved setting makes
them fail without saying anything about behaviour. A mutant the tests do not catch survives and
is listed; the exit status is 1 when any does. README lists the survivors of the last run.
"""

import argparse
import ast
import os
import re
import shutil
import subprocess  # nosec B404: runs our own interpreter on our own tests
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

from compute_abuse import REPO_ROOT
from compute_abuse.content import specs_of_type

WINDOWS = "global_helpers/ec2_compute_windows.py"
CONFIG = "global_helpers/ec2_compute_config.py"
WINDOWS_MODULE, CONFIG_MODULE = Path(WINDOWS).stem, Path(CONFIG).stem
SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
SWAPS |= {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
# Modules that test no behaviour a mutant changes (layout, packaging, tooling) or that would take
# minutes per mutant (the concurrency harness, property fuzzing: they check that nothing raises).
NOT_GUARDS = {
    "test_bench.py",
    "test_content_layout.py",
    "test_mutants.py",  # the tool's own tests: they name the helpers, they do not guard them
    "test_conventions.py",
    "test_export.py",
    "test_parallel.py",
    "test_properties.py",
    "test_replay.py",  # the CLI end to end, a minute a run; each rule's own modules guard it
    "test_scaffold.py",
    "test_upload.py",
    "test_upload_archive.py",
}
GENERATED_FILE_TESTS = (
    "tests/test_queries.py::test_committed_queries_are_what_the_generator_produces",
    "tests/test_catalog.py::test_committed_catalog_is_what_the_generator_produces",
)
TIMEOUT_SECONDS = 600
COPIED = ("rules", "global_helpers", "data_models", "queries", "packs", "samples", "docs")
COPIED += ("compute_abuse", "tests", "pyproject.toml", ".panther_settings.yml")


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository
    index: int  # which candidate node of the file, in ast.walk order
    how: str  # "op<N>" (the Nth operator of a comparison swapped), "double" or "halve"
    line: int
    change: str  # e.g. "> to >=", "800 to 1600"
    tests: tuple[tuple[str, ...], ...]  # pytest runs (their arguments) that guard it

    def label(self) -> str:
        return f"{self.path}:{self.line} {self.change}"


def _candidates(tree: ast.AST, path: str) -> list[tuple[ast.AST, str]]:
    """The nodes of a file a mutant may change, in a stable order, with the kind of change."""
    found = []
    if path == CONFIG:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and isinstance(node.value, ast.Constant | ast.BinOp)
                and isinstance(_number(node.value), int)
            ):
                found += [(node, "double"), (node, "halve")]
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            found += [(node, f"op{i}") for i, op in enumerate(node.ops) if type(op) in SWAPS]
        elif path.startswith("rules/") and _is_number(node) and node.value >= 2:
            found.append((node, "double"))
    return found


def _is_number(node) -> bool:
    value = getattr(node, "value", None)
    return isinstance(node, ast.Constant) and type(value) in (int, float)


def _number(node):
    """The int a setting's expression comes to (a literal, or literals multiplied or added, such
    as `8 * 3600`); None for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if type(node.value) is int else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Add):
        left, right = _number(node.left), _number(node.right)
        if left is not None and right is not None:
            return left * right if isinstance(node.op, ast.Mult) else left + right
    return None


def _apply(tree: ast.AST, node: ast.AST, how: str) -> str:
    """Change `node` in place; what changed, for the report."""
    if how.startswith("op"):
        index = int(how[2:])
        old = type(node.ops[index])
        node.ops[index] = SWAPS[old]()
        return f"{SYMBOLS[old]} to {SYMBOLS[SWAPS[old]]}"
    if isinstance(node, ast.Assign | ast.AnnAssign):
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        value = _number(node.value)
        new = value * 2 if how == "double" else value // 2
        node.value = ast.Constant(new)
        return f"{ast.unparse(target)} {value} to {new}"
    old = node.value
    node.value = old * 2
    return f"{old!r} to {node.value!r}"


def _mutate(source: str, path: str, index: int) -> tuple[ast.AST, str]:
    """The file's syntax tree with its `index`th candidate changed, and what changed."""
    tree = ast.parse(source)
    node, how = _candidates(tree, path)[index]
    return tree, _apply(tree, node, how)


def _mentions(text: str, names: set[str]) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", text) for name in names)


class _Repo:
    """What choosing a mutant's guards reads, read once: the rule modules and the test modules."""

    def __init__(self, root: Path):
        specs = specs_of_type("rule", root) + specs_of_type("scheduled_rule", root)
        # RuleID -> (path relative to the repository, module stem, source)
        self.rules = {
            s.analysis_id: (
                str(s.python_path.relative_to(root)),
                s.python_path.stem,
                s.python_path.read_text(encoding="utf-8"),
            )
            for s in specs
        }
        self.tests = {
            f"tests/{path.name}": path.read_text(encoding="utf-8")
            for path in sorted((root / "tests").glob("test_*.py"))
            if path.name not in NOT_GUARDS and path.name != "test_rule_specs.py"
        }

    def rules_reading(self, names: set[str]) -> dict[str, str]:
        """RuleID -> module stem, for the rule modules that mention any of `names`."""
        return {i: stem for i, (_, stem, text) in self.rules.items() if _mentions(text, names)}

    def rule_at(self, path: str) -> dict[str, str]:
        """RuleID -> module stem of the rule module at `path`."""
        return {i: stem for i, (where, stem, _) in self.rules.items() if where == path}


def _guards(repo: _Repo, rules: dict[str, str], module: str = "") -> tuple[tuple[str, ...], ...]:
    """Two pytest runs: the rules' YAML tests, and every test module naming one of them (or the
    helper `module` mutated: its own tests)."""
    short = {rule_id.rsplit(".", 1)[1] for rule_id in rules}
    words = short | set(rules.values()) | ({module} if module else set())
    modules = [name for name, text in repo.tests.items() if _mentions(text, words)]
    # The helper's own tests first: they are quick and most likely to kill its mutant (pytest -x).
    modules.sort(key=lambda name: not (module and _mentions(repo.tests[name], {module})))
    # -k takes words: a rule's short name picks its YAML tests (ids "ComputeAbuse.AWS.EC2.X: ...").
    selected = " or ".join(sorted(short))
    deselected = tuple(f"--deselect={test}" for test in GENERATED_FILE_TESTS)
    runs = [("tests/test_rule_specs.py", "-k", f"same_result and ({selected})")] if selected else []
    runs += [(*modules, *deselected)] if modules else []
    return tuple(reversed(runs)) if module else tuple(runs)  # a helper's own tests first


def _settings_read_by(config: ast.Module, setting: str) -> set[str]:
    """The setting and the config getters that return it (rules call getters)."""
    return {
        node.name
        for node in config.body
        if isinstance(node, ast.FunctionDef)
        and setting in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    } | {setting}


def mutants(root: Path = REPO_ROOT) -> list[Mutant]:
    repo = _Repo(root)
    files = sorted(str(p.relative_to(root)) for p in (root / "rules").rglob("*.py"))
    found = []
    for path in [*files, WINDOWS, CONFIG]:
        source = (root / path).read_text()
        tree = ast.parse(source)
        if path == WINDOWS:
            guards = _guards(repo, repo.rules_reading({WINDOWS_MODULE}), WINDOWS_MODULE)
        elif path.startswith("rules/"):
            guards = _guards(repo, repo.rule_at(path))
        for index, (node, how) in enumerate(_candidates(tree, path)):
            if path == CONFIG:
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                readers = repo.rules_reading(_settings_read_by(tree, ast.unparse(target)))
                if not readers:
                    continue  # a setting no rule reads (the tooling's, or a helper's alone)
                guards = _guards(repo, readers, CONFIG_MODULE)
            change = _mutate(source, path, index)[1]
            found.append(Mutant(path, index, how, node.lineno, change, guards))
    return found


def _mutated_source(source: str, mutant: Mutant) -> str:
    return ast.unparse(_mutate(source, mutant.path, mutant.index)[0])


def _copy(root: Path, into: Path) -> Path:
    for name in COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, into / name)
    return into


def _pytest(copy: Path, runs: tuple[tuple[str, ...], ...]) -> tuple[bool, str]:
    """(whether the tests passed, why not) in the copy."""
    for arguments in runs:
        passed, why = _pytest_run(copy, arguments)
        if not passed:
            return passed, why
    return True, ""


def _pytest_run(copy: Path, arguments: tuple[str, ...]) -> tuple[bool, str]:
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *arguments]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(  # nosec B603: sys.executable and fixed arguments
            command,
            cwd=copy,
            check=False,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=environment,
        )
    except subprocess.TimeoutExpired:
        return False, "timeout"
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    why = failed[0] if failed else (done.stdout + done.stderr).strip()[-300:]
    return done.returncode == 0, why


@contextmanager
def _borrowed(copies: Queue):
    """One job's copy of the repository, given back when the job is done with it."""
    copy = copies.get()
    try:
        yield copy
    finally:
        copies.put(copy)


def run(root: Path, selected: list[Mutant], jobs: int, echo=print) -> list[Mutant]:
    """The survivors. Each job owns one copy; a mutant's file is restored after its run."""
    with tempfile.TemporaryDirectory(prefix="mutants-") as temporary:
        copies: Queue[Path] = Queue()
        for job in range(jobs):
            copies.put(_copy(root, Path(temporary) / f"job{job}"))
        baseline = {m.tests for m in selected}

        def check_baseline(arguments):
            with _borrowed(copies) as copy:
                return arguments, _pytest(copy, arguments)

        with ThreadPoolExecutor(jobs) as pool:
            for arguments, (passed, why) in pool.map(check_baseline, baseline):
                if not passed:
                    raise SystemExit(f"the unmutated tests fail ({why}): {arguments}")

        def check(mutant: Mutant):
            with _borrowed(copies) as copy:
                target = copy / mutant.path
                original = target.read_text()
                try:
                    target.write_text(_mutated_source(original, mutant))
                    passed, why = _pytest(copy, mutant.tests)
                finally:
                    target.write_text(original)
            return mutant, passed, why

        survivors = []
        with ThreadPoolExecutor(jobs) as pool:
            for number, (mutant, passed, why) in enumerate(pool.map(check, selected), 1):
                verdict = "SURVIVED" if passed else f"killed ({why[:90]})"
                echo(f"[{number}/{len(selected)}] {mutant.label()}: {verdict}")
                if passed:
                    survivors.append(mutant)
        return survivors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compute_abuse.mutants", description=__doc__)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="", help="mutants whose file:line label contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    options = parser.parse_args(argv)
    selected = [m for m in mutants(REPO_ROOT) if options.only in m.label()]
    if options.list:
        for mutant in selected:
            print(mutant.label())
        print(f"{len(selected)} mutant(s)")
        return 0
    started = time.monotonic()
    survivors = run(REPO_ROOT, selected, max(1, options.jobs))
    minutes = (time.monotonic() - started) / 60
    print(f"\n{len(selected)} mutant(s), {len(survivors)} survived, {minutes:.1f} min")
    for mutant in survivors:
        line = (REPO_ROOT / mutant.path).read_text().splitlines()[mutant.line - 1].strip()
        print(f"  {mutant.label()}    {line}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())

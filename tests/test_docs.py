"""The README says what is true: its code table, its commands, its example output."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import oracle
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from conv_lint.codes import CODES, DOCS_URL
from conv_lint.engine import analyse
from conv_lint.plugin import ConvLintPlugin, option_name
from conv_lint.rules import RULES
from conv_lint.rules.base import Options

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
CI_RUN = ROOT / ".ci" / "run"
TRY_COMMAND = "python -m pip install . && flake8 --select CNV fixtures/"
TEST_COMMAND = "python -m pip install -e '.[test]' && python -m pytest"


def blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.DOTALL | re.M)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def test_codes_section_is_the_code_table():
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section("What it checks").splitlines() if line.startswith("| CNV")]
    assert rows == [[code.code, code.name, code.summary] for code in CODES.values()]


def test_readme_opens_with_the_two_commands():
    intro = README.split("\n## ", 1)[0]
    assert intro.startswith("# conv-lint\n\n")
    assert blocks(intro) == [("sh", TRY_COMMAND + "\n"), ("sh", TEST_COMMAND + "\n")]
    assert blocks(README)[:2] == blocks(intro)


def test_ci_runs_exactly_the_readme_test_command_in_a_fresh_venv():
    script = CI_RUN.read_text()
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert CI_RUN.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"
    commands = [line.strip() for line in script.splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands.count(TEST_COMMAND) == 1
    assert any("-m venv" in line and ".venv" in line for line in commands)
    assert subprocess.run(["bash", "-n", str(CI_RUN)]).returncode == 0


def test_test_extra_pins_torch():
    pyproject = (ROOT / "pyproject.toml").read_text()
    test_extra = re.search(r"^test = \[(.*?)\]", pyproject, re.M)
    assert test_extra and '"torch==2.13.0"' in test_extra.group(1)


# --- the `conv-lint explain` example -----------------------------------------------------------

def explain_example() -> tuple[str, str]:
    """The example model (python block) and the output the README shows for it (text block)."""
    example = section("`conv-lint explain`")
    (model,) = [body for language, body in blocks(example) if language == "python"]
    output = [body for language, body in blocks(example) if language == "text"][0]
    assert "`conv-lint explain lenet.py` prints:" in example
    return model, output


def test_explain_example_shows_what_torch_computes(tmp_path):
    model_source, output = explain_example()
    path = tmp_path / "lenet.py"
    path.write_text(model_source)
    module = oracle.load_fixture(path)
    (root,) = oracle.find_root_classes(path)
    calls = oracle.trace_calls(oracle.build(module, root.cls), root.shape)
    constructed = {m.group(1): number
                   for number, text in enumerate(model_source.splitlines(), start=1)
                   for m in [re.search(r"self\.(\w+) = ", text)] if m}

    lines = output.splitlines()
    shape = ", ".join(str(size) for size in root.shape)
    assert lines[0] == f"{root.cls} (lenet.py:{root.line}), input [N, {shape}]"
    rows = [line.split(None, 2) for line in lines[4:-3]]
    assert [row[:2] for row in rows] == [[call.name, call.type] for call in calls]
    for row, call in zip(rows, calls):
        shape_text, params, line = row[2].rsplit(None, 2)
        assert shape_text == "[" + ", ".join(["N"] + [str(size) for size in call.shape]) + "]"
        assert params == (f"{call.params:,}" if call.params else "--")
        assert int(line) == constructed[call.name]
    total = sum(p.numel() for p in oracle.build(module, root.cls).parameters())
    assert lines[-2] == f"Params of the listed layers: {total:,}"
    sites = len(oracle.forward_call_sites(oracle.build(module, root.cls), root.shape))
    assert lines[-1] == f"Forward: {sites} of {sites} calls with a known shape"


def test_explain_example_is_what_the_command_prints(tmp_path):  # needs the engine
    model_source, output = explain_example()
    (tmp_path / "lenet.py").write_text(model_source)
    command = Path(sys.executable).with_name("conv-lint")
    result = subprocess.run([str(command), "explain", "lenet.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == output


def test_json_example_keys_are_the_documented_ones():
    example = section("`conv-lint explain`")
    (snippet,) = [body for language, body in blocks(example) if language == "json"]
    first_layer = json.loads(re.search(r"\{\"name\".*?\}", snippet, re.S).group(0))
    assert list(first_layer) == ["name", "type", "line", "output_shape", "params"]
    assert re.findall(r'"(\w+)": ', snippet)[:5] == ["models", "class", "line", "input_shape",
                                                     "layers"]


# --- the first command: flake8 on the fixtures with the project's own config ---------------------

def flake8_in_repo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@functools.lru_cache(maxsize=None)
def readme_try_output() -> subprocess.CompletedProcess:
    """The flake8 half of the README's first command, run in the repository."""
    return flake8_in_repo("--select", "CNV", "fixtures/")


def test_project_config_keeps_fixtures_in_reach_of_cnv():
    probe = ("import sys\nfrom flake8.api import legacy\n"
             "guide = legacy.get_style_guide()\n"
             "print(sum(guide.excluded(path) for path in sys.argv[1:]))\n")
    paths = [str(path.relative_to(ROOT)) for path in oracle.fixture_paths()]
    assert paths
    result = subprocess.run([sys.executable, "-c", probe, *paths], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "0", result.stderr

    style = flake8_in_repo("fixtures/")  # the project's style check: quiet on fixtures but CNV
    assert style.stderr == ""
    assert {line.split(": ", 1)[1].split()[0] for line in style.stdout.splitlines()} <= set(CODES)


def test_readme_try_command_reports_the_fixtures_expectations():  # needs the engine
    result = readme_try_output()
    assert result.stderr == ""
    reported = set()
    for text in result.stdout.splitlines():
        head, _, message = text.partition(": ")
        path, line, _col = head.rsplit(":", 2)
        reported.add((Path(path).name, int(line), message.split()[0]))
    # the command lints fixture packages too (fixtures/pkg_*/): their expectations count
    expected = {(path.name, line, code) for path in sorted(oracle.FIXTURES_DIR.rglob("*.py"))
                for line, codes in oracle.parse_expectations(path).items() for code in codes}
    assert expected and reported == expected


def test_flake8_sample_output_is_real():  # needs the engine
    (sample,) = [body for language, body in blocks(section("Usage with flake8"))
                 if language == "text"]
    printed = readme_try_output().stdout.splitlines()
    for line in sample.splitlines():
        assert line in printed


# --- docs/rules.md: one section per code, every example checked by the engine and by torch --------

RULES_DOC = (ROOT / "docs" / "rules.md").read_text()
SUBSECTIONS = ["What it does", "Why is this bad?", "Example", "Use instead", "Options"]


def rule_sections() -> dict[str, dict[str, str]]:
    """{code: {sub-heading: text}} from the `## CNVxxx name` sections of docs/rules.md."""
    found = {}
    for match in re.finditer(r"^## (CNV\d{3}) (\S+)\n(.*?)(?=^## |\Z)", RULES_DOC, re.S | re.M):
        code, name, body = match.groups()
        assert name == CODES[code].name, f"{code} is titled {name!r}, not {CODES[code].name!r}"
        parts = re.split(r"^### (.+)\n", body, flags=re.M)
        found[code] = dict(zip(parts[1::2], parts[2::2]))
        assert list(found[code]) == SUBSECTIONS, f"{code}: sub-sections {list(found[code])}"
    return found


def one_python_block(code: str, subsection: str) -> str:
    sources = [body for language, body in blocks(rule_sections()[code][subsection])
               if language == "python"]
    assert len(sources) == 1, f"{code} {subsection}: {len(sources)} python blocks, not one"
    return sources[0]


def doc_examples() -> list:
    return [pytest.param(code, subsection, id=f"{code}-{subsection.split()[0]}")
            for code in CODES for subsection in ("Example", "Use instead")]


def test_rules_doc_has_one_section_per_code_in_table_order():
    assert list(rule_sections()) == list(CODES)


def test_readme_links_the_rules_doc():
    assert "(docs/rules.md)" in README


def test_design_examples_are_the_rules_own():
    for rule in RULES:
        assert one_python_block(rule.code, "Example") == rule.INVALID[0], (
            f"docs/rules.md {rule.code} Example is not {type(rule).__name__}.INVALID[0]")


@pytest.mark.parametrize("code, subsection", doc_examples())
def test_doc_example_is_reported_as_it_says_and_torch_agrees(code, subsection, tmp_path):
    source = one_python_block(code, subsection)
    expected = {(line, each) for line, codes in oracle.expectations_in(source).items()
                for each in codes}
    if subsection == "Example":
        assert code in {each for _, each in expected}, f"{code} Example: no `# expect: {code}`"
    else:
        assert not expected, f"{code} {subsection} has `# expect` lines"
    analysis = analyse(source, "example.py", options=oracle.options_in(source))
    assert analysis.error is None
    assert {(f.line, f.code) for f in analysis.findings} == expected

    path = tmp_path / "example.py"
    path.write_text(source)
    (root,) = oracle.find_root_classes(path)
    outcome = oracle.run_root(oracle.load_fixture(path), root, path)
    if expected and oracle.is_error_code(code):  # torch fails where the finding is ...
        if code == "CNV104" and outcome.error is None:  # ... or regroups the batch
            assert outcome.batch != oracle.BATCH
            return
        assert outcome.line in oracle.error_expectations(path), outcome.describe()
        assert code in oracle.codes_for_error(outcome.error), outcome.describe()
    else:  # design warnings are about models that run
        assert outcome.error is None and outcome.batch == oracle.BATCH, outcome.describe()


def test_rules_doc_documents_every_option_with_its_default():
    for field in dataclasses.fields(Options):
        flag = option_name(field.name)
        assert f"`{flag}` (default `{field.default}`)" in RULES_DOC, flag
        assert f"| `{flag}` | `{flag[2:]}` | `{field.default}` |" in RULES_DOC, flag


def test_rules_doc_says_which_codes_are_off_by_default():
    match = re.search(r"^Off by default: (.*)$", RULES_DOC, re.M)
    assert match, "docs/rules.md has no 'Off by default: ...' line"
    listed = re.findall(r"CNV\d{3}", match.group(1))
    assert listed == list(ConvLintPlugin.default_ignore)


# --- README: the design warnings section ------------------------------------------------------

def test_design_warning_example_prints_what_the_readme_shows(tmp_path):
    example = section("Design warnings (CNV2xx)")
    (model,) = [body for language, body in blocks(example) if language == "python"]
    output = [body for language, body in blocks(example) if language == "text"][0]
    assert "`flake8 --select CNV mnist.py` prints:" in example
    path = tmp_path / "mnist.py"
    path.write_text(model)
    (root,) = oracle.find_root_classes(path)
    assert oracle.run_root(oracle.load_fixture(path), root, path).error is None  # it runs
    result = subprocess.run([sys.executable, "-m", "flake8", "--select", "CNV", "mnist.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr, result.stdout) == (1, "", output)


def test_readme_options_table_is_the_options():
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")][:2]
            for line in section("Design warnings (CNV2xx)").splitlines()
            if line.startswith("| `--conv-")]
    assert rows == [[f"`{option_name(field.name)}`", f"`{field.default}`"]
                    for field in dataclasses.fields(Options)]


def test_readme_config_example_is_accepted_by_flake8(tmp_path):
    (config,) = [body for language, body in blocks(section("Design warnings (CNV2xx)"))
                 if language == "ini"]
    (tmp_path / "setup.cfg").write_text(config)
    (tmp_path / "empty.py").write_text("import torch\n")
    result = subprocess.run([sys.executable, "-m", "flake8", "--select", "CNV", "empty.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_readme_says_which_design_warnings_are_off_by_default():
    text = " ".join(section("Design warnings (CNV2xx)").split())
    if ConvLintPlugin.default_ignore:
        listed = ", ".join(ConvLintPlugin.default_ignore)
        assert f"Off by default: {listed}." in text
    else:
        assert "Every design warning is on by default." in text


# --- scripts/zoo_warnings.py and docs/zoo-warnings.md ------------------------------------------

ZOO_DOC = (ROOT / "docs" / "zoo-warnings.md").read_text()
ZOO_ROW = re.compile(r"^\| `(?P<warning>[\w/]+\.py:\d+:\d+: (?P<code>CNV\d{3}) .+)` \| "
                     r"(?P<verdict>true smell|false alarm)\b.*\|$")


def test_zoo_script_prints_every_design_warning_of_the_model_directories(tmp_path):
    site = tmp_path / "site"
    for name in ("torchvision/models", "timm/models", "timm/layers"):
        (site / name).mkdir(parents=True)
    model = next(rule.INVALID[0] for rule in RULES if rule.code == "CNV206")
    (site / "timm/models/net.py").write_text(model)
    (site / "timm/other.py").write_text(model)  # outside the model directories: not linted
    (expected_line,) = oracle.expectations_in(model)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "zoo_warnings.py"), "--from", str(site)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"timm/models/net.py:{expected_line}:") and " CNV206 " in line
    assert result.stderr.splitlines()[-1] == "1 warning(s) (CNV206: 1)"


def test_zoo_doc_gives_a_verdict_for_each_warning_it_counts():
    rows = {}
    for title, body in re.findall(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", ZOO_DOC, re.S | re.M):
        table = [line for line in body.splitlines() if line.startswith("| `")]
        for line in table:
            assert ZOO_ROW.match(line), f"{title}: not a warning with a verdict: {line}"
        rows[title] = [ZOO_ROW.match(line) for line in table]
    for row in [row for table in rows.values() for row in table]:
        assert row["code"] in CODES and not oracle.is_error_code(row["code"])
    without, with_size = rows["Without an input size"], rows["With a 224x224 input"]
    # the 224 table lists the warnings the size adds; the size-free ones come back unchanged
    summary = re.search(r"^Summary: (\d+) warnings without an input size, (\d+) with", ZOO_DOC,
                        re.M)
    assert summary and int(summary[1]) == len(without)
    assert int(summary[2]) == len(without) + len(with_size)
    false_alarms = [row["warning"] for table in rows.values() for row in table
                    if row["verdict"] == "false alarm"]
    assert ("no false\nalarm" in ZOO_DOC) == (not false_alarms)


# --- `conv-lint check`: README section, rule pages, pre-commit hooks --------------------------

def run_check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("conv-lint")
    return subprocess.run([str(command), "check", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_check_sample_output_is_what_the_command_prints():
    text = section("`conv-lint check`")
    (sample,) = [body for language, body in blocks(text) if language == "text"]
    match = re.search(r"^`(conv-lint check (\S+))` prints, as flake8 does:$", text, re.M)
    assert match
    result = run_check("--no-cache", match[2], cwd=ROOT)
    assert (result.returncode, result.stderr, result.stdout) == (1, "", sample)


def test_check_config_example_is_accepted(tmp_path):
    (config,) = [body for language, body in blocks(section("`conv-lint check`"))
                 if language == "toml"]
    (tmp_path / "pyproject.toml").write_text(config)
    (tmp_path / "empty.py").write_text("import torch\n")
    result = run_check(cwd=tmp_path)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_check_options_table_lists_every_option():
    from conv_lint import cli

    commands = next(action for action in cli._parser()._actions
                    if isinstance(action, argparse._SubParsersAction))
    flags = {flag for action in commands.choices["check"]._actions
             for flag in action.option_strings if flag not in ("-h", "--help")}
    table = "\n".join(line for line in section("`conv-lint check`").splitlines()
                      if line.startswith("| `"))
    documented = set(re.findall(r"`(--?[a-z][\w-]*?)[` ]", table))
    assert documented == flags


def load_rule_pages():
    spec = importlib.util.spec_from_file_location("rule_pages", ROOT / "scripts" / "rule_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rule_pages_are_one_per_code_and_current():
    wanted = load_rule_pages().pages()
    assert list(wanted) == [f"{code}.md" for code in CODES]
    folder = ROOT / "docs" / "rules"
    assert sorted(path.name for path in folder.iterdir()) == sorted(wanted), (
        "run python scripts/rule_pages.py")
    for name, text in wanted.items():
        assert (folder / name).read_text() == text, f"docs/rules/{name} is stale: run " \
                                                    "python scripts/rule_pages.py"


def test_rule_pages_have_ruffs_sections_and_the_codes_examples():
    sections_of_rules_doc = rule_sections()
    for code in CODES:
        text = (ROOT / "docs" / "rules" / f"{code}.md").read_text()
        assert re.findall(r"^## (.+)$", text, re.M) == [
            "What it does", "Why is this bad?", "Example", "Fix", "Options"]
        assert f"# {code} {CODES[code].name}\n" in text and CODES[code].summary in text
        assert one_python_block(code, "Example") in text
        assert one_python_block(code, "Use instead") in sections_of_rules_doc[code]["Use instead"]
        fix = text.split("## Fix\n", 1)[1]
        assert one_python_block(code, "Use instead") in fix


def test_help_uris_point_at_the_pages_of_the_projects_repository():
    document = tomllib.loads((ROOT / "pyproject.toml").read_text())
    urls = document["project"]["urls"]
    assert DOCS_URL == urls["Repository"] + "/blob/main/docs/rules/" == urls["Documentation"]
    for code in CODES.values():
        assert code.url == DOCS_URL + f"{code.code}.md"
        assert (ROOT / "docs" / "rules" / f"{code.code}.md").is_file()
    assert 'tomli>=1.1; python_version < \'3.11\'' in document["project"]["dependencies"]


def test_pre_commit_hooks_run_check_and_check_fix():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    hooks = {}
    for block in re.split(r"^-\s+", text, flags=re.M)[1:]:
        fields = dict(re.findall(r"^\s*(\w+):\s*(.+?)\s*$", block, re.M))
        hooks[fields["id"]] = fields
    assert {name: hook["entry"] for name, hook in hooks.items()} == {
        "conv-lint": "conv-lint check", "conv-lint-fix": "conv-lint check --fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["types"] == "[python]"
    snippet = next(body for language, body in blocks(section("`conv-lint check`"))
                   if language == "yaml")
    assert "- id: conv-lint\n" in snippet


def test_every_data_file_of_the_package_is_installed():
    """A wheel carries only the .py files unless pyproject's package-data names the others:
    every other file conv_lint/ reads at run time must be covered (a plain `pip install .`
    without them would silently know no well-known block)."""
    import fnmatch

    pyproject = (ROOT / "pyproject.toml").read_text()
    section = re.search(r"^\[tool\.setuptools\.package-data\]\n(.*?)(?:\n\[|\Z)", pyproject,
                        re.M | re.S)
    patterns = re.findall(r'"([^"]+)"', section.group(1)) if section else []
    package = ROOT / "conv_lint"
    data = [path.relative_to(package).as_posix() for path in package.rglob("*")
            if path.is_file() and path.suffix not in (".py", ".pyc")]
    assert data, "the package holds data files (the stubs of conv_lint/known)"
    uncovered = [name for name in data if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert not uncovered

"""`conv-lint check`, run as users run it: the installed console script on small trees.

The findings themselves are the engine's (checked against torch elsewhere); here: that the
command finds the files, applies the settings, prints each format correctly, caches, and that
its fixes give a model torch runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import oracle
import pytest

from conv_lint.check import formats
from conv_lint.check.cache import Cache, salt
from conv_lint.codes import CODES, DOCS_URL
from conv_lint.engine import Edit, Finding, Fix
from conv_lint.options import Options
from conv_lint.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
COMMAND = str(Path(sys.executable).with_name("conv-lint"))
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0-rtm.5.json").read_text())

BROKEN = (ROOT / "fixtures" / "lenet_cifar_conv2_channels.py").read_text()  # CNV101 on line 20
BROKEN_LINE = 20
WARNED = next(rule.INVALID[0] for rule in RULES if rule.code == "CNV206")
(WARNED_LINE,) = oracle.expectations_in(WARNED)
CLEAN = (ROOT / "fixtures" / "lenet_cifar_ok.py").read_text()
# A model right for a 14x14 input only (28x28: fc gets 16*12*12 features, not 16*5*5)
SIZED = """import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 5 * 5, 10)

    def forward(self, x):
        x = self.pool(self.conv(x)).flatten(1)
        return self.fc(x)
"""
SIZED_LINE = 14


def check(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([COMMAND, "check", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120)


def reported(result: subprocess.CompletedProcess) -> set[tuple[str, int, str]]:
    """(path, line, code) of each text-format line."""
    found = set()
    for line in result.stdout.splitlines():
        match = re.match(r"^(.+?):(\d+):(\d+): (CNV\d{3}) ", line)
        assert match, line
        found.add((match[1], int(match[2]), match[4]))
    return found


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# -- exit status and the findings --------------------------------------------------------------

def test_exit_status_clean_findings_and_errors(tmp_path):
    tree(tmp_path, {"clean.py": CLEAN, "broken/model.py": BROKEN})
    clean = check("clean.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    found = check(cwd=tmp_path)
    assert found.returncode == 1 and found.stderr == ""
    assert found.stdout == (f"broken/model.py:{BROKEN_LINE}:30: CNV101 conv2 expects 16 input "
                            "channels but receives 32 (from conv1)\n")
    for args, named in [(["missing.py"], "missing.py"), (["--early-layers", "0"], "--early-layers"),
                        (["--select", "E501"], "--select"), (["--input-shape", "3,x"], "input"),
                        (["--format", "xml"], "--format"), (["-", "clean.py"], "stdin"),
                        (["--jobs", "0"], "--jobs")]:
        result = check(*args, cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == "", args
        assert len(result.stderr.splitlines()) == 1 and named in result.stderr, result.stderr


def test_findings_equal_the_flake8_plugins_on_the_fixtures():
    command = check("--no-cache", "fixtures", cwd=ROOT)  # many files: worker processes
    plugin = subprocess.run([sys.executable, "-m", "flake8", "--select", "CNV", "fixtures"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert command.stderr == "" and plugin.stderr == ""
    assert command.returncode == 1
    assert sorted(command.stdout.splitlines()) == sorted(plugin.stdout.splitlines())
    # one process, the largest files no longer first: the same output, in the same order
    alone = check("--no-cache", "--jobs", "1", "fixtures", cwd=ROOT)
    assert (alone.returncode, alone.stderr, alone.stdout) == (1, "", command.stdout)


def test_select_ignore_and_noqa_as_flake8_decides(tmp_path):
    noqa = BROKEN.replace("# expect: CNV101", "# noqa: CNV2,E501")  # other codes: still shown
    silenced = BROKEN.replace("# expect: CNV101", "# NOQA:CNV101")
    bare = BROKEN.replace("# expect: CNV101", "# noqa")
    # flake8 joins the lines of a token spanning several (a string), not of a bracket
    in_string = WARNED.replace("bias=True)  # expect: CNV206",
                               'bias=True); doc = """\n"""  # noqa: CNV206')
    in_brackets = WARNED.replace("bias=True)  # expect: CNV206",
                                 "bias=True,\n        )  # noqa: CNV206")
    # a form feed inside a line is no line break (str.splitlines would count one)
    form_feed = silenced.replace("import torch\n", "import torch  # \x0c\n", 1)
    tree(tmp_path, {"a.py": BROKEN, "b.py": WARNED, "c.py": noqa, "d.py": silenced, "e.py": bare,
                    "f.py": in_string, "g.py": in_brackets, "h.py": form_feed})
    assert reported(check(cwd=tmp_path)) == {("a.py", BROKEN_LINE, "CNV101"),
                                             ("b.py", WARNED_LINE, "CNV206"),
                                             ("c.py", BROKEN_LINE, "CNV101"),
                                             ("g.py", WARNED_LINE, "CNV206")}
    warnings = {("b.py", WARNED_LINE, "CNV206"), ("g.py", WARNED_LINE, "CNV206")}
    assert reported(check("--select", "CNV2", cwd=tmp_path)) == warnings
    assert reported(check("--ignore", "CNV1", "--select", "CNV", cwd=tmp_path)) == warnings
    assert reported(check("--ignore", "cnv2", "a.py", "b.py", cwd=tmp_path)) == {
        ("a.py", BROKEN_LINE, "CNV101")}
    # the more specific prefix wins
    assert reported(check("--ignore", "CNV2", "--select", "CNV206", "b.py", cwd=tmp_path)) == {
        ("b.py", WARNED_LINE, "CNV206")}
    flake8 = subprocess.run([sys.executable, "-m", "flake8", "--select", "CNV", "."],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert {(path.removeprefix("./"), line, code) for path, line, code in reported(flake8)} == \
        reported(check(cwd=tmp_path))


# -- files: folders, excludes, .gitignore, stdin ---------------------------------------------

def test_folders_walk_python_files_with_gitignore_and_excludes(tmp_path):
    files = {name: BROKEN for name in [
        "pkg/model.py", "pkg/sub/deep.py", "pkg/sub/keep_me.py", "pkg/generated/out.py",
        "pkg/top_only.py", "pkg/x/top_only.py", "pkg/any/deep/stuff/gen_a.py", "pkg/notes.txt",
        ".venv/lib/site.py", "build/lib/model.py", "pkg/__pycache__/cached.py",
        "legacy/old.py", "pkg/skip_me.py", "pkg/sub/local.py"]}
    files[".gitignore"] = ("# generated code\n*.py~\npkg/generated/\n/pkg/top_only.py\n"
                           "**/deep/**/gen_*.py\npkg/sub/*.py\n!pkg/sub/keep_me.py\n")
    files["pkg/sub/.gitignore"] = "local.py\n"
    tree(tmp_path, files)
    (tmp_path / ".git").mkdir()  # the repository's top: .gitignore files above a path count
    shown = {path for path, _, _ in reported(check("--exclude", "legacy/,skip_*", cwd=tmp_path))}
    assert shown == {"pkg/model.py", "pkg/sub/keep_me.py", "pkg/x/top_only.py"}
    # a folder named on the command line: paths as given, parent .gitignore files still apply
    shown = {path for path, _, _ in reported(check("pkg/sub", "./pkg/x/", cwd=tmp_path))}
    assert shown == {"pkg/sub/keep_me.py", "pkg/x/top_only.py"}
    # a file named explicitly is checked unless an exclude names it
    assert reported(check("build/lib/model.py", cwd=tmp_path)) == {
        ("build/lib/model.py", BROKEN_LINE, "CNV101")}
    assert check("--exclude", "build", "build/lib/model.py", cwd=tmp_path).stdout == ""


def test_stdin_with_a_filename_for_output_and_per_file_ignores(tmp_path):
    tree(tmp_path, {"pyproject.toml": '[tool.conv-lint.per-file-ignores]\n"tests/*" = ["CNV1"]\n'})
    result = check("-", "--stdin-filename", "models/net.py", cwd=tmp_path, stdin=BROKEN)
    assert result.returncode == 1
    assert reported(result) == {("models/net.py", BROKEN_LINE, "CNV101")}
    ignored = check("--stdin-filename", "tests/net.py", "-", cwd=tmp_path, stdin=BROKEN)
    assert (ignored.returncode, ignored.stdout) == (0, "")
    assert reported(check("-", cwd=tmp_path, stdin=BROKEN)) == {("-", BROKEN_LINE, "CNV101")}


# -- formats ------------------------------------------------------------------------------------

UNICODE = BROKEN.replace("x = self.pool(F.relu(self.conv2(x)))",
                         "x = self.pool(F.relu(self.conv2(x)))  # ééé").replace(
    "        x = self.pool(F.relu(self.conv2(x)))",
    "        ñ = 1; x = self.pool(F.relu(self.conv2(x)))")  # 2 UTF-8 bytes before the finding


def fixed_finding(source: str) -> Finding:
    """The finding conv-lint reports on BROKEN, with a hand-made fix: conv2 takes 32 channels."""
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "self.conv2 = " in text)
    col = source.splitlines()[line - 1].index("(16,") + 1
    fix = Fix("set in_channels=32 (the channels conv1 gives)", (Edit(line, col, line, col + 2,
                                                                     "32"),))
    return Finding(BROKEN_LINE, 29, "CNV101", "conv2 expects 16 input channels but receives 32 "
                   "(from conv1)", fix)


def test_every_format_from_the_command(tmp_path):
    tree(tmp_path, {"a.py": UNICODE, "b.py": WARNED, "c.py": CLEAN})
    runs = {name: check("--format", name, cwd=tmp_path) for name in formats.FORMATS}
    assert {result.returncode for result in runs.values()} == {1}
    column = UNICODE.splitlines()[BROKEN_LINE - 1].index("self.conv2") + 1  # characters
    assert runs["text"].stdout.splitlines()[0].startswith(f"a.py:{BROKEN_LINE}:{column}: CNV101 ")

    items = json.loads(runs["json"].stdout)
    assert [(i["path"], i["line"], i["code"], i["severity"]) for i in items] == [
        ("a.py", BROKEN_LINE, "CNV101", "error"), ("b.py", WARNED_LINE, "CNV206", "warning")]
    assert items[0]["column"] == column  # conv2 reads the 32 channels conv1 gives:
    assert items[0]["fix"]["description"] == "set in_channels=32"  # (torch runs it, below)
    assert items[1]["url"] == f"{DOCS_URL}CNV206.md" and items[1]["name"] == "bias-before-norm"
    assert list(items[0]) == ["path", "line", "column", "code", "name", "message", "severity",
                              "url", "fix"]

    document = json.loads(runs["sarif"].stdout)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        document)
    results = document["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"])
            for r in results] == [("CNV101", "error", {"startLine": BROKEN_LINE,
                                                       "startColumn": column}),
                                  ("CNV206", "warning", {"startLine": WARNED_LINE,
                                                         "startColumn": 22})]
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(CODES)
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)

    assert github_lines(runs["github"].stdout) == [
        ("error", "a.py", BROKEN_LINE, column, "CNV101", items[0]["message"]),
        ("warning", "b.py", WARNED_LINE, 22, "CNV206", items[1]["message"])]

    diagnostics = json.loads(runs["rdjson"].stdout)["diagnostics"]
    assert diagnostics[0]["location"] == {"path": "a.py", "range": {"start": {
        "line": BROKEN_LINE, "column": column + 1}}}  # UTF-8 bytes: ñ is two
    assert diagnostics[1]["severity"] == "WARNING" and diagnostics[1]["code"] == {
        "value": "CNV206", "url": f"{DOCS_URL}CNV206.md"}
    assert [s["text"] for s in diagnostics[0]["suggestions"]] == ["32"]  # the engine's fix
    (change,) = results[0]["fixes"][0]["artifactChanges"]
    assert [r["insertedContent"]["text"] for r in change["replacements"]] == ["32"]


GITHUB = re.compile(r"^::(?P<level>error|warning) file=(?P<file>[^,]*),line=(?P<line>\d+),"
                    r"col=(?P<col>\d+),title=(?P<title>[^,:]*)::(?P<message>.*)$")


def github_lines(output: str) -> list[tuple]:
    def unescape(value: str) -> str:
        for escaped, char in (("%3A", ":"), ("%2C", ","), ("%0A", "\n"), ("%0D", "\r"),
                              ("%25", "%")):
            value = value.replace(escaped, char)
        return value

    lines = []
    for line in output.splitlines():
        match = GITHUB.match(line)
        assert match, line
        lines.append((match["level"], unescape(match["file"]), int(match["line"]),
                      int(match["col"]), match["title"], unescape(match["message"])))
    return lines


def test_formats_carry_fixes_and_escape_what_they_must():
    finding = fixed_finding(UNICODE)
    odd = Finding(3, 0, "CNV205", "100% of it,\nnot: all\r", None)
    reports = [formats.Report("dir,x:y/a.py", UNICODE, [finding, odd])]
    (edit,) = finding.fix.edits

    document = json.loads(formats.render("sarif", reports))
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        document)
    (fix,) = document["runs"][0]["results"][0]["fixes"]
    assert fix["description"]["text"] == finding.fix.description
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "dir%2Cx%3Ay/a.py"
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": edit.line, "startColumn": edit.col + 1,
                          "endLine": edit.end_line, "endColumn": edit.end_col + 1},
        "insertedContent": {"text": "32"}}]
    assert "fixes" not in document["runs"][0]["results"][1]

    (suggestion,) = json.loads(formats.render("rdjson", reports))["diagnostics"][0]["suggestions"]
    assert suggestion == {"range": {"start": {"line": edit.line, "column": edit.col + 1},
                                    "end": {"line": edit.line, "column": edit.end_col + 1}},
                          "text": "32"}
    item = json.loads(formats.render("json", reports))[0]
    assert item["fix"] == {"description": finding.fix.description, "edits": [
        {"line": edit.line, "column": edit.col + 1, "end_line": edit.end_line,
         "end_column": edit.end_col + 1, "text": "32"}]}

    github = formats.render("github", reports)
    assert github.count("\n") == 2  # a message's newline is escaped, not printed
    assert github_lines(github)[1] == ("warning", "dir,x:y/a.py", 3, 1, "CNV205",
                                       "100% of it,\nnot: all\r")
    assert "file=dir%2Cx%3Ay/a.py," in github and "::100%25 of it,%0Anot: all%0D" in github


# -- --diff and --fix ---------------------------------------------------------------------------

def inject_fix(folder: Path, source: str, path: Path) -> None:
    """A cache entry for ``source`` at ``path`` whose finding carries a hand-made fix (the
    test hook: the command must apply what the entry says, whatever the engine would say)."""
    cache = Cache(folder / ".conv_lint_cache", salt(None, Options()))
    cache.put(cache.key(source, str(path)), [fixed_finding(source)], None)


def test_diff_and_fix_apply_the_fixes_once_and_torch_runs_the_result(tmp_path):
    tree(tmp_path, {"net.py": BROKEN, "clean.py": CLEAN})
    inject_fix(tmp_path, BROKEN, tmp_path / "net.py")
    diff = check("--diff", cwd=tmp_path)
    assert diff.returncode == 1 and diff.stderr == ""
    assert diff.stdout.splitlines()[:2] == ["--- a/net.py", "+++ b/net.py"]
    changed = [line for line in diff.stdout.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-        self.conv2 = nn.Conv2d(16, 32, 5)",
                       "+        self.conv2 = nn.Conv2d(32, 32, 5)"]
    assert (tmp_path / "net.py").read_text() == BROKEN  # --diff writes nothing

    fixed = check("--fix", cwd=tmp_path)
    assert (fixed.returncode, fixed.stdout) == (0, "")  # nothing remains after the fix
    assert fixed.stderr == "conv-lint: fixed 1 file(s)\n"
    source = (tmp_path / "net.py").read_text()
    assert source == BROKEN.replace("nn.Conv2d(16, 32, 5)", "nn.Conv2d(32, 32, 5)")
    (root,) = oracle.find_root_classes(tmp_path / "net.py")
    outcome = oracle.run_root(oracle.load_fixture(tmp_path / "net.py"), root, tmp_path / "net.py")
    assert outcome.error is None, outcome.describe()

    again = check("--fix", cwd=tmp_path)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert (tmp_path / "net.py").read_text() == source
    assert (check("--diff", cwd=tmp_path).returncode, check("--diff", cwd=tmp_path).stdout) == (
        0, "")


def test_fix_from_stdin_prints_the_fixed_source(tmp_path):
    inject_fix(tmp_path, BROKEN, tmp_path)  # stdin without --stdin-filename: the cwd
    result = check("--fix", "-", cwd=tmp_path, stdin=BROKEN)
    assert result.returncode == 0
    assert result.stdout == BROKEN.replace("nn.Conv2d(16, 32, 5)", "nn.Conv2d(32, 32, 5)")


def test_fix_leaves_findings_without_a_fix_and_exits_one(tmp_path):
    unfixable = next(rule.INVALID[0] for rule in RULES if rule.code == "CNV204")  # no fix kind
    tree(tmp_path, {"net.py": unfixable})
    result = check("--fix", cwd=tmp_path)
    assert result.returncode == 1
    assert {code for _path, _line, code in reported(result)} == {"CNV204"}
    assert (tmp_path / "net.py").read_text() == unfixable


# -- --diff-base ----------------------------------------------------------------------------------

def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


def test_diff_base_reports_only_changed_lines(tmp_path):
    tree(tmp_path, {"old.py": BROKEN, "edited.py": CLEAN})
    git("init", "-q", cwd=tmp_path)
    git("add", ".", cwd=tmp_path)
    git("commit", "-qm", "base", cwd=tmp_path)
    assert check("--diff-base", "HEAD", cwd=tmp_path).stdout == ""  # old finding, old line
    # conv2's constructor changed: the finding is on forward's call, a line that did not
    edited = CLEAN.replace("nn.Conv2d(6, 16, 5)", "nn.Conv2d(8, 16, 5)")
    (tmp_path / "edited.py").write_text(edited)
    # the finding's own line changed
    (tmp_path / "old.py").write_text(BROKEN.replace("# expect: CNV101", "# still broken"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "new.py").write_text(BROKEN)  # untracked: every line is new
    assert reported(check(cwd=tmp_path)) == {
        ("edited.py", BROKEN_LINE, "CNV101"), ("old.py", BROKEN_LINE, "CNV101"),
        ("sub/new.py", BROKEN_LINE, "CNV101")}
    result = check("--diff-base", "HEAD", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert [(item["path"], item["line"]) for item in json.loads(result.stdout)] == [
        ("old.py", BROKEN_LINE), ("sub/new.py", BROKEN_LINE)]
    assert reported(check("--diff-base", "HEAD", "sub", cwd=tmp_path)) == {
        ("sub/new.py", BROKEN_LINE, "CNV101")}

    # stdin: the text read against the named file's version in the ref
    stdin = ["--diff-base", "HEAD", "-", "--stdin-filename"]
    assert check(*stdin, "old.py", cwd=tmp_path, stdin=BROKEN).stdout == ""
    assert reported(check(*stdin, "old.py", cwd=tmp_path, stdin=BROKEN.replace(
        "# expect", "# edited"))) == {("old.py", BROKEN_LINE, "CNV101")}
    assert reported(check(*stdin, "sub/new.py", cwd=tmp_path, stdin=BROKEN)) == {
        ("sub/new.py", BROKEN_LINE, "CNV101")}

    unknown = check("--diff-base", "nope", cwd=tmp_path)
    assert (unknown.returncode, unknown.stderr) == (
        2, "conv-lint: error: --diff-base: unknown git ref 'nope'\n")
    outside = tmp_path.parent / f"{tmp_path.name}-norepo"
    tree(outside, {"a.py": BROKEN})
    result = check("--diff-base", "HEAD", cwd=outside)
    assert result.returncode == 2 and "not in a git repository" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# -- configuration --------------------------------------------------------------------------------

def test_config_is_found_walking_up_and_the_command_line_overrides_it(tmp_path):
    tree(tmp_path, {
        "pyproject.toml": ('[project]\nname = "x"\n\n[tool.conv-lint]\nignore = ["CNV101"]\n'
                           'input-shape = [1, 28, 28]\nbias-before-norm = "off"\n'
                           'extend-exclude = ["skipped/"]\n'),
        "src/models/a.py": BROKEN, "src/models/b.py": WARNED, "src/models/sized.py": SIZED,
        "src/skipped/c.py": BROKEN,
    })
    deep = tmp_path / "src" / "models"
    assert reported(check(cwd=deep)) == {("sized.py", SIZED_LINE, "CNV103")}
    assert reported(check("src", cwd=tmp_path)) == {("src/models/sized.py", SIZED_LINE,
                                                     "CNV103")}
    overridden = check("--ignore", "CNV2", "--input-shape", "1,14,14", "--bias-before-norm",
                       "explicit", cwd=deep)
    assert reported(overridden) == {("a.py", BROKEN_LINE, "CNV101")}  # CNV206 ignored now
    assert reported(check("--select", "CNV", "--ignore", "CNV103", "--bias-before-norm",
                          "explicit", cwd=deep)) == {("a.py", BROKEN_LINE, "CNV101"),
                                                     ("b.py", WARNED_LINE, "CNV206")}


@pytest.mark.parametrize("value", ["50", '"50"', "[50]"])
def test_a_one_axis_input_shape_in_the_config(tmp_path, value):
    """input-shape = 50: token ids (N, 50), so the Conv1d fed the embedding untransposed
    fails (the sequence length read as channels), as torch does on long zeros."""
    source = ("import torch.nn as nn\n\n\nclass Net(nn.Module):\n"
              "    def __init__(self):\n        super().__init__()\n"
              "        self.embedding = nn.Embedding(100, 8)\n"
              "        self.conv = nn.Conv1d(8, 4, 3)\n\n"
              "    def forward(self, ids):\n        return self.conv(self.embedding(ids))\n")
    tree(tmp_path, {"pyproject.toml": f"[tool.conv-lint]\ninput-shape = {value}\n",
                    "net.py": source})
    outcome = oracle.run_model(oracle.load_fixture(tmp_path / "net.py").Net(), (50,),
                               tmp_path / "net.py")
    assert oracle.codes_for_error(outcome.error) == {"CNV101"} and outcome.line == 11
    assert reported(check(cwd=tmp_path)) == {("net.py", 11, "CNV101")}


@pytest.mark.parametrize("table, named", [
    ("colour = 1", "unknown key 'colour'"),
    ('early-layers = "many"', "early-layers: must be an integer"),
    ("max-early-stride = 0", "max-early-stride: max-early-stride must be a positive"),
    ('padding-policy = "loose"', "padding-policy: padding-policy must be one of"),
    ('input-shape = "3,x"', "input-shape: input shape must be"),
    ('select = ["E501"]', "select: 'E501' is not a conv-lint code"),
    ('per-file-ignores = ["x"]', "per-file-ignores: expected a table"),
    ("exclude = 3", "exclude: expected a list"),
    ("select = [", "cannot read"),
])
def test_config_errors_name_the_file_and_the_key(tmp_path, table, named):
    tree(tmp_path, {"pyproject.toml": f"[tool.conv-lint]\n{table}\n", "a.py": CLEAN})
    result = check(cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert str(tmp_path / "pyproject.toml") in line and named in line, line


# -- the cache ------------------------------------------------------------------------------------

def test_cache_hits_on_a_second_run_and_no_cache_bypasses_it(tmp_path):
    tree(tmp_path, {"a.py": BROKEN, "b.py": WARNED, "c.py": CLEAN, "plain.py": "x = 1\n"})
    first = check("-v", cwd=tmp_path)
    assert "4 file(s): 0 from the cache, 3 analysed" in first.stderr
    second = check("-v", cwd=tmp_path)
    assert "4 file(s): 3 from the cache, 0 analysed" in second.stderr
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    assert "3 from the cache, 0 analysed" not in check("-v", "--no-cache", cwd=tmp_path).stderr
    # other options, another key; a changed file, a miss; a corrupt entry, a miss
    assert "0 from the cache, 3 analysed" in check("-v", "--early-layers", "3",
                                                   cwd=tmp_path).stderr
    (tmp_path / "c.py").write_text(CLEAN + "\n")
    for entry in (tmp_path / ".conv_lint_cache").rglob("*.json"):
        if '"CNV206"' in entry.read_text():
            entry.write_text("{not json")
    third = check("-v", cwd=tmp_path)
    assert "4 file(s): 1 from the cache, 2 analysed" in third.stderr
    assert third.stdout == first.stdout
    assert (tmp_path / ".conv_lint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_warm_run_does_not_import_libcst(tmp_path):
    tree(tmp_path, {"a.py": BROKEN, "b.py": CLEAN})
    probe = ("import sys\nfrom conv_lint.cli import main\ncode = main(['check', '.'])\n"
             "print(code, 'libcst' in sys.modules, file=sys.stderr)\n")
    runs = [subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                           text=True, timeout=120) for _ in range(2)]
    assert [run.stderr.split() for run in runs] == [["1", "True"], ["1", "False"]]
    assert runs[0].stdout == runs[1].stdout != ""


def test_gitignore_patterns_exclude_what_git_excludes(tmp_path):
    from conv_lint.check.discovery import python_files

    patterns = ["# comment", "*_gen.py", "!keep_gen.py", "/rooted.py", "data/", "a/**/deep.py",
                "b/*/mid.py", "c/**", "!c/back.py", "d?.py", "[xy]z.py", "e[!0-9].py",
                r"\#hash.py", "nested/tail/", "**/any/x.py", "space\\ .py", "sub/local.py"]
    names = ["m_gen.py", "keep_gen.py", "s/keep_gen.py", "s/t_gen.py", "rooted.py", "s/rooted.py",
             "data/x.py", "s/data/x.py", "a/deep.py", "a/1/2/deep.py", "b/1/mid.py",
             "b/1/2/mid.py", "c/x.py", "c/back.py", "d1.py", "dd1.py", "xz.py", "zz.py",
             "e1.py", "ea.py", "#hash.py", "nested/tail/x.py", "s/nested/tail/x.py",
             "q/any/x.py", "any/x.py", "space .py", "plain.py", "sub/local.py", "s/sub/local.py"]
    tree(tmp_path, {name: "" for name in names})
    (tmp_path / ".gitignore").write_text("\n".join(patterns) + "\n")
    (tmp_path / "s" / ".gitignore").write_text("!t_gen.py\n")  # a deeper file takes it back
    git("init", "-q", cwd=tmp_path)
    ignored = subprocess.run(["git", "check-ignore", *names], cwd=tmp_path, capture_output=True,
                             text=True).stdout.splitlines()
    assert 15 < len(ignored) < len(names) - 5
    found = {path.relative_to(tmp_path).as_posix() for path in python_files(tmp_path, [])}
    assert found == set(names) - set(ignored)


def test_fix_keeps_line_endings_and_encoding(tmp_path):
    source = "# -*- coding: latin-1 -*-\r\n# é\r\n" + BROKEN.replace("\n", "\r\n")
    (tmp_path / "net.py").write_bytes(source.encode("latin-1"))
    finding = fixed_finding(source)
    shifted = Finding(finding.line + 2, finding.col, finding.code, finding.message, finding.fix)
    cache = Cache(tmp_path / ".conv_lint_cache", salt(None, Options()))
    cache.put(cache.key(source, str(tmp_path / "net.py")), [shifted], None)
    assert check("--fix", cwd=tmp_path).returncode == 0
    expected = source.replace("nn.Conv2d(16, 32, 5)", "nn.Conv2d(32, 32, 5)")
    assert (tmp_path / "net.py").read_bytes() == expected.encode("latin-1")


SIBLING_MODEL = """import torch.nn as nn

from .blocks import Stem


# conv-lint: input-shape=3,32,32
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Stem()
        self.head = nn.Conv2d(16, 8, 1)

    def forward(self, x):
        return self.head(self.stem(x))
"""
SIBLING_BLOCKS = """import torch.nn as nn


class Stem(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)

    def forward(self, x):
        return self.conv(x)
"""


def test_a_cached_result_is_not_reused_once_a_sibling_it_read_changes(tmp_path):
    """model.py's findings depend on blocks.py: edit blocks.py (the stem now gives 32 channels,
    and torch fails in the head) and the unchanged model.py is analysed again."""
    tree(tmp_path, {"pkg/__init__.py": "", "pkg/model.py": SIBLING_MODEL,
                    "pkg/blocks.py": SIBLING_BLOCKS})
    assert check("pkg", cwd=tmp_path).returncode == 0
    (tmp_path / "pkg" / "blocks.py").write_text(SIBLING_BLOCKS.replace("width=16", "width=32"))
    again = check("pkg", cwd=tmp_path)
    assert again.returncode == 1
    assert {code for _path, _line, code in reported(again)} == {"CNV101"}
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        import torch

        model = importlib.import_module("pkg.model").Net()
        with pytest.raises(RuntimeError, match="expected input.* to have 16 channels"):
            model(torch.zeros(1, 3, 32, 32))
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "pkg" or n.startswith("pkg.")]:
            del sys.modules[name]

"""conv-lint's speed goals (issue 6), each measured as a ratio against its anchor in the same run.

    python bench/run.py [--repeat N] [--cache DIR] [--only 1,2,...]

Sets up (once, in the cache directory): the pinned torchvision and timm wheels, unpacked; a venv
with flake8 alone; a venv with flake8 and conv-lint (reinstalled from this tree when its source
changes); a venv with TorchFix (the version PyPI gives). Then runs every command of a figure
once per round, round after round (so a change in the machine's load hits all of them alike),
and prints medians, peak memory (maxrss of the child and its children) and each figure's
verdict. Both clocks are shown; CPU time (user + system, children included) decides where one
process does the work, as it does not count the time other programs take the cores from it;
wall-clock time decides where several processes share the work (-j2).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable, Optional

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from model_files import model_file  # noqa: E402 - bench/ is not a package

WHEELS = ("torchvision==0.29.2", "timm==1.0.31")
IMPORT_ENGINE = "import libcst, conv_lint.engine, conv_lint.interpreter.file, conv_lint.rules"
GEN_SIZES = (100, 1000, 10_000)
NO_MODEL_BYTES = 100_000
MODEL_HINT = re.compile(r"\b(?:torch|nn)\b")  # what the plugin's prefilter looks for


# ---- running and timing child processes -------------------------------------------------------

@dataclasses.dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # user + system seconds of the child and the children it waited for
    peak_mb: float  # maxrss of the child and its children


# Children run here: no config file of this repository (setup.cfg) applies to them, and no
# `python -m` or `-c` finds this tree's conv_lint instead of the venv's.
NEUTRAL_DIR = Path(tempfile.gettempdir())


def run_once(command: list[str], ok=(0, 1)) -> Sample:
    """Run ``command`` with its output discarded; fail loudly if it fails."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors,
                                   cwd=NEUTRAL_DIR)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in ok:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"bench: {' '.join(command)} exited {process.returncode}\n{tail}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def measure(commands: dict[str, list[str]], rounds: int) -> dict[str, list[Sample]]:
    """Every command once per round, in turn: the medians see the same machine."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            samples[name].append(run_once(command))
    return samples


def median(samples: list[Sample], clock: str) -> float:
    return statistics.median(getattr(s, clock) for s in samples)


def peak(samples: list[Sample]) -> float:
    return max(s.peak_mb for s in samples)


def child_json(command: list[str]) -> object:
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            cwd=NEUTRAL_DIR).stdout
    return json.loads(output)


# ---- the set-up: sources, venvs -----------------------------------------------------------------

class Setup:
    def __init__(self, cache: Path) -> None:
        self.cache = cache
        cache.mkdir(parents=True, exist_ok=True)
        self.flake8_version = _version("flake8")
        self.src = cache / "src"
        self.flake8_venv = cache / "venv-flake8"
        self.plugin_venv = cache / "venv-plugin"
        self.torchfix_venv = cache / "venv-torchfix"

    def prepare(self) -> None:
        self._sources()
        flake8 = f"flake8=={self.flake8_version}"
        self._venv(self.flake8_venv, [flake8])
        self._venv(self.torchfix_venv, [flake8, "torchfix"])
        self._venv(self.plugin_venv, [flake8, str(ROOT)], stamp=_source_hash())

    def _sources(self) -> None:
        if (self.src / "done").exists():
            return
        wheels = self.cache / "wheels"
        _say(f"downloading {' '.join(WHEELS)}")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", str(wheels), *WHEELS], check=True,
                       env={**os.environ, "PIP_CONSTRAINT": os.devnull})  # read, not installed
        shutil.rmtree(self.src, ignore_errors=True)
        for wheel in wheels.glob("*.whl"):
            with zipfile.ZipFile(wheel) as archive:
                members = [m for m in archive.namelist() if m.endswith(".py")
                           and (m.startswith("torchvision/models/") or m.startswith("timm/"))]
                archive.extractall(self.src, members)
        (self.src / "done").write_text("\n".join(WHEELS))

    def _venv(self, path: Path, requirements: list[str], stamp: str = "") -> None:
        marker = path / "bench-requirements"
        wanted = "\n".join(requirements + [stamp])
        if marker.exists() and marker.read_text() == wanted:
            return
        _say(f"creating {path.name}: {' '.join(requirements)}")
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "-q",
                        *requirements], check=True)
        marker.write_text(wanted)

    def python(self, venv: Path) -> str:
        return str(venv / "bin" / "python")

    def tool(self, venv: Path, name: str) -> str:
        return str(venv / "bin" / name)

    def versions(self) -> dict[str, str]:
        def of(venv: Path, package: str) -> str:
            code = f"import importlib.metadata as m; print(m.version({package!r}))"
            return subprocess.run([self.python(venv), "-c", code], capture_output=True,
                                  text=True, cwd=NEUTRAL_DIR).stdout.strip() or "?"

        return {
            "python": platform.python_version(),
            "flake8": self.flake8_version,
            "libcst (conv-lint venv)": of(self.plugin_venv, "libcst"),
            "conv-lint": of(self.plugin_venv, "conv-lint"),
            "torchfix": of(self.torchfix_venv, "torchfix"),
            "libcst (torchfix venv)": of(self.torchfix_venv, "libcst"),
        }

    def check_command(self) -> list[str]:
        return [self.tool(self.plugin_venv, "conv-lint"), "check"]


def _version(package: str) -> str:
    import importlib.metadata

    return importlib.metadata.version(package)


def _source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("conv_lint/**/*.py")) + [ROOT / "pyproject.toml"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _say(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


# ---- the figures ---------------------------------------------------------------------------

@dataclasses.dataclass
class Verdict:
    figure: str
    goal: str
    measured: str
    passed: Optional[bool]  # None: not measurable in this run

    def line(self) -> str:
        word = {True: "PASS", False: "MISS", None: "n/a"}[self.passed]
        return f"{self.figure:<46} {self.goal:<22} {self.measured:<40} {word}"


def judged(figure: str, goal: str, limit: float, ratio: dict[str, float], clock: str,
           extra: str = "", ok: bool = True) -> Verdict:
    """A ratio figure: ``clock``'s ratio decides, the other clock's is shown beside it."""
    other = "wall" if clock == "cpu" else "cpu"
    measured = f"{ratio[clock]:.3f}x {clock} ({other} {ratio[other]:.3f}x){extra}"
    return Verdict(figure, goal, measured, ok and ratio[clock] <= limit)


class Bench:
    def __init__(self, setup: Setup, rounds: int) -> None:
        self.setup = setup
        self.rounds = rounds
        self.details: list[str] = []

    def _report(self, samples: dict[str, list[Sample]]) -> None:
        for name, runs in samples.items():
            self.details.append(
                f"  {name:<44} wall {median(runs, 'wall'):8.3f} s   cpu "
                f"{median(runs, 'cpu'):8.3f} s   peak {peak(runs):7.1f} MB")

    def _ratio(self, samples, name: str, anchor: str) -> dict[str, float]:
        return {clock: median(samples[name], clock) / median(samples[anchor], clock)
                for clock in ("wall", "cpu")}

    def zoo(self) -> list[Verdict]:
        """1. conv-lint on torchvision's model sources vs TorchFix and vs a bare parse."""
        s = self.setup
        files = [str(p) for p in sorted((s.src / "torchvision" / "models").rglob("*.py"))]
        child = [s.python(s.plugin_venv), str(BENCH / "child.py")]
        verdicts = []
        for jobs in (1, 2):
            ours = s.check_command() + ["--no-cache", "--jobs", str(jobs), *files]
            label = f"conv-lint check -j{jobs}"
            commands = {
                label: ours,
                f"torchfix -j{jobs}": [s.tool(s.torchfix_venv, "torchfix"), "-j", str(jobs),
                                       *files],
                f"libcst.parse_module -j{jobs}": child + ["parse", "--jobs", str(jobs), *files],
            }
            samples = measure(commands, self.rounds)
            self.details.append(f"1. torchvision/models ({len(files)} files), {jobs} process"
                                f"{'es' if jobs > 1 else ''}:")
            self._report(samples)
            names = list(commands)
            clock = "cpu" if jobs == 1 else "wall"
            verdicts.append(judged(f"1. {label} / TorchFix", "<= 0.3x", 0.3,
                                   self._ratio(samples, names[0], names[1]), clock))
            verdicts.append(judged(f"1. {label} / bare parse", "<= 1.3x", 1.3,
                                   self._ratio(samples, names[0], names[2]), clock))
        return verdicts

    def startup(self) -> list[Verdict]:
        """2. flake8 --version with the plugin installed vs without."""
        s = self.setup
        commands = {
            "flake8 --version (with conv-lint)": [s.tool(s.plugin_venv, "flake8"), "--version"],
            "flake8 --version (flake8 alone)": [s.tool(s.flake8_venv, "flake8"), "--version"],
        }
        samples = measure(commands, self.rounds * 10)
        self.details.append("2. flake8 start-up:")
        self._report(samples)
        extra = sorted(_imported(s.python(s.plugin_venv)) - _imported(s.python(s.flake8_venv)))
        self.details.append("  modules the plugin adds at start-up: "
                            + (", ".join(extra) or "none"))
        heavy = [m for m in extra if m.split(".")[0] == "libcst" or m == "conv_lint.engine"]
        return [judged("2. flake8 --version with / without plugin", "<= 1.05x", 1.05,
                       self._ratio(samples, *commands), "cpu",
                       ", imports libcst" if heavy else "", not heavy)]

    def prefilter(self) -> list[Verdict]:
        """3. A file with no model: the plugin's cost on it, and that it parses nothing."""
        s = self.setup
        path = s.cache / "nomodel" / "stdlib_100k.py"
        _no_model_file(path)
        result = child_json([s.python(s.plugin_venv), str(BENCH / "child.py"), "prefilter",
                             str(path)])
        ms = result["seconds_per_file"] * 1000
        kb = result["bytes_per_file"] / 1000
        self.details.append(f"3. prefilter: {kb:.0f} KB file without a model: {ms:.3f} ms; "
                            f"libcst imported: {result['libcst_imported']}, engine imported: "
                            f"{result['engine_imported']}")
        clean = not result["libcst_imported"] and not result["engine_imported"]
        return [Verdict(f"3. plugin on a {kb:.0f} KB file with no model", "< 1 ms, no libcst",
                        f"{ms:.3f} ms" + ("" if clean else ", imports libcst"),
                        ms < 1 and clean)]

    def one_file(self) -> list[Verdict]:
        """4. One ~300-line model file: flake8 --select CNV vs flake8 --select F."""
        s = self.setup
        clean, broken = s.cache / "gen" / "model_300.py", s.cache / "gen" / "model_300_broken.py"
        _write(clean, model_file(300))
        _write(broken, model_file(300, broken=True))
        python = s.python(s.plugin_venv)
        commands = {
            "flake8 --select CNV (clean file)": [s.tool(s.plugin_venv, "flake8"), "--select",
                                                 "CNV", str(clean)],
            "flake8 --select CNV (one finding)": [s.tool(s.plugin_venv, "flake8"), "--select",
                                                  "CNV", str(broken)],
            "flake8 --select F (flake8 alone)": [s.tool(s.flake8_venv, "flake8"), "--select",
                                                 "F", str(clean)],
            # where the difference goes: the imports alone, in a bare interpreter
            "python -c pass": [python, "-c", "pass"],
            "python -c 'import libcst'": [python, "-c", "import libcst"],
            "python -c 'import libcst, conv_lint...'": [python, "-c", IMPORT_ENGINE],
        }
        samples = measure(commands, self.rounds * 3)
        lines = clean.read_text().count("\n")
        self.details.append(f"4. one {lines}-line model file:")
        self._report(samples)
        names = list(commands)
        bare, libcst, engine = (median(samples[n], "cpu") * 1000 for n in names[3:])
        self.details.append(f"  cpu of the imports: libcst {libcst - bare:.0f} ms, conv-lint's "
                            f"engine {engine - libcst:.0f} ms; flake8 --select F alone "
                            f"{median(samples[names[2]], 'cpu') * 1000:.0f} ms")
        verdicts = []
        for name in names[:2]:
            kind = name[name.index("(") + 1:-1]
            verdicts.append(judged(f"4. --select CNV / --select F, {kind}", "<= 2.5x", 2.5,
                                   self._ratio(samples, name, names[2]), "cpu"))
        return verdicts

    def per_line(self) -> list[Verdict]:
        """5. Cost per 1000 lines of generated model files of 100 to 10,000 lines."""
        s = self.setup
        paths = []
        for size in GEN_SIZES:
            paths.append(s.cache / "gen" / f"model_{size}.py")
            _write(paths[-1], model_file(size))
        results = child_json([s.python(s.plugin_venv), str(BENCH / "child.py"), "perline",
                              "--repeat", str(max(3, self.rounds)), *map(str, paths)])
        self.details.append("5. cost per 1000 lines (engine, and the parse inside it):")
        totals, own = [], []
        for result in results:
            per_kline = 1000 / result["lines"] * 1000
            engine, parse = result["engine"] * per_kline, result["parse"] * per_kline
            totals.append(engine)
            own.append(result["own"] * per_kline)
            self.details.append(f"  {result['lines']:>6} lines: engine {engine:7.1f} ms/kline "
                                f"(parse {parse:7.1f}, conv-lint's own {own[-1]:7.1f})")
        verdicts = []
        for label, costs in (("", totals), (", own part (minus parse)", own)):
            spread = [cost / costs[1] for cost in costs]
            verdicts.append(Verdict(f"5. cost/kline at 100, 10k vs 1k lines{label}",
                                    "within +-30%", f"{spread[0]:.2f}x, {spread[2]:.2f}x (cpu)",
                                    all(0.7 <= r <= 1.3 for r in spread)))
        return verdicts

    def warm(self) -> list[Verdict]:
        """6. A warm conv-lint check on an unchanged tree vs the cold run."""
        s = self.setup
        check = s.check_command()
        tree = [str(s.src / "torchvision" / "models"), str(s.src / "timm")]
        # The command keeps its cache beside the nearest pyproject.toml with [tool.conv-lint]:
        # one at the top of the sources keeps it there, out of this repository.
        _write(s.src / "pyproject.toml", "[tool.conv-lint]\n")
        cache = s.src / ".conv_lint_cache"
        cold, warm = [], []
        for _ in range(self.rounds):
            shutil.rmtree(cache, ignore_errors=True)
            cold.append(run_once(check + tree))
            warm.append(run_once(check + tree))
        samples = {"conv-lint check, cold": cold, "conv-lint check, warm": warm}
        self.details.append("6. warm vs cold on torchvision/models and timm:")
        self._report(samples)
        return [judged("6. warm / cold conv-lint check", "<= 0.1x", 0.1,
                       self._ratio(samples, "conv-lint check, warm", "conv-lint check, cold"),
                       "wall")]


FIGURES: dict[int, Callable[[Bench], list[Verdict]]] = {
    1: Bench.zoo, 2: Bench.startup, 3: Bench.prefilter, 4: Bench.one_file, 5: Bench.per_line,
    6: Bench.warm,
}


def _imported(python: str) -> set[str]:
    """Modules ``flake8 --version`` imports, from ``-X importtime``."""
    result = subprocess.run([python, "-X", "importtime", "-m", "flake8", "--version"],
                            capture_output=True, text=True, cwd=NEUTRAL_DIR)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _no_model_file(path: Path) -> None:
    """About 100 KB of standard-library modules in which neither `torch` nor `nn` occurs."""
    parts, size = [], 0
    for source in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        text = source.read_text(encoding="utf-8", errors="replace")
        if MODEL_HINT.search(text) or size + len(text.encode()) > NO_MODEL_BYTES * 1.1:
            continue
        parts.append(text)
        size += len(text.encode())
        if size >= NO_MODEL_BYTES:
            break
    _write(path, "\n".join(parts))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def machine(setup: Setup) -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"machine: {os.cpu_count()} cpus, {cpu}, {platform.system()} "
             f"{platform.release()}, load average at start {load:.1f}"]
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in setup.versions().items()))
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds per figure; the medians are over them (default 3)")
    parser.add_argument("--cache", type=Path, default=BENCH / ".cache",
                        help="where wheels, sources and venvs are kept (default bench/.cache)")
    parser.add_argument("--only", default="1,2,3,4,5,6",
                        help="comma-separated figure numbers to run (default all)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: must be at least 1")
    try:
        chosen = [int(n) for n in args.only.split(",")]
        if not set(chosen) <= set(FIGURES):
            raise ValueError
    except ValueError:
        parser.error(f"--only: figure numbers from 1 to 6, got {args.only!r}")
    setup = Setup(args.cache.resolve())
    setup.prepare()
    bench = Bench(setup, args.repeat)
    header = machine(setup)
    print("\n".join(header), flush=True)
    verdicts = []
    for number in chosen:
        _say(f"figure {number}")
        verdicts.extend(FIGURES[number](bench))
    print(f"\nmedians over {args.repeat} round(s) (figure 2: x10, figure 4: x3):")
    print("\n".join(bench.details))
    print()
    print(f"{'figure':<46} {'goal':<22} {'measured':<40} verdict")
    print("\n".join(v.line() for v in verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Held-out evaluation of conv-lint.

Step 2: label every model in models/ by running torch (each file in its own subprocess).
Step 3: run `flake8 --select CNV` on each file and score the findings against the labels.

Usage: python eval/evaluate.py            (labels + lint + summary; needs torch)
       python eval/evaluate.py --label F  (internal: label one file, JSON on stdout)
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "models")
PY = sys.executable
DIRECTIVE = re.compile(r"#\s*conv-lint:\s*input-shape=([0-9, ]+)")
CLASS = re.compile(r"\s*class\s+(\w+)")
FINDING = re.compile(r"^(?P<path>.*?):(?P<line>\d+):(?P<col>\d+): (?P<code>CNV\d+) (?P<msg>.*)$")


def annotated_class(path):
    lines = open(path).read().splitlines()
    for i, line in enumerate(lines[:-1]):
        m = DIRECTIVE.search(line)
        if m:
            c = CLASS.match(lines[i + 1])
            if not c:
                raise SystemExit(f"{path}:{i + 1}: directive not directly above a class line")
            shape = tuple(int(s) for s in m.group(1).replace(" ", "").split(",") if s)
            return c.group(1), shape, i + 2
    raise SystemExit(f"{path}: no input-shape directive")


def label_one(path):
    """Run in a subprocess: instantiate, forward zeros(2, *shape), report what torch did."""
    import importlib.util
    import torch

    path = os.path.abspath(path)
    cls_name, shape, cls_line = annotated_class(path)
    result = {"file": os.path.basename(path), "class": cls_name, "class_line": cls_line,
              "input_shape": list(shape)}

    # record views/reshapes called from the model file that change the batch axis
    regroups = []
    orig_view, orig_reshape, orig_treshape = torch.Tensor.view, torch.Tensor.reshape, torch.reshape

    def _record(src, out):
        f = sys._getframe(2)
        if os.path.abspath(f.f_code.co_filename) == path and isinstance(out, torch.Tensor) \
                and src.dim() > 0 and out.dim() > 0 and out.shape[0] != src.shape[0]:
            regroups.append({"line": f.f_lineno, "from": list(src.shape), "to": list(out.shape)})

    def view(self, *a, **k):
        out = orig_view(self, *a, **k)
        _record(self, out)
        return out

    def reshape(self, *a, **k):
        out = orig_reshape(self, *a, **k)
        _record(self, out)
        return out

    def treshape(t, *a, **k):
        out = orig_treshape(t, *a, **k)
        _record(t, out)
        return out

    torch.Tensor.view, torch.Tensor.reshape, torch.reshape = view, reshape, treshape
    stage = "import"
    try:
        spec = importlib.util.spec_from_file_location("heldout_model", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        stage = "construct"
        model = getattr(mod, cls_name)()
        stage = "forward"
        with torch.no_grad():
            out = model(torch.zeros(2, *shape))
        first = out
        while isinstance(first, (tuple, list)):
            first = first[0]
        result["output_shape"] = list(first.shape)
        if first.dim() == 0 or first.shape[0] != 2:
            # silent regroup: blame the view/reshape that changed the batch axis
            line = regroups[0]["line"] if regroups else None
            result.update(status="buggy", stage="forward", line=line,
                          error=f"runs, but output batch is {first.shape[0] if first.dim() else '-'}"
                                f" instead of 2 (view {regroups[0] if regroups else '?'})")
        else:
            result.update(status="ok")
    except Exception as e:  # noqa: BLE001
        tb = traceback.extract_tb(e.__traceback__)
        inside = [fr for fr in tb if os.path.abspath(fr.filename) == path]
        line = inside[-1].lineno if inside else None
        msg = str(e).strip().splitlines()
        result.update(status="buggy", stage=stage, line=line,
                      source=inside[-1].line if inside else None,
                      error=f"{type(e).__name__}: {msg[0] if msg else ''}"[:300])
    print(json.dumps(result))


def lint(path):
    p = subprocess.run([PY, "-m", "flake8", "--select", "CNV1", path],
                       capture_output=True, text=True)
    findings = []
    for ln in p.stdout.splitlines():
        m = FINDING.match(ln)
        if m:
            findings.append({"line": int(m["line"]), "col": int(m["col"]), "code": m["code"],
                             "msg": m["msg"]})
    return findings, p.returncode, p.stderr.strip()


def main():
    files = sorted(f for f in os.listdir(MODELS) if f.endswith(".py"))
    labels = {}
    for f in files:
        path = os.path.join(MODELS, f)
        p = subprocess.run([PY, os.path.abspath(__file__), "--label", path],
                           capture_output=True, text=True, timeout=600)
        try:
            labels[f] = json.loads(p.stdout.strip().splitlines()[-1])
        except Exception:  # noqa: BLE001
            raise SystemExit(f"labelling {f} failed:\n{p.stdout}\n{p.stderr}")
    with open(os.path.join(HERE, "labels.json"), "w") as fh:
        json.dump(labels, fh, indent=1)

    results = {}
    for f in files:
        findings, rc, err = lint(os.path.join(MODELS, f))
        results[f] = {"label": labels[f], "findings": findings, "flake8_rc": rc,
                      "flake8_stderr": err}
    with open(os.path.join(HERE, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1)

    buggy = [f for f in files if labels[f]["status"] == "buggy"]
    ok = [f for f in files if labels[f]["status"] == "ok"]
    caught, missed_silent, missed_wrong_line, extra, false_alarm = [], [], [], [], []
    for f in buggy:
        L = labels[f]["line"]
        fs = results[f]["findings"]
        if any(x["line"] == L for x in fs):
            caught.append(f)
        elif fs:
            missed_wrong_line.append(f)
        else:
            missed_silent.append(f)
        if any(x["line"] != L for x in fs):
            extra.append(f)
    for f in ok:
        if results[f]["findings"]:
            false_alarm.append(f)

    def show(f):
        lab = labels[f]
        s = f"  {f}"
        if lab["status"] == "buggy":
            s += f"\n    torch: line {lab['line']} ({lab['stage']}): {lab['error']}"
        for x in results[f]["findings"]:
            s += f"\n    lint : {x['line']}:{x['col']} {x['code']} {x['msg']}"
        if not results[f]["findings"]:
            s += "\n    lint : (nothing)"
        if results[f]["flake8_stderr"]:
            s += f"\n    flake8 stderr: {results[f]['flake8_stderr'][:300]}"
        return s

    print(f"files: {len(files)}  buggy (torch fails/regroups): {len(buggy)}  ok: {len(ok)}")
    print(f"buggy caught on the labelled line: {len(caught)}/{len(buggy)}")
    print(f"buggy missed: {len(missed_silent) + len(missed_wrong_line)}/{len(buggy)} "
          f"(silent {len(missed_silent)}, findings only on other lines {len(missed_wrong_line)})")
    print(f"correct files with any diagnostic (false alarms): {len(false_alarm)}/{len(ok)}")
    print(f"buggy files with extra diagnostics on other lines: {len(extra)}/{len(buggy)}")
    for title, group in [("MISSED (silent)", missed_silent),
                         ("MISSED (wrong line)", missed_wrong_line),
                         ("FALSE ALARMS", false_alarm),
                         ("EXTRA DIAGNOSTICS ON BUGGY FILES", [f for f in extra if f not in missed_wrong_line]),
                         ("CAUGHT", caught)]:
        print(f"\n== {title} ({len(group)})")
        for f in group:
            print(show(f))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--label":
        label_one(sys.argv[2])
    else:
        main()

"""How far conv-lint follows model code it was not written against: `conv-lint stats` over the
model code of public packages (hand-written classifiers, GANs, U-Nets, a CRNN, TCNs, ViTs and
transformers), pinned, downloaded with ``pip download --no-deps`` and read, never installed.

    python scripts/userland.py [--cache DIR] [--jobs N] [--json]

prints one line per package (conv layers understood, forward calls with a known shape) and the
total, the figures the README quotes. The packages are unpacked into the cache directory
(default: the temp dir's conv-lint-userland) once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# package: (version, the folders of model code inside the unpacked distribution)
PACKAGES = {
    "vit-pytorch": ("1.26.14", ["vit_pytorch"]),
    "pytorchcv": ("0.0.74", ["pytorchcv/models"]),
    "efficientnet_pytorch": ("0.7.1", ["efficientnet_pytorch-0.7.1/efficientnet_pytorch"]),
    "pretrainedmodels": ("0.7.4", ["pretrainedmodels-0.7.4/pretrainedmodels/models"]),
    "denoising-diffusion-pytorch": ("2.3.4", ["denoising_diffusion_pytorch"]),
    "segmentation-models-pytorch": ("0.6.0", ["segmentation_models_pytorch/decoders",
                                              "segmentation_models_pytorch/base"]),
    "monai": ("1.6.1", ["monai/networks/nets", "monai/networks/blocks"]),
    "ultralytics": ("8.4.190", ["ultralytics/nn"]),
    "torchgan": ("0.1.0", ["torchgan/models"]),
    "pytorch-tcn": ("1.2.3", ["pytorch_tcn"]),
    "easyocr": ("1.7.2", ["easyocr/model"]),
    "stylegan2-pytorch": ("1.9.0", ["stylegan2_pytorch"]),
    "x-transformers": ("2.31.10", ["x_transformers"]),
}


def unpacked(cache: Path, package: str) -> Path:
    """The package's distribution unpacked (its Python files) under ``cache``, downloaded once."""
    version, _ = PACKAGES[package]
    target = cache / f"{package}-{version}"
    if (target / ".complete").is_file():
        return target
    downloads = cache / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    # Read, never installed: the machine's cap on what pip installs must not refuse them.
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                    "-d", str(downloads), f"{package}=={version}"],
                   check=True, env={**os.environ, "PIP_CONSTRAINT": os.devnull})
    stem = package.replace("-", "_").lower()
    (archive,) = [path for path in downloads.iterdir()
                  if path.name.lower().replace("-", "_").startswith(f"{stem}_{version}")]
    target.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as whl:
            whl.extractall(target, [m for m in whl.namelist() if m.endswith(".py")])
    else:
        with tarfile.open(archive) as sdist:
            sdist.extractall(target, [m for m in sdist.getmembers() if m.name.endswith(".py")],
                             filter="data")
    (target / ".complete").write_text("ok\n")
    return target


def _file_stats(path: str):
    from conv_lint import stats

    return stats.file_stats(Path(path).read_text(encoding="utf-8", errors="replace"), path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "conv-lint-userland")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="one JSON document")
    args = parser.parse_args(argv)
    from conv_lint import stats

    rows, every = [], []
    with ProcessPoolExecutor(args.jobs) as workers:
        for package, (version, folders) in PACKAGES.items():
            root = unpacked(args.cache, package)
            files = sorted(str(p) for folder in folders for p in (root / folder).rglob("*.py"))
            results = list(workers.map(_file_stats, files, chunksize=2))
            every += results
            rows.append((f"{package} {version}", stats.Totals(results)))
    rows.append(("all", stats.Totals(every)))
    if args.json:
        print(json.dumps({name: stats.render_json(totals) for name, totals in rows}))
        return 0
    print("| package | files | conv layers understood | forward calls with a known shape |")
    print("|---|---:|---:|---:|")
    for name, totals in rows:
        understood = totals.count(stats.RESOLVED) + totals.count(stats.SYMBOLIC)
        print(f"| {name} | {len(totals.files)} | {_share(understood, totals.layers)} | "
              f"{_share(totals.known_calls, totals.calls)} |")
    print("\nforward calls without a shape, by reason:")
    for reason, count in rows[-1][1].losses().most_common(12):
        print(f"  {count:6d}  {reason}")
    return 0


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}% of {whole}" if whole else "-"


if __name__ == "__main__":
    sys.exit(main())

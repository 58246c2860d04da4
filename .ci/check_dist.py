"""Check what the sdist and the wheel in a folder hold (CI, after
``python -m build``): the LICENSE in both; in the wheel the three kernel
variants with their stubs, ``py.typed`` and the public stubs, the torch
operators' sources, and nothing of the repository's tests, docs,
benchmarks, examples or generated C.

Run: ``python .ci/check_dist.py dist``
"""

import email
import pathlib
import re
import sys
import tarfile
import zipfile

VARIANTS = ("baseline", "avx2", "avx512")
STUBS = ("__init__.pyi", "ufuncs.pyi", "torch.pyi", "keras.pyi", "py.typed")
NEVER = ("tests/", "docs/", "asv_bench/", "examples/", ".ci/")


def check_sdist(path):
    names = {name.split("/", 1)[1] for name in tarfile.open(path).getnames() if "/" in name}
    missing = {"LICENSE", "pyproject.toml", "meson.build", "src/_kernels.pyx", "src/_kernels.pyi",
               "leaky/py.typed"} - names
    assert not missing, f"{path.name} lacks {sorted(missing)}"


def check_wheel(path):
    archive = zipfile.ZipFile(path)
    names = archive.namelist()
    problems = []
    for stub in STUBS:
        if f"leaky/{stub}" not in names:
            problems.append(f"no leaky/{stub}")
    for variant in VARIANTS:
        if not any(n.startswith(f"leaky/_kernels_{variant}.") and n.endswith(".so")
                   for n in names):
            problems.append(f"no {variant} kernels")
        if f"leaky/_kernels_{variant}.pyi" not in names:
            problems.append(f"no stub for the {variant} kernels")
    for needed in ("leaky/_backends/torch/csrc/leaky_ops.cpp",
                   "leaky/_backends/torch/csrc/leaky_kernel_table.h"):
        if needed not in names:
            problems.append(f"no {needed}")
    if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
        problems.append("no LICENSE in .dist-info/licenses")
    problems += [f"ships {n}" for n in names
                 if n.startswith(NEVER) or n.endswith((".c", ".pyx"))]
    metadata = email.message_from_bytes(archive.read(
        next(n for n in names if n.endswith(".dist-info/METADATA"))))
    if metadata["License-Expression"] != "BSD-3-Clause":
        problems.append(f"License-Expression is {metadata['License-Expression']!r}")
    pins = [r for r in metadata.get_all("Requires-Dist") or []
            if re.search(r"(?<![<>!=~])==(?!=)", r.split(";")[0])]
    problems += [f"extra pins an exact version: {r}" for r in pins]
    assert not problems, f"{path.name}: " + "; ".join(problems)


def main(folder):
    folder = pathlib.Path(folder)
    sdists, wheels = sorted(folder.glob("*.tar.gz")), sorted(folder.glob("*.whl"))
    assert sdists and wheels, f"{folder} needs an sdist and a wheel"
    for sdist in sdists:
        check_sdist(sdist)
    for wheel in wheels:
        check_wheel(wheel)
    print(f"ok: {', '.join(p.name for p in sdists + wheels)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dist")

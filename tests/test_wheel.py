"""nnlib as an ordinary package: a built wheel, installed in a fresh virtual environment,
loads the shipped data and trains, run from a folder outside the repository.

The wheel is built from this checkout (``pip wheel .``, which builds in an
isolated environment and needs PyPI for setuptools), installed with the pinned
NumPy and nothing else, and a smoke script runs from a temporary folder, so
neither the repository's ``nnlib/`` nor its ``data/`` folder can be found by
accident. Takes about half a minute.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

SMOKE = """
import sys, pathlib
import nnlib
from nnlib.data import DATA_DIR, load_breast_cancer, load_california_housing, load_digits
from nnlib.model import mlp
from nnlib.train import fit

here = pathlib.Path(nnlib.__file__).resolve()
assert "site-packages" in here.parts, here
assert DATA_DIR == here.parent / "data" / "files", DATA_DIR
X, y = load_digits()
assert X.shape == (1797, 64) and y.shape == (1797,)
assert load_breast_cancer().X.shape == (569, 30)
assert load_california_housing().X.shape[0] == 20640
X = X / 16.0
model = mlp([64, 32, 10], activation="relu")
result = fit(model, model.init(seed=0), X, y, loss="cross_entropy", optimizer="adam",
             lr=1e-2, epochs=3, batch_size=64)
h = result.history
assert not h.diverged and h.train_loss[-1] < h.train_loss[0], h.train_loss
print("smoke ok", here.parent.name, round(h.train_loss[0], 4), round(h.train_loss[-1], 4))
"""


def pinned(name: str) -> str:
    text = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}==(\S+)$", text, flags=re.MULTILINE)
    assert match, f"requirements.txt has no exact pin for {name}"
    return match.group(1)


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNLIB_DATA_DIR")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}"
    )
    return result


def test_every_package_of_nnlib_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(path.parent.relative_to(REPO_ROOT).parts)
        for path in (REPO_ROOT / "nnlib").rglob("__init__.py")
    }
    assert on_disk <= listed, f"add {sorted(on_disk - listed)} to packages in pyproject.toml"
    assert config["tool"]["setuptools"]["package-dir"]["nnlib.data.files"] == "data"


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_venv_and_trains_from_another_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), "."], REPO_ROOT
    )
    (wheel,) = wheels.glob("nnlib-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for data_file in ("digits.csv.gz", "breast_cancer.csv", "california_housing.csv"):
        assert f"nnlib/data/files/{data_file}" in names, f"{data_file} is not in the wheel"
    assert not any(name.startswith(("tests/", "notebooks/")) for name in names)

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    run(
        [str(python), "-m", "pip", "install", "-q", f"numpy=={pinned('numpy')}", str(wheel)],
        tmp_path,
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = run([str(python), "-c", SMOKE], outside)
    assert "smoke ok" in result.stdout

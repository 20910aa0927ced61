"""The README's install path, followed literally: a fresh venv, ``pip install -e`` of the checkout, an example.

This is what a PyTorch user does after ``git clone``: ember is not on the package index, so the
README installs it from the checkout. The venv is made without ``--system-site-packages``, so the
test sees only what that install provides (NumPy comes from pip's cache or the package index). It
takes some 20 seconds; it is skipped, saying why, when pip cannot install (no network, no cache).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_gives_the_checkout_install_and_no_index_install():
    # ember is not on the package index: the README must not send users there
    assert "pip install 'ember[" not in README and 'pip install "ember[' not in README
    for command in ("python -m venv .venv", ". .venv/bin/activate", "pip install -e '.[examples]'",
                    "python examples/fit_polynomial.py"):
        assert command in README, command


def test_readme_names_every_extra_and_example():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in extras:
        if name != "bench":                  # the benchmarks' peers: `make bench` installs them
            assert f"pip install -e '.[{name}]'" in README, name
    for example in sorted((ROOT / "examples").glob("*.py")):
        assert f"python examples/{example.name}" in README, example.name


def test_license_is_the_one_pyproject_names():
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "the ember authors" in text


def test_fresh_venv_install_runs_an_example(tmp_path):
    # a copy of what pip needs from the checkout, so the install's egg-info lands in tmp_path
    checkout = tmp_path / "ember"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "src", checkout / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "examples", checkout / "examples", ignore=shutil.ignore_patterns("__pycache__"))

    env_dir = tmp_path / ".venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # the outer environment must not leak in: no PYTHONPATH pointing at a source tree
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", str(checkout)],
                         capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    if pip.returncode != 0:
        pytest.skip(f"pip could not install ember into a fresh venv (offline?): {pip.stderr.strip()[-400:]}")

    run = subprocess.run([str(python), "examples/fit_polynomial.py", "--tiny"], capture_output=True, text=True,
                         timeout=120, env=env, cwd=checkout)
    assert run.returncode == 0, run.stderr
    assert "result: y =" in run.stdout
    where = subprocess.run([str(python), "-c", "import ember; print(ember.__file__)"], capture_output=True, text=True,
                           timeout=60, env=env, cwd=tmp_path)
    assert Path(where.stdout.strip()).resolve().is_relative_to(checkout.resolve()), where.stdout

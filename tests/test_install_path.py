"""The README's install path, followed literally: a fresh venv, ``pip install -e`` of the checkout, an example.

This is what a PyTorch user does after ``git clone``: ember is not on the package index, so the
README installs it from the checkout. The venv is made without ``--system-site-packages``, so the
test sees only what that install provides (NumPy comes from pip's cache or the package index). It
takes about a minute (the examples extra's install, then each example at --tiny and the tour); it is
skipped, saying why, when pip cannot install (no network, no cache).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
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


def install_block() -> str:
    """The shell block of the README's Install section, as a user copies it."""
    section = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    m = re.search(r"```sh\n(.*?)```", section, re.S)
    assert m, "the README's Install section has no ```sh block"
    return m.group(1)


def readme_examples() -> list[str]:
    """The example commands the README's Examples table lists."""
    section = README.split("## Examples", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(python examples/\w+\.py)`", section, re.M)


def test_readme_lists_every_example():
    assert sorted(readme_examples()) == sorted(f"python examples/{p.name}" for p in (ROOT / "examples").glob("*.py"))


# what each example prints when it worked (at --tiny)
PROMISES = {"fit_polynomial": "result: y =", "train_digits_mlp": "held-out accuracy", "train_digits_cnn": "held-out accuracy",
            "char_model": "--- sample ---", "custom_function": "gradcheck(Softplus)             -> True",
            "ddp_digits": "held-out accuracy"}


# pip's words when neither the package index nor its cache has a package
OFFLINE = ("No matching distribution", "Could not find a version", "Failed to establish a new connection",
           "Temporary failure in name resolution", "Network is unreachable")


def test_readme_steps_run_every_example_and_the_tour(tmp_path):
    """From nothing to each example and the tour with the README's own commands: its Install block
    as written (a fresh .venv, ``pip install -e '.[examples]'``, the first example), then every
    example in its Examples table at ``--tiny``, then ``make tour`` and ``python -m ember tour``."""
    # a copy of what a clone holds that the steps use, so the install's egg-info lands in tmp_path
    checkout = tmp_path / "ember"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "Makefile"):
        shutil.copy(ROOT / name, checkout / name)
    shutil.copytree(ROOT / "src", checkout / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(ROOT / "examples", checkout / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    # `python` is this interpreter (3.11+), as on a user's PATH; the outer environment must not leak in
    shim = tmp_path / "bin"
    shim.mkdir()
    for name in ("python", "python3"):
        (shim / name).symlink_to(sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{shim}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    def sh(script: str, timeout: int) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-ec", script], capture_output=True, text=True, timeout=timeout, env=env, cwd=checkout)

    install = sh(install_block(), 600)
    if install.returncode != 0 and any(m in install.stderr for m in OFFLINE):
        pytest.skip(f"pip could not install ember into a fresh venv (offline?): {install.stderr.strip()[-400:]}")
    assert install.returncode == 0, install.stderr[-2000:]
    assert "result: y =" in install.stdout

    activate = ". .venv/bin/activate\n"
    for command in readme_examples():
        run = sh(activate + command + " --tiny", 300)
        assert run.returncode == 0, (command, run.stderr[-2000:])
        assert PROMISES[command.split("/")[1][:-3]] in run.stdout, (command, run.stdout[-1000:])
    tours = [activate + "python -m ember tour"] + (["make tour"] if shutil.which("make") else [])
    for command in tours:
        tour = sh(command, 300)
        assert tour.returncode == 0, (command, tour.stderr[-2000:])
        assert "cells ran on ember" in tour.stdout, command
    where = sh(activate + "cd .. && python -c 'import ember; print(ember.__file__)'", 60)
    assert Path(where.stdout.strip()).resolve().is_relative_to(checkout.resolve()), where.stdout

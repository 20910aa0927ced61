"""`python -m ember run SCRIPT` runs unmodified PyTorch programs and prints what torch prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMS = sorted((Path(__file__).parent / "torch_programs").glob("*.py"))


def _run(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return re.sub(r"0x[0-9a-f]+", "0x?", proc.stdout)


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_prints_what_torch_prints(program):
    ember_out = _run(["-m", "ember", "run", str(program)])
    torch_out = _run([str(program)])
    assert ember_out == torch_out


def test_missing_api_is_named(tmp_path):
    script = tmp_path / "uses_quantize.py"
    script.write_text("import torch\nx = torch.ones(4)\nprint(torch.quantize_per_tensor(x, 0.1, 0, torch.quint8))\n")
    proc = subprocess.run([sys.executable, "-m", "ember", "run", "--report", str(script)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert "ember does not implement torch.quantize_per_tensor" in proc.stderr
    assert "MISSING torch.quantize_per_tensor" in proc.stderr and "ok      torch.ones" in proc.stderr


def test_script_arguments_are_passed(tmp_path):
    script = tmp_path / "args.py"
    script.write_text("import sys, torch\nprint(sys.argv[1:], torch.tensor([1.5]).dtype)\n")
    out = _run(["-m", "ember", "run", str(script), "a", "--b"])
    assert out == "['a', '--b'] torch.float32\n"


def test_torch_version_reads_the_torch_release_ember_follows(tmp_path):
    script = tmp_path / "version.py"
    script.write_text("import torch, ember\n"
                      "v = torch.__version__\n"
                      "print(v, v >= '2.0', v < '2.14', v > (2, 9), v == '2.13', isinstance(v, str), "
                      "torch.version.__version__ == v, torch.version.cuda, ember.__version__)\n"
                      "print(type(torch.ones(1)), type(torch.nn.Linear(1, 1)), type(torch.float32))\n")
    out = _run(["-m", "ember", "run", str(script)]).splitlines()
    assert out[0] == "2.13.0 True True True True True True None 0.1.0"
    assert out[1] == ("<class 'torch.Tensor'> <class 'torch.nn.modules.linear.Linear'> <class 'torch.dtype'>")

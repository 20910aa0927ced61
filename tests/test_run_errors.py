"""Errors under `python -m ember run` read as they do under `python script.py` with torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

TYPO = "import torch\n\n\ndef make():\n    return torch.tensr([1.0])\n\n\nmake()\n"


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def frames(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.strip().startswith('File "')]


def test_a_typo_keeps_pythons_suggestion(tmp_path):
    script = tmp_path / "typo.py"
    script.write_text(TYPO)
    proc = run("-m", "ember", "run", str(script))
    assert proc.returncode == 1                                      # as `python typo.py` exits
    last = proc.stderr.strip().splitlines()[-1]
    assert last.endswith("ember does not implement torch.tensr. Did you mean: 'tensor'?"), proc.stderr


def test_the_suggestion_attributes_are_set():
    import ember
    from ember import _compat

    proxy = _compat.TorchProxy("torch", ember, {})
    with pytest.raises(AttributeError) as info:
        _ = proxy.tensr
    assert isinstance(info.value, _compat.MissingTorchAPI)
    assert info.value.name == "tensr" and info.value.obj is proxy    # what Python's suggestion reads
    with pytest.raises(AttributeError) as info:
        _ = proxy.no_such_thing_at_all
    assert "Did you mean" not in str(info.value)                     # no suggestion when nothing is close
    assert str(info.value) == "ember does not implement torch.no_such_thing_at_all"


def test_traceback_starts_at_the_script_as_python_does(tmp_path):
    script = tmp_path / "typo.py"
    script.write_text(TYPO)
    ours = frames(run("-m", "ember", "run", str(script)).stderr)
    theirs = frames(run(str(script)).stderr)                          # the same script on real torch
    # both start with the script's own two frames (module, then make()); then the library's __getattr__
    assert ours[:2] == theirs[:2] == [f'File "{script}", line 8, in <module>', f'File "{script}", line 5, in make']
    assert len(ours) == 3 and "runpy" not in " ".join(ours) and "__main__.py" not in " ".join(ours)


def test_an_error_in_ember_keeps_the_frames_below_the_script(tmp_path):
    script = tmp_path / "shapes.py"
    script.write_text("import torch\nprint(torch.ones(2, 3) @ torch.ones(2, 3))\n")
    proc = run("-m", "ember", "run", str(script))
    assert proc.returncode == 1
    got = frames(proc.stderr)
    assert got[0] == f'File "{script}", line 2, in <module>'
    assert proc.stderr.strip().splitlines()[-1].startswith("RuntimeError: mat1 and mat2 shapes cannot be multiplied")


def test_system_exit_status_is_kept(tmp_path):
    script = tmp_path / "bye.py"
    script.write_text("import sys, torch\nsys.exit(3)\n")
    assert run("-m", "ember", "run", str(script)).returncode == 3


def test_a_syntax_error_shows_no_ember_frames(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import torch\nx = torch.ones(2\n")
    ours = run("-m", "ember", "run", str(script))
    theirs = run(str(script))
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == theirs.stderr                              # no traceback frames, the same message

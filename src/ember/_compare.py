"""``python -m ember compare SCRIPT.py``: run a PyTorch script under torch and under ember, and diff.

Both runs are subprocesses started at the same time: ``python SCRIPT.py`` (real torch) and
``python -m ember run SCRIPT.py`` (``import torch`` resolved to ember). Their standard outputs are
compared line by line. Inside a line, text must agree exactly (runs of spaces count as one space,
``ember`` reads as ``torch``, object addresses are ignored) and numbers must agree within float32
tolerance: relative ``rtol`` or absolute ``atol``, or within one unit of the last digit printed.
The report says PASS, or where the outputs first part: the line number, both lines and the token.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# a number as Python or torch prints one: 12, -0.5, 1.5e-05, .5, 3., nan, inf
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_EMBER = re.compile(r"\bember\b")


@dataclass
class Run:
    """One side of a comparison: what the script printed and how it ended."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Difference:
    """The first place two outputs part."""

    line: int  # 1-based; 0 when the outputs agree but the exit statuses do not
    torch_line: str | None
    ember_line: str | None
    torch_token: str | None = None
    ember_token: str | None = None
    why: str = ""


@dataclass
class Comparison:
    """The result of :func:`compare`: both runs, and the first difference if any."""

    script: str
    torch: Run
    ember: Run
    difference: Difference | None = None
    lines: int = 0
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the outputs agree within tolerance and both runs ended the same way."""
        return self.difference is None

    def report(self, stderr_lines: int = 25) -> str:
        """A readable account: PASS with timings, or the first difference and the tracebacks."""
        t, e = self.torch, self.ember
        timing = f"torch {t.seconds:.1f} s, ember {e.seconds:.1f} s"
        if self.ok:
            return f"PASS  {self.script}: {self.lines} lines of output agree ({timing})"
        d = self.difference
        assert d is not None  # not ok: there is a difference
        out = [f"FAIL  {self.script} ({timing})"]
        if d.line:
            out.append(f"  first difference at output line {d.line}: {d.why}")
            out.append(f"    torch: {_show(d.torch_line)}")
            out.append(f"    ember: {_show(d.ember_line)}")
            if d.torch_token is not None or d.ember_token is not None:
                out.append(f"    token: torch {d.torch_token!r} vs ember {d.ember_token!r}")
        else:
            out.append(f"  {d.why}")
        for run in (t, e):
            if run.returncode != 0 or (run.stderr.strip() and not self.ok):
                tail = _trim_traceback(run.stderr, self.script).rstrip().splitlines()[-stderr_lines:]
                if tail:
                    if run.returncode != 0:
                        out.append(f"  {run.name} failed: {tail[-1].strip()}")
                    out.append(f"  {run.name} stderr (exit status {run.returncode}, last {len(tail)} lines):")
                    out.extend("    | " + line for line in tail)
        return "\n".join(out)


def _trim_traceback(stderr: str, script: str) -> str:
    """Drop the frames of the runner (runpy, ``ember run``) before the script's own first frame."""
    lines = stderr.splitlines()
    mark = f'File "{Path(script).resolve()}"'
    for i, line in enumerate(lines):
        if line.startswith("Traceback") and i + 1 < len(lines):
            for j in range(i + 1, len(lines)):
                if mark in lines[j]:
                    lines[i + 1:j] = []
                    break
    return "\n".join(lines)


def _show(line: str | None) -> str:
    return "(no such line: output ended)" if line is None else line


def _tokens(line: str) -> list[tuple[bool, str]]:
    """Split a line into (is_number, text) pieces; text pieces have their whitespace collapsed."""
    pieces: list[tuple[bool, str]] = []
    text, pos = "", 0
    for m in _NUMBER.finditer(line):
        # "x2" or "fc1": a digit glued to a word is part of the text, not a number
        if m.start() > 0 and (line[m.start() - 1].isalnum() or line[m.start() - 1] == "_"):
            continue
        text += line[pos:m.start()]
        if text.strip():
            pieces.append((False, " ".join(text.split())))
        pieces.append((True, m.group()))
        text, pos = "", m.end()
    text += line[pos:]
    if text.strip():
        pieces.append((False, " ".join(text.split())))
    return pieces


def _last_digit_unit(token: str) -> float:
    """The value of one unit in the last printed digit of a number token (0 for integers)."""
    mantissa, _, exponent = token.lower().partition("e")
    if "." not in mantissa and not exponent:
        return 0.0
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def numbers_agree(a: str, b: str, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Whether two printed numbers agree within tolerance or one unit of the last digit."""
    if a == b:
        return True
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return x == y or (math.isnan(x) and math.isnan(y))
    diff = abs(x - y)
    if diff <= atol + rtol * max(abs(x), abs(y)):
        return True
    unit = max(_last_digit_unit(a), _last_digit_unit(b))
    return diff <= unit * 1.0001


def _normalize(line: str) -> str:
    return _EMBER.sub("torch", _ADDRESS.sub("0x?", line.rstrip()))


def first_difference(torch_out: str, ember_out: str, rtol: float = 1e-4, atol: float = 1e-5,
                     ignore: re.Pattern | None = None) -> tuple[Difference | None, int]:
    """Compare two outputs line by line; return the first difference (or None) and the line count."""
    def lines(text: str) -> list[tuple[int, str]]:
        return [(i + 1, raw) for i, raw in enumerate(text.splitlines()) if not (ignore and ignore.search(raw))]

    tl, el = lines(torch_out), lines(ember_out)
    for k in range(max(len(tl), len(el))):
        if k >= len(tl) or k >= len(el):
            num, t_raw, e_raw = (el[k][0], None, el[k][1]) if k >= len(tl) else (tl[k][0], tl[k][1], None)
            why = "ember printed more lines" if t_raw is None else "ember's output ended early"
            return Difference(num, t_raw, e_raw, why=why), k
        num, t_raw = tl[k]
        e_raw = el[k][1]
        t_tok, e_tok = _tokens(_normalize(t_raw)), _tokens(_normalize(e_raw))
        for j in range(max(len(t_tok), len(e_tok))):
            if j >= len(t_tok) or j >= len(e_tok):
                tt = t_tok[j][1] if j < len(t_tok) else None
                et = e_tok[j][1] if j < len(e_tok) else None
                return Difference(num, t_raw, e_raw, tt, et, "the lines have different lengths"), k
            (tn, tt), (en, et) = t_tok[j], e_tok[j]
            if tn and en:
                if not numbers_agree(tt, et, rtol, atol):
                    return Difference(num, t_raw, e_raw, tt, et, "numbers differ beyond tolerance"), k
            elif tt != et:
                return Difference(num, t_raw, e_raw, tt, et, "text differs"), k
    return None, len(tl)


def _ember_env() -> dict:
    """The environment for the ember run: this ember importable even when it is not installed."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def torch_available(python: str = sys.executable) -> bool:
    """Whether real PyTorch can be imported by ``python``."""
    probe = subprocess.run([python, "-c", "import torch"], capture_output=True, text=True)
    return probe.returncode == 0


def compare(script: str, args: list[str] | None = None, rtol: float = 1e-4, atol: float = 1e-5,
            timeout: float = 600, ignore: str | None = None, python: str = sys.executable,
            env: dict | None = None) -> Comparison:
    """Run ``script`` under torch and under ember (in parallel subprocesses) and compare stdouts.

    ``env`` adds environment variables to both runs (e.g. ``OMP_NUM_THREADS``).
    """
    args = list(args or [])
    cwd = str(Path(script).resolve().parent)
    path = str(Path(script).resolve())
    env_torch = dict(os.environ)
    env_ember = _ember_env()
    for environ in (env_torch, env_ember):
        environ["PYTHONHASHSEED"] = "0"  # set iteration order (vocabularies built from sets) the same on both sides
        environ.update(env or {})
    commands = {"torch": ([python, path, *args], env_torch),
                "ember": ([python, "-m", "ember", "run", path, *args], env_ember)}
    def run(name: str) -> Run:
        cmd, env = commands[name]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n(killed after {timeout:.0f} s)"
        return Run(name, proc.returncode, out, err, time.perf_counter() - start)

    with ThreadPoolExecutor(2) as pool:  # both at once: the comparison takes as long as the slower run
        runs = dict(zip(commands, pool.map(run, commands)))
    t, e = runs["torch"], runs["ember"]
    pattern = re.compile(ignore) if ignore else None
    diff, count = first_difference(t.stdout, e.stdout, rtol, atol, pattern)
    if t.returncode != 0:
        diff = Difference(0, None, None, why=f"the script fails under torch itself (exit status {t.returncode}); "
                                             "fix it there first")
    elif diff is None and t.returncode != e.returncode:
        diff = Difference(0, None, None, why=f"the outputs agree but torch exited with status {t.returncode} "
                                             f"and ember with {e.returncode}")
    elif diff is not None and e.returncode != 0 and t.returncode == 0:
        diff.why += f" (ember failed with exit status {e.returncode})"
    return Comparison(script, t, e, diff, count)


def main(script: str, args: list[str], rtol: float, atol: float, timeout: float, ignore: str | None,
         quiet: bool = False) -> int:
    """The ``compare`` command: print the report; exit 0 on PASS, 1 on FAIL, 2 when torch is missing."""
    if not Path(script).is_file():
        print(f"ember compare: no such script: {script}", file=sys.stderr)
        return 2
    if not torch_available():
        print("ember compare needs PyTorch as the reference, and `import torch` fails in this Python "
              f"({sys.executable}).\nInstall it (e.g. `pip install torch --index-url "
              "https://download.pytorch.org/whl/cpu`) or use `python -m ember run SCRIPT` alone.", file=sys.stderr)
        return 2
    result = compare(script, args, rtol=rtol, atol=atol, timeout=timeout, ignore=ignore)
    print(result.report())
    if result.difference is not None and not quiet and result.difference.line:
        print(f"  (tolerance: rel {rtol:g}, abs {atol:g}, or one unit in the last printed digit)")
    return 0 if result.ok else 1

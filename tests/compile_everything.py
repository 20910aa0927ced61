"""Run a PyTorch program on ember with every outermost ``nn.Module`` call compiled.

    python tests/compile_everything.py SCRIPT.py [args...]

What ``ember.compile`` must survive: the real programs of tests/programs, unmodified, each model
call traced on its first call and replayed on later ones. The program must print what it prints
eagerly (test_programs.py compares them; grad_fn names aside, as torch.compile's results are
CompiledFunctionBackward's too). Calls, graph breaks and their reasons go to stderr.
"""

from __future__ import annotations

import atexit
import collections
import sys
import warnings

import ember
from ember._compat import run_script

_call = ember.nn.Module.__call__
_compiled: dict[int, tuple] = {}  # id(module) -> (its compiled call, the module: kept alive)
_depth = [0]
calls = collections.Counter()
breaks: collections.Counter = collections.Counter()


def _compiled_call(self, *args, **kwargs):
    if _depth[0]:  # (a submodule, or the compiled call's own call of the module)
        return _call(self, *args, **kwargs)
    if id(self) not in _compiled:
        _compiled[id(self)] = (ember.compile(self), self)
    _depth[0] += 1
    try:
        calls["calls"] += 1
        return _compiled[id(self)][0](*args, **kwargs)
    finally:
        _depth[0] -= 1


def _note_breaks(message, category, filename, lineno, file=None, line=None):
    text = str(message)
    if text.startswith("ember.compile"):
        breaks[text.split("; calls like")[0]] += 1
    else:
        _show(message, category, filename, lineno, file, line)


@atexit.register
def _report() -> None:
    print(f"[compiled] {calls['calls']} calls, {sum(breaks.values())} graph breaks", file=sys.stderr)
    for text, n in breaks.most_common():
        print(f"[compiled]   {n} x {text}", file=sys.stderr)


ember.nn.Module.__call__ = _compiled_call
_show = warnings.showwarning
warnings.showwarning = _note_breaks
warnings.filterwarnings("always", message="ember.compile")

if __name__ == "__main__":
    sys.exit(run_script(sys.argv[1], sys.argv[2:]))

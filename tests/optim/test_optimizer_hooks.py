"""Optimizer hooks against torch: step pre/post hooks (per optimizer and global, args rewriting, a
subclass's step calling super().step() runs them twice, as torch's do), state-dict and load-state-dict hooks."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys, importlib
    torch = importlib.import_module(sys.argv[1])
    register_optimizer_step_pre_hook = importlib.import_module(sys.argv[1] + '.optim.optimizer').register_optimizer_step_pre_hook
    p = torch.nn.Parameter(torch.ones(2)); p.grad = torch.ones(2)
    opt = torch.optim.SGD([p], lr=0.5)
    log = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: log.append(('pre', type(o).__name__, len(a), a[0] is o, k)))
    h2 = opt.register_step_post_hook(lambda o, a, k: log.append(('post', len(a), sorted(k))))
    g = register_optimizer_step_pre_hook(lambda o, a, k: log.append(('global pre',)))
    opt.step(); print(log, p.tolist()); log.clear()
    h1.remove(); g.remove()
    opt.register_step_pre_hook(lambda o, a, k: ((o,), {'closure': lambda: log.append('closure') or 7.0}))
    print(opt.step(), log); log.clear(); h2.remove()
    class My(torch.optim.SGD):
        def step(self, closure=None):
            log.append('my step')
            return super().step(closure)
    my = My([p], lr=0.1)
    my.register_step_pre_hook(lambda o, a, k: log.append('pre'))
    my.step(); print(log); log.clear()
    opt.register_state_dict_pre_hook(lambda o: log.append('sd pre'))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, 'extra': 1})
    print(sorted(opt.state_dict()), log); log.clear()
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(('load pre', sorted(sd))))
    opt.register_load_state_dict_post_hook(lambda o: log.append('load post'))
    opt.load_state_dict(opt.state_dict()); print(log)
    bad = torch.optim.SGD([p], lr=0.1); bad.register_step_pre_hook(lambda o, a, k: 3)
    try: bad.step()
    except RuntimeError as e: print('RuntimeError', 'must return None or a tuple of (new_args, new_kwargs)' in str(e))
''')


def _run(lib: str) -> str:
    out = subprocess.run([sys.executable, "-c", SCRIPT, lib], capture_output=True, text=True, check=True)
    return out.stdout


def test_optimizer_hooks_match_torch():
    assert _run("ember") == _run("torch")

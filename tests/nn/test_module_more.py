"""nn.Module's set_submodule, get/set_extra_state, state-dict pre/post hooks, to_empty, bfloat16 and
nn.Buffer, against torch (the same script under both, outputs compared line by line)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys, importlib
    torch = importlib.import_module(sys.argv[1]); nn = torch.nn
    s = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    s.set_submodule('1', nn.Tanh()); print(s)
    for args in [('2', nn.Tanh(), True), ('0.weight', nn.Tanh()), ('', nn.Tanh())]:
        try: s.set_submodule(*args)
        except Exception as e: print(type(e).__name__, e)
    s.set_submodule('2', nn.Tanh()); print(s)
    m = nn.Linear(2, 2)
    for f in (m.get_extra_state, lambda: m.set_extra_state(1)):
        try: f()
        except Exception as e: print(type(e).__name__, str(e))
    m2 = nn.Linear(2, 3).to_empty(device='cpu'); print(tuple(m2.weight.shape), type(m2.weight).__name__)
    class E(nn.Module):
        def __init__(s): super().__init__(); s.l = nn.Linear(1, 1); s.v = 3
        def get_extra_state(s): return {'v': s.v}
        def set_extra_state(s, st): s.v = st['v']
    e = E(); print(list(e.state_dict())); e2 = E(); e2.v = 0; e2.load_state_dict(e.state_dict()); print(e2.v)
    sd = e.state_dict(); del sd['_extra_state']
    try: e2.load_state_dict(sd)
    except Exception as ex: print(ex)
    print(e2.load_state_dict(sd, strict=False))
    m3 = nn.Linear(1, 1)
    m3.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: print('pre', prefix, keep_vars))
    m3.register_state_dict_post_hook(lambda mod, sd, prefix, meta: print('post', list(sd), prefix, meta))
    nn.Sequential(m3).state_dict()
    print(str(nn.Linear(2, 2).bfloat16().weight.dtype).split('.')[1])
    b = nn.Buffer(torch.ones(2))
    print(isinstance(b, nn.Buffer), isinstance(torch.ones(1), nn.Buffer), b.requires_grad, nn.Buffer())
    mb = nn.Module(); t = torch.ones(2); mb.x = nn.Buffer(t); mb.y = nn.Buffer(torch.zeros(1), persistent=False)
    print(mb.x is t, list(mb.state_dict()), [n for n, _ in mb.named_buffers()])
''')


def _run(lib: str) -> str:
    out = subprocess.run([sys.executable, "-c", SCRIPT, lib], capture_output=True, text=True, check=True)
    return out.stdout.replace("ember", "torch")


def test_module_api_matches_torch():
    assert _run("ember") == _run("torch")

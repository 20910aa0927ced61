"""The corpus of real public PyTorch programs (tests/programs/) runs on ember and prints what torch prints.

Each program runs under torch and under ember (``python -m ember run``) through the comparator
(``ember._compare``): text exactly, numbers within float32 tolerance. Programs that need an API
another branch is adding are listed in KNOWN_FAILING with the first missing API or mismatch; they
are strict xfails, so one that starts passing must leave the list.
"""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from ember._compare import compare

PROGRAMS = sorted((Path(__file__).parent / "programs").glob("*.py"))

KNOWN_FAILING: dict[str, str] = {
    "d2l_batch_norm": "numpyalias: Tensor.argmax(axis=1) (d2l's accuracy idiom; passes with it aliased)",
    "d2l_dropout": "numpyalias: Tensor.argmax(axis=1) in d2l.accuracy (passes with it aliased)",
    "examples_dcgan": "NOBODY: `import torch.nn.parallel` (then devices: torch.backends.cudnn, torch.cuda.FloatTensor, "
                      "torch.FloatTensor(sizes); then NOBODY: Tensor.resize_, a bare AttributeError)",
    "examples_mnist": "devices: torch.cuda.is_available (passes with torch.cuda/backends.mps stubbed)",
    "examples_vae": "devices: torch.cuda.is_available (passes with it stubbed)",
    "examples_word_language_model": "numpyalias: torch.load(f, weights_only=False) of a whole nn.Module",
    "examples_word_language_model_transformer": "rnnattn: torch.nn.Transformer (subclassed by TransformerModel)",
    "makemore_gpt": "devices: torch.cuda.manual_seed_all (passes with it stubbed)",
    "tutorials_buildmodel": "devices: torch.cuda.is_available (passes with it stubbed)",
    "examples_mnist_forward_forward": "devices: torch.cuda.is_available, torch.xpu (passes with them stubbed)",
    "tutorials_nn_tutorial": "devices: torch.cuda.is_available (passes with it stubbed)",
    "tutorials_char_rnn_generation": "devices: torch.autograd.Variable, torch.LongTensor (passes with them stubbed)",
    "tutorials_nlp_deep_learning": "devices: torch.autograd.Variable (passes with it stubbed)",
    "tutorials_nlp_lstm_tagger": "devices: torch.autograd.Variable (passes with it stubbed)",
    "tutorials_nlp_word_embeddings": "devices: torch.LongTensor (passes with it and Variable stubbed)",
    "tutorials_polynomial_autograd": "devices: torch.accelerator (then torch.set_default_device)",
    "tutorials_quickstart": "devices: torch.cuda.is_available (passes with it stubbed)",
    "tutorials_saving_loading_models": "numpyalias: torch.load(PATH, weights_only=False) of a whole nn.Module",
    "tutorials_two_layer_net_module": "devices: from torch.autograd import Variable (passes with it stubbed)",
    "tutorials_two_layer_net_optim": "devices: from torch.autograd import Variable (passes with it stubbed)",
}

requires_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs PyTorch as the reference")


def _param(path: Path):
    reason = KNOWN_FAILING.get(path.stem)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


_POOL: ThreadPoolExecutor | None = None
_RESULTS: dict[Path, Future] = {}


def _result(program: Path):
    """The comparison of ``program``; the first call starts every program's, a few at a time.

    The runs spend much of their time importing and waiting, so two comparisons (four processes)
    at once finish the corpus sooner than one after another, even on two cores.
    """
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(int(os.environ.get("EMBER_CORPUS_JOBS", "2")))
        # one thread per run: the runs share the machine, and CI has two cores
        env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        for p in PROGRAMS:
            _RESULTS[p] = _POOL.submit(compare, str(p), timeout=300, env=env)
    return _RESULTS[program].result()


@requires_torch
@pytest.mark.parametrize("program", [_param(p) for p in PROGRAMS])
def test_program_matches_torch(program: Path) -> None:
    result = _result(program)
    assert result.ok, "\n" + result.report()


def test_every_program_names_its_source() -> None:
    for program in PROGRAMS:
        head = program.read_text(encoding="utf-8").splitlines()[:6]
        assert any(line.startswith("# Source:") for line in head), program.name
        assert any(line.startswith("# Changes") for line in program.read_text(encoding="utf-8").splitlines()[:8])


def test_known_failing_names_real_programs() -> None:
    stems = {p.stem for p in PROGRAMS}
    assert set(KNOWN_FAILING) <= stems, set(KNOWN_FAILING) - stems

"""The programs in examples/ run, learn, and write what they promise (tiny sizes, a few seconds each)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# custom_function shows the naive log(1 + exp(x)) overflowing on purpose
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def load(name: str, source_edit=None):
    """Import examples/<name>.py as a module (optionally with its source edited first)."""
    path = EXAMPLES / f"{name}.py"
    if source_edit is None:
        spec = importlib.util.spec_from_file_location(f"ember_example_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    module = type(sys)(f"ember_example_{name}_edited")
    module.__file__ = str(path)
    exec(compile(source_edit(path.read_text()), str(path), "exec"), module.__dict__)
    return module


def on_torch(source: str) -> str:
    """The example with its ember imports swapped for torch's, as its docstring promises works."""
    return (source.replace("import ember as torch", "import torch")
            .replace("import ember.nn.functional as F", "import torch.nn.functional as F")
            .replace("from ember", "from torch"))


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000, f"{path} is not a real PNG ({len(data)} bytes)"


# --- fit_polynomial ---------------------------------------------------------------------------------

def test_fit_polynomial_reaches_the_least_squares_cubic(capsys):
    r = load("fit_polynomial").main([])
    out = capsys.readouterr().out
    assert "manual gradient descent" in out and "result: y =" in out
    for losses in (r["manual_losses"], r["nn_losses"]):
        assert losses[-1] < losses[0] / 100
    # the least-squares cubic for sin on [-pi, pi] is about 0.857 x - 0.0933 x^3
    a, b, c, d = r["nn_coeffs"]
    assert abs(a) < 1e-3 and abs(c) < 1e-3 and b == pytest.approx(0.857, abs=5e-3) and d == pytest.approx(-0.0933, abs=1e-3)
    assert r["manual_coeffs"][1] == pytest.approx(0.857, abs=0.02)
    assert r["manual_losses"][-1] < 0.01 and r["nn_losses"][-1] < 0.005


def test_fit_polynomial_gives_torchs_numbers(capsys):
    ours = load("fit_polynomial").main(["--tiny"])
    theirs = load("fit_polynomial", on_torch).main(["--tiny"])
    assert ours["manual_losses"] == pytest.approx(theirs["manual_losses"], rel=1e-4)
    assert ours["nn_losses"] == pytest.approx(theirs["nn_losses"], rel=1e-4)


def test_fit_polynomial_compiled_steps_give_the_eager_numbers(capsys):
    # both loops compile whole: the hand-written `p -= lr * p.grad; p.grad = None` and the optimizer's
    eager = load("fit_polynomial").main(["--tiny"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # (a graph break warns)
        compiled = load("fit_polynomial").main(["--tiny", "--compile"])
    for k in ("manual_losses", "manual_coeffs", "nn_losses", "nn_coeffs"):
        assert compiled[k] == eager[k]


def test_an_example_runs_as_a_command():
    proc = subprocess.run([sys.executable, str(EXAMPLES / "fit_polynomial.py"), "--tiny"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "2) nn.Linear(3, 1)" in proc.stdout and "result: y =" in proc.stdout


# --- digits -----------------------------------------------------------------------------------------

def test_digits_mlp_full_size_beats_95_percent(tmp_path, capsys):
    out = tmp_path / "mlp.png"
    r = load("train_digits_mlp").main(["--out", str(out)])
    text = capsys.readouterr().out
    assert r["test_acc"][-1] > 0.95
    assert r["train_loss"][-1] < r["train_loss"][0] / 10
    assert "held-out accuracy" in text
    assert "batch/s" in text and "acc=" in text and "loss=" in text and "test_acc=" in text
    assert_png(out)


def test_digits_cnn_tiny(tmp_path, capsys):
    out = tmp_path / "runs" / "cnn.png"            # its folder is created
    r = load("train_digits_cnn").main(["--tiny", "--out", str(out)])
    text = capsys.readouterr().out
    assert r["train_loss"][-1] < r["train_loss"][0] * 0.75
    assert r["test_acc"][-1] > 0.5                                  # chance is 0.1
    assert len(r["test_acc"]) == 5 and "held-out accuracy" in text
    assert_png(out)


@pytest.mark.parametrize("name", ["train_digits_mlp", "train_digits_cnn"])
def test_digits_match_torch_for_an_epoch(tmp_path, capsys, name):
    args = ["--tiny", "--epochs", "1", "--out"]
    ours = load(name).main(args + [str(tmp_path / "a.png")])
    theirs = load(name, on_torch).main(args + [str(tmp_path / "b.png")])
    assert ours["batch_loss"] == pytest.approx(theirs["batch_loss"], rel=1e-4)
    assert ours["test_acc"] == theirs["test_acc"]


@pytest.mark.parametrize("name", ["train_digits_mlp", "train_digits_cnn"])
def test_digits_compiled_step_gives_the_eager_numbers(tmp_path, capsys, name):
    # ember.compile replays the step as a NumPy program: the same losses bit for bit, and torch's (eager) to
    # float32 rounding
    args = ["--tiny", "--epochs", "2", "--out"]
    eager = load(name).main(args + [str(tmp_path / "a.png")])
    compiled = load(name).main(args + [str(tmp_path / "b.png"), "--compile"])
    assert compiled["batch_loss"] == eager["batch_loss"]
    assert compiled["test_acc"] == eager["test_acc"]
    theirs = load(name, on_torch).main(args + [str(tmp_path / "c.png")])
    assert compiled["batch_loss"] == pytest.approx(theirs["batch_loss"], rel=1e-4)


@pytest.mark.parametrize("missing", ["tqdm", "sklearn", "matplotlib"])
def test_digits_without_the_extra_names_it(monkeypatch, missing):
    module = load("train_digits_mlp")
    monkeypatch.setitem(sys.modules, missing, None)                # makes `import missing` fail
    if missing == "sklearn":
        monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(SystemExit) as exc:
        module.main(["--tiny"])
    message = str(exc.value.code)
    assert "pip install -e '.[examples]'" in message and missing in message


# --- char_model -------------------------------------------------------------------------------------

def test_char_model_learns_and_prints_a_sample(capsys):
    r = load("char_model").main(["--tiny", "--prompt", "import "])
    out = capsys.readouterr().out
    losses = r["losses"]
    first, last = sum(losses[:5]) / 5, sum(losses[-10:]) / 10
    assert first > 4.0 and last < first - 1.0                       # from ~log(vocab) to well below
    assert r["sample"].startswith("import ") and len(r["sample"]) == len("import ") + 80
    assert "--- sample" in out and r["sample"] in out
    assert "standard-library source" in out


def test_char_model_gives_torchs_numbers(capsys):
    ours = load("char_model").main(["--tiny"])
    theirs = load("char_model", on_torch).main(["--tiny"])
    assert ours["losses"] == pytest.approx(theirs["losses"], rel=1e-3)


def test_char_model_compiled_step_gives_the_eager_numbers(capsys):
    # the Embedding + LSTM + Linear step with gradient clipping traces whole (a graph break would warn)
    eager = load("char_model").main(["--tiny"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = load("char_model").main(["--tiny", "--compile"])
    assert compiled["losses"] == eager["losses"] and compiled["sample"] == eager["sample"]


# --- custom_function --------------------------------------------------------------------------------

def test_custom_function(capsys):
    r = load("custom_function").main(["--tiny"])
    out = capsys.readouterr().out
    assert r["gradcheck"] is True
    assert r["straight_through_gradcheck"] is False
    assert r["losses"][-1] < r["losses"][0] / 10
    assert "gradcheck(Softplus)             -> True" in out and "inf" in out


def test_custom_function_gives_torchs_numbers(capsys):
    ours = load("custom_function").main(["--tiny"])
    theirs = load("custom_function", on_torch).main(["--tiny"])
    assert ours["losses"] == pytest.approx(theirs["losses"], rel=1e-4)


def test_custom_function_compiled_step_gives_the_eager_numbers(capsys):
    # the user's Function inside the compiled step: its forward traced, its backward replayed as a
    # call of Softplus.backward; no graph break (a warning would fail the test), the same losses bit for bit
    eager = load("custom_function").main(["--tiny"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # (a graph break; the naive formula's overflow is on purpose)
        compiled = load("custom_function").main(["--tiny", "--compile"])
    assert compiled["losses"] == eager["losses"]
    theirs = load("custom_function", on_torch).main(["--tiny", "--compile"])
    assert compiled["losses"] == pytest.approx(theirs["losses"], rel=1e-4)


# --- every example as the README runs it -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.py")))
def test_each_example_runs_as_a_command_and_writes_only_under_runs(tmp_path, name):
    # `python examples/NAME.py --tiny` from a folder of the user's: whatever it writes lands in that
    # folder's runs/ (the default --out), never next to the example in the checkout
    before = {p for p in EXAMPLES.rglob("*")}
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--tiny"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {p for p in EXAMPLES.rglob("*")} - before <= {p for p in EXAMPLES.rglob("__pycache__*")}
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert all(w.startswith("runs/") for w in written), written
    if name.startswith("train_digits"):
        assert written == [f"runs/{name.removeprefix('train_')}.png"]
        assert_png(tmp_path / written[0])
        assert f"loss curve saved to runs/{name.removeprefix('train_')}.png" in proc.stdout

"""``torch._dynamo`` names scripts call around torch.compile, against torch 2.13."""

from __future__ import annotations

import pytest
import torch._dynamo as td

import ember._dynamo as ed


def test_config_reads_writes_and_refuses_unknown_names_as_torch():
    for name in ("suppress_errors", "cache_size_limit", "recompile_limit", "verbose", "capture_scalar_outputs"):
        assert getattr(ed.config, name) == getattr(td.config, name), name
    old = ed.config.suppress_errors
    ed.config.suppress_errors = True
    assert ed.config.suppress_errors is True
    ed.config.suppress_errors = old
    for lib in (td, ed):
        with pytest.raises(AttributeError, match=r"torch\._dynamo\.config\.no_such_flag does not exist"):
            lib.config.no_such_flag = 1
        with pytest.raises(AttributeError, match=r"torch\._dynamo\.config\.no_such_flag does not exist"):
            _ = lib.config.no_such_flag


def test_reset_and_markers_run():
    import ember

    f = ember.compile(lambda x: x * 2 + 1)
    assert f(ember.ones(2)).tolist() == [3.0, 3.0]
    ed.reset()
    assert f(ember.ones(2)).tolist() == [3.0, 3.0]
    x = ember.ones(3, 2)
    assert ed.mark_dynamic(x, 0) is None and ed.mark_static(x) is None
    g = lambda v: v  # noqa: E731
    assert ed.allow_in_graph(g) is g and ed.disable(g).__wrapped__ is g  # (as torch's: a wrapper)

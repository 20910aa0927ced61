"""Every public class says where it lives as torch does (torch.nn.modules.linear.Linear ->
ember.nn.modules.linear.Linear), and that module really holds it, so pickling by reference works."""

from __future__ import annotations

import importlib
import pickle

import ember
import ember.nn as nn
import ember.optim as optim
import ember.utils.data as data


def _public_classes():
    for mod in (ember, nn, optim, optim.lr_scheduler, data, nn.utils, nn.init):
        for name in dir(mod):
            obj = getattr(mod, name)
            if isinstance(obj, type) and obj.__module__.startswith("ember"):
                yield obj


def test_each_public_class_is_found_where_its_module_says():
    missing = []
    for cls in _public_classes():
        try:
            home = importlib.import_module(cls.__module__)
        except ImportError:
            missing.append(f"{cls.__module__}.{cls.__qualname__} (no module)")
            continue
        if getattr(home, cls.__qualname__, None) is not cls:
            missing.append(f"{cls.__module__}.{cls.__qualname__}")
    assert not missing, missing


def test_optimizer_and_batchnorm_classes_pickle_by_reference():
    for cls in (optim.Adam, optim.SGD, nn.BatchNorm1d, nn.InstanceNorm2d):
        assert pickle.loads(pickle.dumps(cls)) is cls

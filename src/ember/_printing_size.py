"""Tiny helpers for messages that mention shapes the way torch prints them."""

from __future__ import annotations

from . import _dtype


def size_str(shape: tuple) -> str:
    return f"{_dtype.PREFIX[0]}.Size({list(shape)})"

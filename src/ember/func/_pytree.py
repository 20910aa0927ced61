"""Flattening nested tuples, lists and dicts of tensors into a list and back (torch's pytrees, in brief)."""

from __future__ import annotations

from typing import Any, Callable


def tree_flatten(tree: Any) -> tuple[list, Callable[[list], Any]]:
    """The leaves of ``tree`` in order, and a function that rebuilds the same structure from new leaves."""
    if isinstance(tree, (tuple, list)):
        parts = [tree_flatten(x) for x in tree]
        sizes = [len(leaves) for leaves, _ in parts]
        kind = type(tree)

        def unflatten(leaves: list) -> Any:
            out, i = [], 0
            for (_, rebuild), n in zip(parts, sizes):
                out.append(rebuild(leaves[i:i + n]))
                i += n
            return kind(out) if kind in (tuple, list) else kind(*out)  # (named tuples take fields)

        return [leaf for leaves, _ in parts for leaf in leaves], unflatten
    if isinstance(tree, dict):
        keys = list(tree)
        flat, rebuild = tree_flatten([tree[k] for k in keys])
        return flat, lambda leaves: type(tree)(zip(keys, rebuild(leaves)))
    return [tree], lambda leaves: leaves[0]


def tree_map(fn: Callable, tree: Any) -> Any:
    """``tree`` with ``fn`` applied to every leaf."""
    leaves, rebuild = tree_flatten(tree)
    return rebuild([fn(x) for x in leaves])


def tree_spec(tree: Any, indent: int = 0) -> str:
    """The structure of ``tree`` as torch prints a TreeSpec (``*`` for a leaf), for error messages."""
    if isinstance(tree, (tuple, list, dict)):
        children = list(tree.values()) if isinstance(tree, dict) else list(tree)
        context = repr(list(tree)) if isinstance(tree, dict) else "None"
        sep = ",\n" + " " * (indent + 2)
        inner = sep.join(tree_spec(c, indent + 2) for c in children)
        return f"TreeSpec({type(tree).__name__}, {context}, [{inner}])"
    return "*"

"""A problem as data: how the grader hands a variant to the sandboxed kernel.

The grading kernel cannot import the exercise modules (they hold the
reference solvers), so it cannot call ``make_problem`` itself.  The grader
computes the problem and sends it as JSON; the kernel rebuilds an object
with the same attribute names, values and types of containers (a frozen
dataclass named like the original, tuples as tuples, sets as frozensets,
dicts with any hashable keys).  Answer cells that read ``ex.problem.pages``
or ``ex.problem["n"]`` work unchanged, and so do the problem's public
zero-argument methods and properties (``p.rows()``): the grader evaluates
them and the look-alike returns the stored results.  Methods that take
arguments are not available in the grading kernel.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Problem:
...     levels: tuple
...     name: str
...     def total(self):
...         return sum(self.levels)
>>> back = decode(encode(Problem((4, 4), "x")))
>>> back.levels, back.name, type(back).__name__, back.total()
((4, 4), 'x', 'Problem', 8)
>>> decode(encode({"pairs": [(1, 2)], "s": {3}}))
{'pairs': [(1, 2)], 's': frozenset({3})}
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import importlib
import inspect
import json

__all__ = ["encode", "decode"]

_MAX_DEPTH = 32


def encode(value, depth: int = 0):
    """Plain JSON for a problem (dataclasses, tuples, lists, sets, dicts, enums, scalars).

    Examples
    --------
    >>> encode((1, "a"))
    {'__tuple__': [1, 'a']}
    >>> encode(object())
    Traceback (most recent call last):
    ...
    TypeError: problem must be plain data or dataclasses of it; got object
    """
    if depth > _MAX_DEPTH:
        raise ValueError("problem is nested too deeply")
    t = type(value)
    if value is None or t in (bool, int, float, str):
        return value
    if isinstance(value, enum.Enum):
        return encode(value.value, depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"__dataclass__": t.__name__, "module": t.__module__,
               "fields": {f.name: encode(getattr(value, f.name), depth + 1)
                          for f in dataclasses.fields(value)}}
        derived = _derived(value, depth)
        if derived:
            out["derived"] = derived
        return out
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
        return {"__namedtuple__": t.__name__,
                "fields": {k: encode(v, depth + 1) for k, v in zip(value._fields, value)}}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"__set__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)]
                             for k, v in value.items()]}
    raise TypeError(f"problem must be plain data or dataclasses of it; got {t.__name__}")


def _derived(value, depth: int) -> dict:
    """Results of the problem's public zero-argument methods and properties.

    ``Problem.rows()`` is part of what a student reads; its code lives in the
    exercise module (beside the solver), so the grader evaluates it and the
    kernel's look-alike class returns the stored result.
    """
    out = {}
    for name, attr in inspect.getmembers(type(value)):
        if name.startswith("_") or name in {f.name for f in dataclasses.fields(value)}:
            continue
        if isinstance(inspect.getattr_static(type(value), name), (staticmethod, classmethod)):
            continue                            # not a reading of this problem
        if isinstance(attr, property):
            result = getattr(value, name)
            out[name] = {"property": True, "value": encode(result, depth + 1)}
        elif inspect.isfunction(attr):
            params = list(inspect.signature(attr).parameters.values())
            if len(params) == 1 and params[0].kind in (params[0].POSITIONAL_ONLY,
                                                       params[0].POSITIONAL_OR_KEYWORD):
                out[name] = {"property": False, "value": encode(attr(value), depth + 1)}
    return out


_CLASSES: dict = {}


def _method(data, is_property: bool):
    def get(self):
        return decode(data)  # a fresh copy: a caller may change what it gets
    return property(get) if is_property else get


def _record(kind: str, name: str, fields: tuple, derived: dict | None = None):
    derived = derived or {}
    key = (kind, name, fields, json.dumps(derived, sort_keys=True))
    if key not in _CLASSES:
        if kind == "dataclass":
            ns = {k: _method(d["value"], d["property"]) for k, d in derived.items()}
            _CLASSES[key] = dataclasses.make_dataclass(name, list(fields), frozen=True,
                                                       namespace=ns)
        else:

            _CLASSES[key] = collections.namedtuple(name, fields)
    return _CLASSES[key]


def decode(data):
    """Rebuild the object :func:`encode` described (in the kernel)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__set__" in data:
        return frozenset(decode(v) for v in data["__set__"])
    if "__dict__" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["__dict__"]}
    model = _model_class(data)
    if model is not None:                      # e.g. a partitioning.Machine: the real class
        return model(**{k: decode(v) for k, v in data["fields"].items()})
    for kind in ("dataclass", "namedtuple"):
        if f"__{kind}__" in data:
            fields = data["fields"]
            cls = _record(kind, str(data[f"__{kind}__"]), tuple(fields), data.get("derived"))
            return cls(**{k: decode(v) for k, v in fields.items()})
    raise ValueError(f"not an encoded problem: keys {sorted(data)}")


def _model_class(data: dict):
    # A dataclass of a model module (virtlab.partitioning.Machine, ...) is rebuilt
    # as itself, so student code can pass it on to the models; the exercise
    # modules (virtlab.grading.*) are not in the kernel, their classes get the
    # look-alike.
    module, name = data.get("module"), data.get("__dataclass__")
    if not (isinstance(module, str) and isinstance(name, str) and module.startswith("virtlab.")
            and not module.startswith("virtlab.grading")):
        return None
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return cls if dataclasses.is_dataclass(cls) else None


def _hashable(x):
    return tuple(_hashable(v) for v in x) if isinstance(x, list) else x

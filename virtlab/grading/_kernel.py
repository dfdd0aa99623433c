"""Plain-data conversion and the answer export that runs in the student's kernel.

This module is deliberately self-contained (standard library only, no
relative imports): the grader pastes its *source* into the last cell of the
notebook it executes, so that the export does not depend on anything the
student's code may have replaced in ``virtlab``.  The same functions are used
in-process by ``check()`` and by the solution checks.

Only exact built-in types survive :func:`to_plain` (``type(x) is int``, not
``isinstance``): an answer object whose ``__eq__`` always returns True, or an
``int`` subclass with tricks, is exported as ``{"__unsupported__": type}`` and
can never compare equal to a reference answer.  The grading process compares
the exported plain JSON; nothing the kernel says about correctness is trusted.

Examples
--------
>>> to_plain({"b": (1, 2.5), "a": {3, 1}})
{'b': [1, 2.5], 'a': {'__set__': [1, 3]}}
>>> class Liar:
...     def __eq__(self, other):
...         return True
>>> to_plain(Liar())
{'__unsupported__': 'Liar'}
>>> to_plain(float("nan"))
{'__float__': 'nan'}
"""

import builtins as _builtins
import copy as _copy
import json as _json
import math as _math
import signal as _signal

__all__ = ["Unsupported", "to_plain", "plain_key", "export_answers", "type_name", "clean_name"]

MAX_DEPTH = 20
MAX_ITEMS = 200_000
#: Longest type name an export carries (a class name is student-controlled text).
MAX_NAME = 40

# Bound once, when this code is loaded (in a grading kernel: by the grader's
# first cell, before any student code): a student who later replaces
# ``json.dumps``, ``copy.deepcopy`` or the built-in ``open`` does not change
# what the export writes.
_dumps = _json.dumps
_deepcopy = _copy.deepcopy
_open = _builtins.open
_isnan, _isinf = _math.isnan, _math.isinf
_setitimer, _signal_fn = getattr(_signal, "setitimer", None), _signal.signal


def type_name(t) -> str:
    """A type's name, cut to :data:`MAX_NAME` characters of ``[A-Za-z0-9_.]``.

    Examples
    --------
    >>> type_name(type("LEAK_" + "x" * 100, (Exception,), {}))
    'LEAK_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
    >>> type_name(type("a(1, 2)", (), {}))
    'a_1__2_'
    """
    try:
        name = str(type.__dict__["__name__"].__get__(t))
    except Exception:
        return "?"
    return clean_name(name)


def clean_name(name) -> str:
    """``name`` cut to :data:`MAX_NAME` characters of ``[A-Za-z0-9_.]``.

    Examples
    --------
    >>> clean_name("Key Error: 'x'")
    'Key_Error___x_'
    """
    return "".join(c if (c.isascii() and c.isalnum()) or c in "_." else "_"
                   for c in str(name)[:MAX_NAME]) or "?"


class Unsupported(Exception):
    """Raised inside :func:`to_plain` for values that are not plain data."""


def plain_key(value):
    """A total order for plain values (used to sort set members).

    Examples
    --------
    >>> sorted([3, "a", 1], key=plain_key)
    ['a', 1, 3]
    """
    return _dumps(value, sort_keys=True)


def _plain(x, depth, budget):
    budget[0] -= 1
    if budget[0] < 0:
        raise Unsupported("too large")
    if depth > MAX_DEPTH:
        raise Unsupported("too deeply nested")
    t = type(x)
    if x is None or t is bool or t is int or t is str:
        if t is int and abs(x) > 10**300:
            raise Unsupported("int too large")
        return x
    if t is float:
        if _isnan(x):
            return {"__float__": "nan"}
        if _isinf(x):
            return {"__float__": "inf" if x > 0 else "-inf"}
        return x
    if t is list or t is tuple:
        return [_plain(v, depth + 1, budget) for v in x]
    if t is set or t is frozenset:
        items = [_plain(v, depth + 1, budget) for v in x]
        return {"__set__": sorted(items, key=plain_key)}
    if t is dict:
        pairs = [(_plain(k, depth + 1, budget), _plain(v, depth + 1, budget))
                 for k, v in x.items()]
        if all(type(k) is str for k, _ in pairs):
            return {k: v for k, v in pairs}
        return {"__dict__": sorted(([k, v] for k, v in pairs), key=lambda kv: plain_key(kv[0]))}
    # numpy scalars and arrays: accept through their exact-type conversion
    module = getattr(t, "__module__", "") or ""
    if module.startswith("numpy") and hasattr(x, "tolist"):
        value = x.tolist()
        if type(value) is t:  # a fake that returns itself
            raise Unsupported(type_name(t))
        return _plain(value, depth + 1, budget)
    raise Unsupported(type_name(t))


def to_plain(x):
    """Convert ``x`` to JSON-compatible plain data, or a marker if impossible.

    Lists and tuples become lists, sets become ``{"__set__": sorted list}``,
    dicts with non-string keys become ``{"__dict__": [[k, v], ...]}``.
    Anything else (including subclasses of the built-in types) becomes
    ``{"__unsupported__": type name}``.

    Examples
    --------
    >>> to_plain((1, [True, None]))
    [1, [True, None]]
    >>> to_plain({1: "a"})
    {'__dict__': [[1, 'a']]}
    >>> class MyInt(int):
    ...     pass
    >>> to_plain(MyInt(3))
    {'__unsupported__': 'MyInt'}
    """
    try:
        return _plain(x, 0, [MAX_ITEMS])
    except Unsupported as exc:
        return {"__unsupported__": str(exc)}
    except RecursionError:
        return {"__unsupported__": "too deeply nested"}


class _CallTimeout(BaseException):
    pass


def _call(fn, args, seconds):
    """Call ``fn(*args)`` with a wall-clock limit; return plain result or marker.

    Anything the call raises -- also ``KeyboardInterrupt``, ``SystemExit`` or
    another ``BaseException`` -- becomes ``{"__error__": type name}`` (cut to
    :data:`MAX_NAME` characters), so one bad call never loses the other answers.
    """
    def _alarm(signum, frame):
        raise _CallTimeout()

    use_alarm = _setitimer is not None
    old = None
    try:
        if use_alarm:
            old = _signal_fn(_signal.SIGALRM, _alarm)
            _setitimer(_signal.ITIMER_REAL, seconds)
        try:
            result = fn(*_deepcopy(args))
        finally:
            if use_alarm:
                _setitimer(_signal.ITIMER_REAL, 0)
        return to_plain(result)
    except _CallTimeout:
        return {"__error__": "timeout"}
    except NotImplementedError:
        return {"__error__": "NotImplementedError"}
    except BaseException as exc:  # the student's function failed: record the type only
        return {"__error__": type_name(type(exc))}
    finally:
        if use_alarm and old is not None:
            _signal_fn(_signal.SIGALRM, old)


def export_answers(namespace, spec):
    """Collect a question set's answers from ``namespace`` as plain data.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace.
    spec : dict
        ``{"values": [names], "functions": {name: {"cases": [[args], ...]}},
        "call_timeout": seconds}``.

    Returns
    -------
    dict
        ``{"values": {name: plain}, "functions": {name: [plain, ...]}}``;
        a missing name is ``{"__missing__": name}``, an unanswered one
        (``...``) is ``{"__unanswered__": True}``.

    Examples
    --------
    >>> ns = {"x": {1, 2}, "y": ..., "f": lambda n: n * 2}
    >>> spec = {"values": ["x", "y", "z"], "functions": {"f": {"cases": [[2]]}}}
    >>> export_answers(ns, spec)["values"]
    {'x': {'__set__': [1, 2]}, 'y': {'__unanswered__': True}, 'z': {'__missing__': 'z'}}
    >>> export_answers(ns, spec)["functions"]
    {'f': [4]}
    """
    out = {"values": {}, "functions": {}}
    for name in spec.get("values", []):
        if name not in namespace:
            out["values"][name] = {"__missing__": name}
        elif namespace[name] is Ellipsis:
            out["values"][name] = {"__unanswered__": True}
        else:
            out["values"][name] = to_plain(namespace[name])
    timeout = float(spec.get("call_timeout", 2.0))
    for name, fspec in spec.get("functions", {}).items():
        fn = namespace.get(name)
        if fn is None or not callable(fn):
            out["functions"][name] = [{"__missing__": name}] * len(fspec["cases"])
            continue
        out["functions"][name] = [_call(fn, list(args), timeout) for args in fspec["cases"]]
    return out


def _grader_export(namespace, spec, path, nonce):
    """Write the export to ``path`` (called from the grader's last cell)."""
    data = export_answers(namespace, spec)
    data["nonce"] = nonce
    text = _dumps(data, allow_nan=False)
    with _open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _make_exporter():
    """The export function a grading kernel's first cell binds (before any student code).

    It reads the notebook's namespace from its caller's frame and decodes the
    spec itself, so the export cell resolves no name a student could have
    replaced (``exec``, ``json``, ``open``, ``globals``).
    """
    import sys as _sys
    getframe, loads = _sys._getframe, _json.loads

    def export(spec_text, path, nonce):
        _grader_export(getframe(1).f_globals, loads(spec_text), path, nonce)
    return export

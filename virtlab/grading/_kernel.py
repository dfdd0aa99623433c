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

import json as _json
import math as _math

__all__ = ["Unsupported", "to_plain", "plain_key", "export_answers"]

MAX_DEPTH = 20
MAX_ITEMS = 200_000


class Unsupported(Exception):
    """Raised inside :func:`to_plain` for values that are not plain data."""


def plain_key(value):
    """A total order for plain values (used to sort set members).

    Examples
    --------
    >>> sorted([3, "a", 1], key=plain_key)
    ['a', 1, 3]
    """
    return _json.dumps(value, sort_keys=True)


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
        if _math.isnan(x):
            return {"__float__": "nan"}
        if _math.isinf(x):
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
            raise Unsupported(t.__name__)
        return _plain(value, depth + 1, budget)
    raise Unsupported(t.__name__)


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
    """Call ``fn(*args)`` with a wall-clock limit; return plain result or marker."""
    import signal
    import copy

    def _alarm(signum, frame):
        raise _CallTimeout()

    use_alarm = hasattr(signal, "setitimer")
    old = None
    try:
        if use_alarm:
            old = signal.signal(signal.SIGALRM, _alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            result = fn(*copy.deepcopy(args))
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return to_plain(result)
    except _CallTimeout:
        return {"__error__": "timeout"}
    except NotImplementedError:
        return {"__error__": "NotImplementedError"}
    except Exception as exc:  # the student's function failed: record the type only
        return {"__error__": type(exc).__name__}
    finally:
        if use_alarm and old is not None:
            signal.signal(signal.SIGALRM, old)


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
    text = _json.dumps(data, allow_nan=False)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)

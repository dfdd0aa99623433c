"""Input validation shared by every virtlab model.

Every public entry point checks its arguments with these helpers, so that bad
input always raises :class:`ValueError` or :class:`TypeError` whose message
names the parameter and the allowed range (design.md, "Errors").  Validate
*before* mutating state: a failed call must leave the model unchanged.

Examples
--------
>>> check_int("pcpus", 4, minimum=1)
4
>>> check_int("pcpus", 0, minimum=1)
Traceback (most recent call last):
...
ValueError: pcpus must be an integer >= 1, got 0
>>> check_number("rate", float("nan"), minimum=0.0)
Traceback (most recent call last):
...
ValueError: rate must be a finite number >= 0.0, got nan
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "VirtlabError",
    "check_bool",
    "check_choice",
    "check_int",
    "check_mapping",
    "check_number",
    "check_sequence",
    "check_str",
    "check_type",
]


class VirtlabError(Exception):
    """Base class for errors a *simulated* system raises as part of its story.

    Bad arguments are never reported with this class (they get ``ValueError``
    or ``TypeError``); it is for events such as a guest fault that escapes to
    the caller.
    """


def _range_text(minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""


def check_type(name: str, value: Any, types: type | tuple[type, ...]) -> Any:
    """Return ``value`` if it is an instance of ``types``, else raise TypeError.

    Examples
    --------
    >>> check_type("vm", 3, int)
    3
    >>> check_type("vm", "x", int)
    Traceback (most recent call last):
    ...
    TypeError: vm must be int, got str
    """
    if not isinstance(value, types):
        if isinstance(types, tuple):
            wanted = " or ".join(t.__name__ for t in types)
        else:
            wanted = types.__name__
        raise TypeError(f"{name} must be {wanted}, got {type(value).__name__}")
    return value


def check_int(name: str, value: Any, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer within the bounds.

    Booleans are refused (``True`` is not a count of CPUs).

    Examples
    --------
    >>> check_int("levels", 4, minimum=1, maximum=5)
    4
    >>> check_int("levels", 2.5)
    Traceback (most recent call last):
    ...
    TypeError: levels must be an integer, got float
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if (minimum is not None and value < minimum) or (
            maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an integer{_range_text(minimum, maximum)}, "
                         f"got {value}")
    return value


def check_number(name: str, value: Any, minimum: float | None = None,
                 maximum: float | None = None, *, strict_minimum: bool = False) -> float:
    """Return ``value`` as ``float`` if it is a finite real within the bounds.

    ``strict_minimum=True`` excludes the minimum itself (for sizes and rates
    that must be positive).

    Examples
    --------
    >>> check_number("bandwidth", 100)
    100.0
    >>> check_number("bandwidth", 0, minimum=0, strict_minimum=True)
    Traceback (most recent call last):
    ...
    ValueError: bandwidth must be a finite number > 0, got 0.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond float range
        raise ValueError(f"{name} must be a finite number, got an integer too large "
                         "for a float") from None
    bad = not math.isfinite(value)
    if minimum is not None:
        bad = bad or value < minimum or (strict_minimum and value == minimum)
    if maximum is not None:
        bad = bad or value > maximum
    if bad:
        if strict_minimum and minimum is not None:
            rng = f" > {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        else:
            rng = _range_text(minimum, maximum)
        raise ValueError(f"{name} must be a finite number{rng}, got {value}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool.

    Examples
    --------
    >>> check_bool("extratime", 1)
    Traceback (most recent call last):
    ...
    TypeError: extratime must be a bool, got int
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def check_str(name: str, value: Any, *, nonempty: bool = True) -> str:
    """Return ``value`` if it is a (by default non-blank) string.

    Examples
    --------
    >>> check_str("name", "web")
    'web'
    >>> check_str("name", " ")
    Traceback (most recent call last):
    ...
    ValueError: name must be a non-empty string
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if nonempty and not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("policy", "ffd", ["ffd", "best_fit"])
    'ffd'
    >>> check_choice("policy", "magic", ["ffd", "best_fit"])
    Traceback (most recent call last):
    ...
    ValueError: policy must be one of 'ffd', 'best_fit'; got 'magic'
    """
    choices = list(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable values compared against a set-like
        ok = False
    if not ok:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_sequence(name: str, value: Any, item_types: type | tuple[type, ...] | None = None,
                   *, min_len: int = 0, max_len: int | None = None) -> tuple:
    """Return ``value`` as a tuple if it is a list or tuple of ``item_types``.

    Strings, sets, dicts and generators are refused: a model that iterates
    twice or indexes needs a real sequence.  ``max_len`` bounds what one
    argument may make a model allocate or loop over.

    Examples
    --------
    >>> check_sequence("loads", [0.5, 1.0], float)
    (0.5, 1.0)
    >>> check_sequence("loads", "ab", float)
    Traceback (most recent call last):
    ...
    TypeError: loads must be a list or tuple, got str
    >>> check_sequence("loads", [0.5, None], float)
    Traceback (most recent call last):
    ...
    TypeError: loads[1] must be float, got NoneType
    >>> check_sequence("vms", [], min_len=1)
    Traceback (most recent call last):
    ...
    ValueError: vms must have at least 1 item(s), got 0
    """
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple, got {type(value).__name__}")
    if len(value) < min_len:
        raise ValueError(f"{name} must have at least {min_len} item(s), got {len(value)}")
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{name} must have at most {max_len} item(s), got {len(value)}")
    if item_types is not None:
        for i, item in enumerate(value):
            if not isinstance(item, item_types):  # the name is built only on failure
                check_type(f"{name}[{i}]", item, item_types)
    return tuple(value)


def check_mapping(name: str, value: Any, value_types: type | tuple[type, ...] | None = None,
                  *, min_len: int = 0) -> Mapping:
    """Return ``value`` if it is a mapping with string keys and ``value_types`` values.

    Examples
    --------
    >>> check_mapping("results", {"pre-copy": 1.0}, float)
    {'pre-copy': 1.0}
    >>> check_mapping("results", [1.0], float)
    Traceback (most recent call last):
    ...
    TypeError: results must be a mapping, got list
    >>> check_mapping("results", {"pre-copy": "fast"}, float)
    Traceback (most recent call last):
    ...
    TypeError: results['pre-copy'] must be float, got str
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")
    if len(value) < min_len:
        raise ValueError(f"{name} must have at least {min_len} item(s), got {len(value)}")
    for key, item in value.items():
        check_type(f"{name} key", key, str)
        if value_types is not None:
            check_type(f"{name}[{key!r}]", item, value_types)
    return value

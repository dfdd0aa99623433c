"""Per-student variants: a seed keyed with an instructor secret (HMAC-SHA256).

A student's variant of an exercise is ``make_problem(seed)`` with
``seed = variant_seed(student_id, exercise_id)``.  The seed is an HMAC of the
student id and the exercise id under the instructor's secret, so a student
who knows their own variant code cannot compute anybody else's.  The grader
recomputes the seed from the student id it is given and never trusts a
variant stored in the notebook.

Without a student id the **default variant** ``DEFAULT_SEED`` (0) is used:
the variant in the committed solutions and in a freshly generated exercise.

The secret comes from the environment variable ``VIRTLAB_GRADING_SECRET``
(or ``--secret-file`` of ``virtlab grade``).  Without one, a built-in
development secret is used, which is public and only fit for trying things.

Hidden test inputs are drawn from :func:`hidden_seed`, also keyed with the
secret, so they cannot be reproduced by a student without it.

Examples
--------
>>> s = variant_seed("alice", "ex01_popek_goldberg", secret=b"k")
>>> s == variant_seed("alice", "ex01_popek_goldberg", secret=b"k")
True
>>> s != variant_seed("bob", "ex01_popek_goldberg", secret=b"k")
True
>>> variant_seed(None, "ex01_popek_goldberg")
0
>>> seed_from_code(variant_code("alice", "ex03_page_walks", secret=b"k")) == variant_seed(
...     "alice", "ex03_page_walks", secret=b"k")
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from ..errors import check_str

__all__ = ["DEFAULT_SEED", "DEV_SECRET", "load_secret", "variant_seed", "variant_code",
           "seed_from_code", "hidden_seed", "check_student_id"]

DEFAULT_SEED = 0
DEV_SECRET = b"virtlab-development-secret; set VIRTLAB_GRADING_SECRET for a course"
SECRET_ENV = "VIRTLAB_GRADING_SECRET"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


def load_secret(secret: bytes | str | None = None) -> bytes:
    """The instructor secret: ``secret`` if given, else the environment, else DEV_SECRET.

    Examples
    --------
    >>> load_secret("abc")
    b'abc'
    >>> load_secret(3)
    Traceback (most recent call last):
    ...
    TypeError: secret must be bytes, str or None, got int
    """
    if secret is None:
        env = os.environ.get(SECRET_ENV)
        return env.encode() if env else DEV_SECRET
    if isinstance(secret, str):
        secret = secret.encode()
    if not isinstance(secret, bytes):
        raise TypeError(f"secret must be bytes, str or None, got {type(secret).__name__}")
    if not secret:
        raise ValueError("secret must not be empty")
    return secret


def check_student_id(student_id: str) -> str:
    """Validate a student id: 1-128 characters of letters, digits and ``._@+-``.

    Examples
    --------
    >>> check_student_id("s123")
    's123'
    >>> check_student_id("../x")
    Traceback (most recent call last):
    ...
    ValueError: student_id must be 1-128 characters of letters, digits and ._@+- (starting with a letter or digit), got '../x'
    """
    check_str("student_id", student_id)
    if not _ID_RE.match(student_id):
        raise ValueError("student_id must be 1-128 characters of letters, digits and ._@+- "
                         f"(starting with a letter or digit), got {student_id!r}")
    return student_id


def _mac(secret: bytes, message: str) -> int:
    # Graded seeds stay below 2**62: practice problems use 2**62 + n
    # (:mod:`.practice`), so the two can never meet.
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & (2**62 - 1)


def variant_seed(student_id: str | None, exercise_id: str,
                 secret: bytes | str | None = None) -> int:
    """The seed of ``student_id``'s variant of ``exercise_id`` (DEFAULT_SEED without id).

    Examples
    --------
    >>> variant_seed("", "ex01")
    Traceback (most recent call last):
    ...
    ValueError: student_id must be a non-empty string
    """
    check_str("exercise_id", exercise_id)
    if student_id is None:
        return DEFAULT_SEED
    check_student_id(student_id)
    return _mac(load_secret(secret), f"variant:{exercise_id}:{student_id}")


def variant_code(student_id: str | None, exercise_id: str,
                 secret: bytes | str | None = None) -> str:
    """The variant code a student types into their notebook (16 hex digits).

    Examples
    --------
    >>> len(variant_code("alice", "ex01", secret=b"k"))
    16
    """
    return f"{variant_seed(student_id, exercise_id, secret):016x}"


def seed_from_code(code: str | int | None) -> int:
    """Turn a variant code (as printed by ``virtlab assign --roster``) into a seed.

    Examples
    --------
    >>> seed_from_code(None)
    0
    >>> seed_from_code("00000000000000ff")
    255
    >>> seed_from_code("zz")
    Traceback (most recent call last):
    ...
    ValueError: variant must be a code of 1-16 hex digits, got 'zz'
    """
    if code is None:
        return DEFAULT_SEED
    if isinstance(code, bool):
        raise TypeError("variant must be a hex string, an int or None, got bool")
    if isinstance(code, int):
        if not 0 <= code < 2**63:
            raise ValueError(f"variant must be in [0, 2**63), got {code}")
        return code
    if not isinstance(code, str):
        raise TypeError(f"variant must be a hex string, an int or None, got {type(code).__name__}")
    if not re.fullmatch(r"[0-9a-fA-F]{1,16}", code.strip()):
        raise ValueError(f"variant must be a code of 1-16 hex digits, got {code!r}")
    return int(code.strip(), 16) & (2**63 - 1)


def hidden_seed(exercise_id: str, seed: int, secret: bytes | str | None = None) -> int:
    """Seed for the hidden test inputs of a variant (needs the secret to reproduce).

    Examples
    --------
    >>> hidden_seed("ex01", 0, b"a") != hidden_seed("ex01", 0, b"b")
    True
    """
    return _mac(load_secret(secret), f"hidden:{exercise_id}:{seed}")

"""The language the library speaks to a student (*Sprache*): English, or the German edition.

``virtlab.set_language("de")`` (or the environment variable ``VIRTLAB_LANG=de``
before the kernel starts) switches what the library shows — course data such
as the self-check questions now, the message catalogues of widgets and
figures as they are translated — to German; English is the default and the
fallback for anything not translated.

Examples
--------
>>> previous = set_language("de")
>>> language()
'de'
>>> set_language(previous) == "de"
True
>>> set_language("fr")
Traceback (most recent call last):
...
ValueError: language must be one of 'en', 'de'; got 'fr'
"""

from __future__ import annotations

import os

from .errors import check_str

__all__ = ["LANGUAGES", "language", "set_language"]

#: The editions of the course; the first is the default and the fallback.
LANGUAGES = ("en", "de")
ENV = "VIRTLAB_LANG"

_current: str | None = None


def _normalise(lang: str) -> str | None:
    # "de", "de_DE", "de-DE.UTF-8" all mean German
    code = lang.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else None


def language() -> str:
    """The current language: set_language's, else ``$VIRTLAB_LANG``'s, else ``"en"``."""
    if _current is not None:
        return _current
    return _normalise(os.environ.get(ENV, "")) or LANGUAGES[0]


def set_language(lang: str) -> str:
    """Switch the library's language; return the previous one.

    Parameters
    ----------
    lang : str
        ``"en"`` or ``"de"`` (regional forms such as ``"de_DE"`` are accepted).
    """
    global _current
    check_str("language", lang)
    code = _normalise(lang)
    if code is None:
        raise ValueError(f"language must be one of {', '.join(map(repr, LANGUAGES))}; "
                         f"got {lang!r}")
    previous = language()
    _current = code
    return previous

"""The language the library speaks to a student (*Sprache*): English, or the German edition.

``virtlab.set_language("de")`` (or the environment variable ``VIRTLAB_LANG=de``
before the kernel starts) switches what the library shows a student to
German: course data (the self-check questions) and every string marked with
:func:`_` — widget labels, messages, figure titles and axis labels, feedback.
English is the default and the fallback for anything not translated.

The strings live in gettext message catalogues, the ecosystem's standard,
extracted and compiled with Babel (``scripts/messages.py``):
``virtlab/locale/virtlab.pot`` (the template), ``locale/de/LC_MESSAGES/
virtlab.po`` (the German translation, reviewed in diffs) and the compiled
``virtlab.mo`` beside it.  ``tests/test_i18n.py`` fails when a marked string
has no German translation or the compiled catalogue is older than the ``.po``.

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

import gettext as _gettext
import os
from pathlib import Path

from .errors import check_choice, check_str

__all__ = ["LANGUAGES", "LOCALE_DIR", "DOMAIN", "language", "set_language", "_", "N_",
           "translations", "normalise_language"]

#: Where the compiled catalogues are: ``LOCALE_DIR/<lang>/LC_MESSAGES/virtlab.mo``.
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "virtlab"

#: The editions of the course; the first is the default and the fallback.
LANGUAGES = ("en", "de")
ENV = "VIRTLAB_LANG"

_current: str | None = None


def _normalise(lang: str) -> str | None:
    # "de", "de_DE", "de-DE.UTF-8" all mean German
    code = lang.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    return code if code in LANGUAGES else None


def normalise_language(lang: str) -> str | None:
    """The edition ``lang`` names (``"de_DE.UTF-8"`` -> ``"de"``), or None if none.

    Examples
    --------
    >>> normalise_language("de-DE"), normalise_language("klingon")
    ('de', None)
    """
    return _normalise(check_str("lang", lang, nonempty=False))


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


_CATALOGS: dict[str, _gettext.NullTranslations] = {}


def translations(lang: str | None = None) -> _gettext.NullTranslations:
    """The gettext catalogue of ``lang`` (default: the current language); English is identity."""
    if lang is not None:
        check_choice("lang", lang, LANGUAGES)
    lang = lang or language()
    if lang not in _CATALOGS:
        _CATALOGS[lang] = _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR),
                                               languages=[lang], fallback=True)
    return _CATALOGS[lang]


def _(message: str) -> str:
    """``message`` in the current language (the marker Babel extracts).

    Call it where the text is shown, not at import time, so that a later
    :func:`set_language` takes effect.

    Examples
    --------
    >>> previous = set_language("de")
    >>> _("Check")
    'Prüfen'
    >>> _("a sentence nobody translated")
    'a sentence nobody translated'
    >>> set_language(previous) == "de"
    True
    """
    return translations().gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (gettext's ``gettext_noop``).

    For class attributes and tables built at import time; pass the value through
    :func:`_` where it is shown.
    """
    return message

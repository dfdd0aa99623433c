#!/usr/bin/env python3
"""The library's message catalogues, with Babel: extract, update, compile, check.

Usage::

    scripts/messages.py update    # extract _()/N_() strings -> virtlab/locale/virtlab.pot,
                                  # merge them into every locale's virtlab.po
    scripts/messages.py compile   # .po -> .mo (the files the library loads)
    scripts/messages.py check     # exit 1 if a string lacks a translation or a .mo is stale

Translate by editing ``virtlab/locale/<lang>/LC_MESSAGES/virtlab.po`` (any PO
editor works), then ``compile``.  ``tests/test_i18n.py`` runs the checks.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "virtlab"
LOCALE = PACKAGE / "locale"
TEMPLATE = LOCALE / "virtlab.pot"
LANGUAGES = ("de",)
KEYWORDS = {"_": None, "N_": None}


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "virtlab.po"


def extract() -> Catalog:
    """Every string marked with _() or N_() in the package, with its places."""
    catalog = Catalog(project="virtlab", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        catalog.add(message, None, [(f"virtlab/{filename}", lineno)],
                    auto_comments=comments, context=context)
    return catalog


def load_po(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.is_file():
        return Catalog(locale=lang, project="virtlab")
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def missing(lang: str, template: Catalog | None = None) -> list[str]:
    """Marked strings without a (non-fuzzy) translation in ``lang``."""
    template = template or extract()
    po = load_po(lang)
    out = []
    for msg in template:
        if not msg.id:
            continue
        have = po.get(msg.id, msg.context)
        if have is None or not have.string or have.fuzzy:
            out.append(msg.id)
    return out


def compiled_is_current(lang: str) -> bool:
    """Does the committed .mo hold exactly the .po's translations?"""
    mo = po_path(lang).with_suffix(".mo")
    if not mo.is_file():
        return False
    with mo.open("rb") as f:
        have = {m.id: m.string for m in read_mo(f) if m.id}
    want = {m.id: m.string for m in load_po(lang) if m.id and m.string and not m.fuzzy}
    return have == want


def update() -> None:
    template = extract()
    LOCALE.mkdir(parents=True, exist_ok=True)
    with TEMPLATE.open("wb") as f:
        write_po(f, template, width=96, omit_header=False, sort_output=True)
    for lang in LANGUAGES:
        po = load_po(lang)
        po.update(template, no_fuzzy_matching=True)
        po_path(lang).parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        write_po(buf, po, width=96, sort_output=True, ignore_obsolete=True)
        po_path(lang).write_bytes(buf.getvalue())


def compile_all() -> None:
    for lang in LANGUAGES:
        po = load_po(lang)
        with po_path(lang).with_suffix(".mo").open("wb") as f:
            write_mo(f, po, use_fuzzy=False)


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else ""
    if cmd == "update":
        update()
    elif cmd == "compile":
        compile_all()
    elif cmd == "check":
        bad = 0
        template = extract()
        for lang in LANGUAGES:
            for m in missing(lang, template):
                print(f"{lang}: not translated: {m!r}")
                bad += 1
            if not compiled_is_current(lang):
                print(f"{lang}: virtlab.mo is older than virtlab.po (scripts/messages.py compile)")
                bad += 1
        return 1 if bad else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

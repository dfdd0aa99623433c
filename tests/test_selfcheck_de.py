"""German self-check texts (data/selfcheck/de/NN.yaml) translate; they do not change facts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import virtlab
from virtlab import selfcheck

DATA = Path(selfcheck.__file__).resolve().parent / "data" / "selfcheck"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _numbers(q: selfcheck.Question) -> list[str]:
    texts = [q.prompt, q.explanation, q.too_low, q.too_high, q.unit]
    texts += [t for o in q.options for t in (o.text, o.why)]
    return sorted(n.replace(",", ".") for t in texts for n in _NUMBER.findall(t))


def _bank(nb: str, lang: str) -> tuple[selfcheck.Question, ...]:
    previous = virtlab.set_language(lang)
    try:
        return selfcheck.bank(nb)
    finally:
        virtlab.set_language(previous)


@pytest.mark.parametrize("nb", selfcheck.notebooks())
def test_german_texts_state_the_same_numbers(nb):
    # "Numbers exactly as in English; no new ones": a translation may reword,
    # never recount (a decimal comma counts as the English decimal point).
    for de, en in zip(_bank(nb, "de"), _bank(nb, "en")):
        assert _numbers(de) == _numbers(en), de.id


@pytest.mark.parametrize("nb", selfcheck.notebooks())
def test_german_file_names_only_known_questions_and_fields(nb):
    # A misspelt id or field would be ignored silently and show English.
    raw = yaml.safe_load((DATA / "de" / f"{nb}.yaml").read_text(encoding="utf-8"))
    english = {q["id"]: q for q in yaml.safe_load(
        (DATA / f"{nb}.yaml").read_text(encoding="utf-8"))["questions"]}
    assert set(raw) == {"questions"}
    for qid, texts in raw["questions"].items():
        assert qid in english, f"{nb}: unknown question {qid}"
        assert set(texts) <= {"prompt", "explanation", "too_low", "too_high", "unit",
                              "options"}, qid
        for option in texts.get("options", ()):
            assert set(option) <= {"text", "why"}, qid
    assert set(raw["questions"]) == set(english), f"{nb}: untranslated questions"

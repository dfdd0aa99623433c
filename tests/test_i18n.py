"""German from the library: gettext catalogues complete, compiled, and switched by set_language."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import pytest

import virtlab
from virtlab import i18n, selfcheck
from virtlab.widgets.quiz import PracticeWidget, Predict, QuestionWidget
from virtlab.viz.scene import Scene

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
messages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(messages)


def test_every_marked_string_has_a_german_translation():
    assert messages.missing("de") == [], "scripts/messages.py update, translate, compile"


def test_compiled_catalogue_is_current():
    assert messages.compiled_is_current("de"), "run scripts/messages.py compile"


def test_placeholders_survive_translation():
    for msg in messages.load_po("de"):
        if msg.id and msg.string:
            fields = set(re.findall(r"\{(\w*)\}", msg.id))
            assert set(re.findall(r"\{(\w*)\}", msg.string)) == fields, msg.id


def test_the_extractor_sees_a_marked_string():
    # the check can fail: a new _() string shows up as missing until translated
    ids = {m.id for m in messages.extract()}
    assert "Show worked solution" in ids and "Right answer:" in ids


def test_widgets_speak_german_after_set_language(german):
    w = QuestionWidget(selfcheck.question("06.popf"))
    assert w.button.description == "Prüfen"
    assert w.submit() is None and "Wählen Sie zuerst" in w.feedback.value
    p = Predict(selfcheck.question("12.nested-refs"))
    assert p.button.description == "Auflösen"
    p.answer(4)
    assert "Ihre Schätzung: 4; das Modell ergibt 24." in p.feedback.value
    assert PracticeWidget("ex04_credit_scheduler").new_button.description == "Neue Aufgabe"


def test_english_stays_the_default_and_the_fallback(german):
    virtlab.set_language("en")
    assert QuestionWidget(selfcheck.question("06.popf")).button.description == "Check"
    virtlab.set_language("de")
    assert i18n._("no catalogue has this sentence") == "no catalogue has this sentence"


def test_environment_variable_selects_the_language(monkeypatch):
    monkeypatch.setattr(i18n, "_current", None)
    monkeypatch.setenv("VIRTLAB_LANG", "de_DE.UTF-8")
    assert virtlab.language() == "de"
    monkeypatch.setenv("VIRTLAB_LANG", "xx")
    assert virtlab.language() == "en"


@pytest.mark.parametrize("bad, exc", [(None, TypeError), (3, TypeError), ("", ValueError),
                                      ("klingon", ValueError)])
def test_bad_language(bad, exc):
    before = virtlab.language()
    with pytest.raises(exc, match="language"):
        virtlab.set_language(bad)
    assert virtlab.language() == before


def test_german_question_texts_replace_the_english(german):
    for nb in selfcheck.notebooks():
        de_qs = selfcheck.bank(nb)
        virtlab.set_language("en")
        en_qs = selfcheck.bank(nb)
        virtlab.set_language("de")
        assert [q.id for q in de_qs] == [q.id for q in en_qs]
        for d, e in zip(de_qs, en_qs):
            # same question, translated: answers, kinds and option truth are shared
            assert (d.kind, d.answer, [o.correct for o in d.options]) == (
                e.kind, e.answer, [o.correct for o in e.options])
            assert d.prompt != e.prompt, f"{d.id} has no German prompt"
            assert not e.explanation or d.explanation != e.explanation, f"{d.id}: explanation"
            assert [o.why != "" for o in d.options] == [o.why != "" for o in e.options]


def test_a_translation_with_other_options_is_refused(tmp_path, monkeypatch):
    raw = {"questions": [{"id": "x", "options": [{"text": "a"}, {"text": "b"}]}]}
    trans = tmp_path / "de"
    trans.mkdir()
    (trans / "99.yaml").write_text("questions:\n  x:\n    options: [{text: A}]\n")

    class Files:
        def joinpath(self, *parts):
            return tmp_path.joinpath(*parts[2:])
    monkeypatch.setattr(selfcheck.resources, "files", lambda pkg: Files())
    with pytest.raises(ValueError, match="1 options, the question 2"):
        selfcheck._overlay(raw, "de", "99")


# -- every widget app speaks German: its controls, figure and HTML ------------------------------

#: Texts that stay as they are in every language: mnemonics, VM/domain names, units,
#: product and proper names, symbols.  A token here is removed before the check.
UNTRANSLATED = re.compile(r"""(?x)
    \b(?:HW-Interface|VMware|Xen)-Library\b     # the VMI slide's box labels (first: whole)
  | \b(?:vm|dom|domU|vCPU|pCPU|host|spare|L|ring|VLAN|disk|hpfn|gpfn|IRQ|CPU)\s?\d+\b  # numbered names
  | \b(?:[A-Z][A-Z0-9_/]+[a-z]?s?)\b      # mnemonics and acronyms: POPF, VMCS, EPT/NPT, VMs
  | \b(?:µs|ms|s|KiB|MiB|GiB|MB|kWh|Mbit|k|M|x|nr|kvm\.ko|vs|dom0|domU|domUs|vcpu|pcpu)\b
  | \b(?:Xen|VMware|Workstation|KVM|QEMU|Hyper-V|XenServer|ESXi?|Intel|AMD|Linux|Docker|
        Tanenbaum|SplitX|Adams|Agesen|Popek|Goldberg|Python|Credit|SEDF|Hypervisor|Trap|Traps|
        Hypercall|hypercall|virtlab|Deutsch|English)\b              # names, course terms
  | \b(?:lru|fifo|random|none|ffd|credit|sedf|gang|relaxed|tslice)\b  # model values
  | \b(?:nic|disk|timer|evtchn|controller|hypervisor|split|vIRQ)\b   # interrupt model's nodes
  | \b(?:app_cli|popf|leak|loop)\b                                # guests of hypervisor.guests
  | \b(?:callret|crwr|divzero|forkwait|in|pgfault|ptemod|syscall)\b  # Adams & Agesen's tests
  | \b(?:prod|test|dev|batch|io|smp|voip|hog\d*|web|db|mail|dns|backup|switch)\b  # VMs, hosts
  | \b(?:pCPUs?|vCPUs?)\b
  | \b(?:vSphere|Citrix|Microsoft)\b           # products named by hypervisor.stacks
  | ^(?:app\d[ab]?|guest\d|vmm|hw|os|host|hostapp|xen|api|dom0|linux|devkvm|qemu\d)$
                                             # a stack's component name, alone in a cell
  | \b(?:pre-copy|post-copy|stop-and-copy)\b   # migration methods, English in German courses too
  | \b[a-z]+(?:_[a-z0-9]+)+\b                  # a model's identifiers (stop reasons, policies)
  | 0x[0-9a-fA-F]+ | \#\d+
""")
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{2,}")
_INLINE = re.compile(r"</?(?:i|b|em|code|strong)(?:\s[^>]*)?>")


def _flat(text):
    # figures wrap long labels (textwrap): compare texts with their line breaks removed
    return re.sub(r"\s+", " ", re.sub(r"-\n", "-", text)).strip()


def _german_patterns():
    """Each German msgstr as a pattern (its placeholders any text), longest first.

    Built once per version of the catalogue file (0.1 s each time, and every widget app and
    exercise statement check uses them).
    """
    path = messages.po_path("de")
    stat = path.stat() if path.is_file() else None
    return _patterns_of(str(path), stat and (stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=2)
def _patterns_of(path, version):
    pats = []
    for msg in messages.load_po("de"):
        if msg.id and msg.string:
            text = msg.string if isinstance(msg.string, str) else msg.string[0]
            parts = re.split(r"\{[^{}]*\}", _flat(_html_unescape(_INLINE.sub("", text))))
            # whole words only: the msgstr "VM" must not explain the "VM" of "VMware"
            pattern = ((r"(?<!\w)" if re.match(r"\w", parts[0]) else "")
                       + ".*?".join(re.escape(p) for p in parts)
                       + (r"(?!\w)" if re.search(r"\w$", parts[-1]) else ""))
            pats.append((len(text), re.compile(pattern, re.S)))
    return [p for _, p in sorted(pats, key=lambda lp: -lp[0])]


def _foreign_words(text, patterns):
    """The letter words of ``text`` that neither a German msgstr nor the allowlist explains."""
    for line in re.split(r"<[^>]*>", _INLINE.sub("", text)):
        line = _flat(_html_unescape(line))
        if not _WORD.search(line):
            continue
        for pat in patterns:
            if pat.pattern and pat.search(line):
                line = pat.sub(" ", line)
                if not _WORD.search(line):
                    break
        line = UNTRANSLATED.sub(" ", line)
        yield from _WORD.findall(line)


def _html_unescape(s):
    import html
    return html.unescape(s)


#: A table cell marked with the language of its text (``<td lang='en'>``).
_LANG_CELL = re.compile(r"""<(\w+)\s+lang=['"](de|en)['"]>(.*?)</\1>""", re.S)


def _without_glossary_names(value):
    """``value`` without the cells that show a glossary name in its own language.

    The glossary app shows each term's German and English name in every edition,
    each cell marked with ``lang=``; only a cell whose text *is* a glossary name in
    that language is left out (anything else marked ``lang=`` is still checked).
    """
    from virtlab.glossary import TERMS
    names = {"de": {t.de for t in TERMS}, "en": {t.en for t in TERMS}}

    def drop(m):
        text = _html_unescape(re.sub(r"<[^>]*>", "", m.group(3)))
        return "" if text in names[m.group(2)] else m.group(0)
    return _LANG_CELL.sub(drop, value)


def _shown_texts(app):
    """Every text an app shows: control descriptions, option labels, HTML, figure texts."""
    import ipywidgets as W
    import matplotlib.pyplot as plt
    import matplotlib.text
    texts = []
    todo = [app.widget]
    while todo:
        w = todo.pop()
        todo.extend(getattr(w, "children", ()) or ())
        for attr in ("description", "placeholder", "tooltip"):
            if getattr(w, attr, None):
                texts.append((f"{type(w).__name__}.{attr}", getattr(w, attr)))
        for label in getattr(w, "_options_labels", ()) or ():
            texts.append((f"{type(w).__name__} option", label))
        if isinstance(w, (W.HTML, W.Label, W.HTMLMath)) and w.value:
            # generated code folded into <details> is not prose: left out
            text = re.sub(r"(?s)<details>.*?</details>", "", w.value)
            texts.append((type(w).__name__, _without_glossary_names(text)))
    fig = app.draw(app.result)
    if isinstance(fig, Scene):
        # a scene's monospace texts are listings: code, not prose (as below)
        texts.extend(("figure", t) for t in fig.texts(family="sans-serif") if t)
    elif fig is not None:
        for t in fig.findobj(matplotlib.text.Text):
            # listings and register dumps are set in a monospace font: code, not prose
            if t.get_text() and "monospace" not in t.get_fontfamily():
                texts.append(("figure", t.get_text()))
        plt.close(fig)
    return texts


def _untranslated(app):
    patterns = _german_patterns()
    return sorted({(where, word, text[:80]) for where, text in _shown_texts(app)
                   for word in _foreign_words(text, patterns)})


@pytest.mark.parametrize("name", sorted(virtlab.widgets.apps()))
def test_every_widget_app_speaks_german(name, german):
    app = virtlab.widgets.apps()[name]()
    assert app.error is None, app.error
    assert _untranslated(app) == []


def test_an_unmarked_label_fails_the_german_check(german):
    # the check can fail: one English label nobody marked is caught
    import ipywidgets as W
    app = virtlab.widgets.apps()["migration_lab"]()
    assert _untranslated(app) == []
    app.widget.children = list(app.widget.children) + [W.Checkbox(description="show details")]
    assert ("Checkbox.description", "show", "show details") in _untranslated(app)
    assert ("Checkbox.description", "details", "show details") in _untranslated(app)


def test_every_topic_title_is_in_the_catalogue():
    from virtlab.course import TOPICS
    from virtlab.viz.course import TOPIC_TITLES
    assert [t.title for t in TOPICS] == list(TOPIC_TITLES)


def test_check_feedback_speaks_german(german):
    from virtlab.grading import selftest  # noqa: F401  (registers ex00_selftest)
    from virtlab.grading.session import start
    ex = start("ex00_selftest")
    text = repr(ex.check("q1", {"answer": ...}))
    assert text.startswith("q1 (2 Punkte): noch nicht beantwortet -- ")
    assert "0/2 öffentliche Tests bestanden; 1 verdeckter Test läuft bei der Bewertung" in text
    assert repr(ex.check("q1", {"answer": 7})).startswith("q1 (2 Punkte): alle öffentlichen Tests")
    # the messages inside are German too, and each case gets its status (by code, not phrase)

    def not_yet(n, m):
        raise NotImplementedError
    cases = [  # question, namespace, status, the German message
        ("q1", {"answer": ...}, "todo", "`answer` ist noch `...`"),
        ("q1", {}, "todo", "`answer` ist nicht definiert: Führen Sie die Zelle aus, die den "
                           "Wert zuweist"),
        ("q3", {}, "todo", "`refs` ist nicht definiert: Führen Sie die Zelle aus, die die "
                           "Funktion definiert"),
        ("q3", {"refs": not_yet}, "todo", "refs(4, 4): noch nicht implementiert"),
        ("q1", {"answer": "7"}, "fail", "erster Fehler: `answer` soll ein int sein, ist aber '7'"),
        ("q2", {"table": [1]}, "fail", "`table` soll ein Dict sein, ist aber [1]"),
        ("q3", {"refs": lambda n, m: n * m}, "fail", "refs(4, 4) ergab 16, erwartet war 24"),
    ]
    for qid, ns, status, message in cases:
        panel = ex.check(qid, ns)
        (got, text), = panel.lines
        assert (got, message in text) == (status, True), (qid, ns, got, text)
        assert not re.search(r"not defined|implemented|should be|returned|expected|still", text)

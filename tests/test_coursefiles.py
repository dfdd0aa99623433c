"""A student's copy of the course (`virtlab course copy`) and the lab's course view."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import virtlab
from virtlab import cli, coursefiles, glossary
from virtlab.coursefiles import CourseConflict, copy_course, course_view

ROOT = Path(__file__).resolve().parent.parent


def expected_files() -> set[str]:
    # Whatever notebooks/ and exercises/ hold now (new exercises arrive without code changes).
    return ({f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
            | {f"notebooks/de/{p.name}" for p in (ROOT / "notebooks" / "de").glob("*.ipynb")}
            | {f"exercises/{p.name}" for p in (ROOT / "exercises").glob("*.ipynb")}
            | {"glossary.md", "glossary.de.md", "docs/errata.md"})


def files_in(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and p.name != coursefiles.MANIFEST}


def test_source_is_the_checkout():
    assert coursefiles.course_source() == ROOT


def test_copy_writes_notebooks_exercises_glossary_errata(tmp_path):
    report = copy_course(tmp_path / "c")
    assert files_in(tmp_path / "c") == expected_files() == set(report.written)
    nb = "notebooks/12_memory_virtualization.ipynb"
    assert (tmp_path / "c" / nb).read_bytes() == (ROOT / nb).read_bytes()
    assert (tmp_path / "c" / "docs/errata.md").read_bytes() == \
        (ROOT / "docs/errata.md").read_bytes()       # where the notebooks link to it


def test_glossary_page_has_every_term():
    text = coursefiles.glossary_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == len(glossary.TERMS) + 1              # header + one row per term
    for term in glossary.TERMS:
        assert f"| {term.de}" in text and term.en in text


def _rows(page):
    return [line for line in page.splitlines() if line.startswith("| ") and "---" not in line]


def test_german_glossary_page_speaks_german():
    en, de = coursefiles.glossary_markdown("en"), coursefiles.glossary_markdown("de")
    assert de.splitlines()[0] == "# Glossar (*Glossary*)"
    assert "Die deutschen Begriffe der Vorlesung" in de and "The lecture's" not in de
    assert _rows(de)[0] == "| Deutsch | Englisch | Bedeutung | Notebook |"
    assert len(_rows(de)) == len(_rows(en)) == len(glossary.TERMS) + 1
    previous = virtlab.set_language("de")
    try:
        meanings = [t.meaning for t in glossary.TERMS]
    finally:
        virtlab.set_language(previous)
    for term, meaning, row_en, row_de in zip(glossary.TERMS, meanings, _rows(en)[1:],
                                             _rows(de)[1:]):
        # the same term columns, the meaning in German (Term.meaning under "de")
        assert row_de.startswith(f"| {term.de}") and f"| {term.en} |" in row_de
        assert f"| {meaning.replace('|', chr(92) + '|')} | {term.notebook} |" in row_de
        assert row_de.count(" | ") == row_en.count(" | ")
        if term.synonyms:
            assert f"(auch: {', '.join(term.synonyms)})" in row_de
    # German meanings, not English definitions: every one is a catalogue translation
    assert sum(t.definition not in de for t in glossary.TERMS) == len(glossary.TERMS)


def test_glossary_pages_do_not_follow_the_current_language():
    en, de = coursefiles.glossary_markdown("en"), coursefiles.glossary_markdown("de")
    assert en != de
    previous = virtlab.set_language("de")
    try:
        assert coursefiles.glossary_markdown() == en          # the English page stays English
        assert coursefiles.student_files()["glossary.md"] == en.encode()
    finally:
        virtlab.set_language(previous)
    assert coursefiles.student_files()["glossary.de.md"] == de.encode()


@pytest.mark.parametrize("bad, exc", [("fr", ValueError), ("", ValueError), (None, ValueError)])
def test_glossary_page_of_an_unknown_language(bad, exc):
    with pytest.raises(exc, match="language"):
        coursefiles.glossary_markdown(bad)


def test_second_copy_writes_nothing(tmp_path):
    copy_course(tmp_path)
    again = copy_course(tmp_path)
    assert again.written == [] and set(again.unchanged) == expected_files()


def test_edited_file_is_refused_and_nothing_is_written(tmp_path):
    copy_course(tmp_path)
    edited = tmp_path / "exercises" / "ex03_page_walks.ipynb"
    edited.write_text(edited.read_text() + "\n")             # the student's work
    mine = edited.read_bytes()
    deleted = tmp_path / "notebooks" / "05_containers.ipynb"
    deleted.unlink()
    with pytest.raises(CourseConflict) as err:
        copy_course(tmp_path)
    assert err.value.paths == ["exercises/ex03_page_walks.ipynb"]
    assert "--force" in str(err.value)
    assert not deleted.exists()                               # all or nothing
    assert edited.read_bytes() == mine


def test_force_overwrites_edits(tmp_path):
    copy_course(tmp_path)
    edited = tmp_path / "exercises" / "ex03_page_walks.ipynb"
    edited.write_text("my answers")
    report = copy_course(tmp_path, force=True)
    assert report.written == ["exercises/ex03_page_walks.ipynb"]
    assert edited.read_bytes() == (ROOT / "exercises/ex03_page_walks.ipynb").read_bytes()


def test_foreign_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text("someone else's")
    with pytest.raises(CourseConflict):
        copy_course(tmp_path)


def test_course_update_replaces_untouched_files_only(tmp_path):
    source = tmp_path / "src"
    for folder in ("notebooks", "exercises"):
        shutil.copytree(ROOT / folder, source / folder)
    copy_course(tmp_path / "c", source=source)
    for rel in ("notebooks/01_what_is_virtualization.ipynb", "notebooks/02_emulation_vs_virtualization.ipynb"):
        (source / rel).write_text((source / rel).read_text() + " ")   # the course is updated
    (tmp_path / "c" / "notebooks/02_emulation_vs_virtualization.ipynb").write_text("mine")
    with pytest.raises(CourseConflict) as err:
        copy_course(tmp_path / "c", source=source)
    assert err.value.paths == ["notebooks/02_emulation_vs_virtualization.ipynb"]
    (tmp_path / "c" / "notebooks/02_emulation_vs_virtualization.ipynb").unlink()
    report = copy_course(tmp_path / "c", source=source)
    assert sorted(report.written) == ["notebooks/01_what_is_virtualization.ipynb",
                                      "notebooks/02_emulation_vs_virtualization.ipynb"]


def test_bad_arguments(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="dest"):
        copy_course(tmp_path / "f")
    with pytest.raises(TypeError, match="force"):
        copy_course(tmp_path / "d", force="yes")


def test_cli_copy_and_conflict(tmp_path, capsys):
    assert cli.main(["course", "copy", str(tmp_path / "c")]) == 0
    assert f"{len(expected_files())} file(s) written" in capsys.readouterr().out
    (tmp_path / "c" / "glossary.md").write_text("notes")
    assert cli.main(["course", "copy", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert "glossary.md" in err and "--force" in err
    assert cli.main(["course", "copy", str(tmp_path / "c"), "--force"]) == 0


def test_course_view_shows_only_the_course(tmp_path):
    for folder in ("notebooks", "exercises", "docs", "tests", "benchmarks"):
        (tmp_path / folder).mkdir()
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text("{}")
    (tmp_path / "docs" / "errata.md").write_text("# errata")
    view = course_view(tmp_path)
    assert view == tmp_path / "course"
    assert sorted(p.name for p in view.iterdir()) == ["docs", "exercises", "glossary.de.md",
                                                      "glossary.md", "notebooks"]
    assert (view / "glossary.de.md").read_text(encoding="utf-8") == \
        coursefiles.glossary_markdown("de")
    assert (view / "notebooks" / "00_start_here.ipynb").read_text() == "{}"
    assert [p.name for p in (view / "docs").iterdir()] == ["errata.md"]   # no instructor notes
    assert (view / "docs" / "errata.md").read_text() == "# errata"
    assert (view / "notebooks").is_symlink() and not Path(
        (view / "notebooks").readlink()).is_absolute()        # survives moving the checkout
    before = {p.name: p.stat().st_mtime_ns for p in view.iterdir()}
    course_view(tmp_path)                                      # idempotent
    assert {p.name: p.stat().st_mtime_ns for p in view.iterdir()} == before

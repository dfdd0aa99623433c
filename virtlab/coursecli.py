"""Subcommands of the ``virtlab`` command about the course itself: ``slides``, ``course``.

:data:`COMMANDS` holds them (name → (help, add arguments, run)); the
``virtlab`` command (:mod:`virtlab.cli`) includes them.  This module does not
import the CLI.

Examples
--------
>>> slides_command(_Args(query="Schattentabellen"), [])
Hauptspeicherverwaltung (1)  (slide 28)
  12 § 1. The address chain (virtuelle → reale → physikalische Adresse)
      notebooks/12_memory_virtualization.ipynb#1.-The-address-chain-(virtuelle-→-reale-→-physikalische-Adresse)
  12 § 3. Shadow paging (Schattentabellen)
      notebooks/12_memory_virtualization.ipynb#3.-Shadow-paging-(Schattentabellen)
  12 § 4. Nested paging (EPT / NPT): the two-dimensional walk
      notebooks/12_memory_virtualization.ipynb#4.-Nested-paging-(EPT-/-NPT):-the-two-dimensional-walk
0
"""

from __future__ import annotations

import argparse
import sys
from types import SimpleNamespace as _Args

from .course import SLIDES, find_slides
from .coursefiles import CourseConflict, copy_course

__all__ = ["COMMANDS", "course_command", "slides_command"]


def _slides_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", nargs="?", default=None,
                   help="a slide title or a term on a slide (case and umlauts optional); "
                        "without it, list every slide")


def slides_command(args, extra) -> int:
    """List the lecture's slides, or show where the slides matching ``args.query`` are taught."""
    if args.query is None:
        for number, slide in enumerate(SLIDES, start=1):
            where = ", ".join(sorted({sec.topic_id for sec in slide.sections}))
            print(f"{number:2d}  {slide.title:55s} notebook {where}")
        return 0
    if not args.query.strip():
        print("virtlab slides: the query is empty; give a slide title or a term", file=sys.stderr)
        return 2
    found = find_slides(args.query)
    if not found:
        print(f"virtlab slides: no slide matches {args.query!r}; "
              "run `virtlab slides` to list all slide titles", file=sys.stderr)
        return 1
    number = {slide: i for i, slide in enumerate(SLIDES, start=1)}
    for slide in found:
        print(f"{slide.title}  (slide {number[slide]})")
        for sec in slide.sections:
            print(f"  {sec.label}\n      notebooks/{sec.link}")
    return 0


def _course_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["copy"],
                   help="copy: write notebooks, exercises, glossary and errata into DIR")
    p.add_argument("dir", help="the student's course folder (created if missing)")
    p.add_argument("--force", action="store_true",
                   help="also overwrite files the student has changed")


def course_command(args, extra) -> int:
    """``virtlab course copy DIR [--force]``: a student's copy of the course."""
    try:
        report = copy_course(args.dir, force=args.force)
    except CourseConflict as exc:
        print(f"virtlab course copy: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"virtlab course copy: {exc}", file=sys.stderr)
        return 2
    print(f"copied the course to {args.dir}: {len(report.written)} file(s) written, "
          f"{len(report.unchanged)} already up to date")
    print(f"start with: cd {args.dir} && virtlab lab")
    return 0


#: name -> (help, function adding arguments, function running the command)
COMMANDS: dict = {
    "slides": ("list the lecture's slides, or show which notebook sections teach one",
               _slides_args, slides_command),
    "course": ("copy the course (notebooks, exercises, glossary, errata) into a folder: "
               "virtlab course copy DIR", _course_args, course_command),
}

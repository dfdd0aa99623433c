"""Subcommands of the ``virtlab`` command about the course itself: ``slides``, ``course``, ``present``.

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
import os
import sys
from pathlib import Path
from types import SimpleNamespace as _Args

from .course import SLIDES, find_slides
from .coursefiles import CourseConflict, copy_course, lab_root
from .paths import repo_root

__all__ = ["COMMANDS", "KERNEL_CONNECTION", "LAB_EXTENSIONS", "course_command",
           "lab_extension_args", "present_command", "present_cmd", "server_args",
           "slides_command"]

#: JupyterLab extensions virtlab ships (prebuilt, committed; no npm at run time):
#: ``virtlab-rise-widgets`` makes ipywidgets live in the RISE deck (see its README.md).
LAB_EXTENSIONS = Path(__file__).resolve().parent / "labextensions"

#: The kernel websocket connection every server virtlab starts uses: jupyter_server's
#: own with ``TCP_NODELAY`` (:mod:`virtlab.labserver`; a widget round trip without
#: Nagle's 40 ms stall).  The hub's ``deploy/hub/singleuser/jupyter_server_config.json``
#: names the same class.
KERNEL_CONNECTION = "virtlab.labserver.NoDelayKernelConnection"


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


def _present_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("notebook", help="the notebook's number (11) or file name stem (11_cpu_scheduling)")
    p.add_argument("--dashboard", action="store_true",
                   help="a Voila dashboard (widgets and text, no code) instead of the RISE deck")
    p.add_argument("--de", action="store_true", help="the German edition (notebooks/de/)")
    p.add_argument("--port", type=int, default=None, help="port to serve on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL")


def lab_extension_args() -> list[str]:
    """``jupyter lab`` options that load :data:`LAB_EXTENSIONS` into JupyterLab and RISE.

    The RISE deck (``/rise/<path>``) is a separate JupyterLab application
    (``RiseApp``) with its own extension path; its extensions' files are served
    by JupyterLab's ``/lab/extensions/`` handler, so both need the folder.

    Examples
    --------
    >>> [a.split("=")[0] for a in lab_extension_args()]
    ['--LabApp.extra_labextensions_path', '--RiseApp.extra_labextensions_path']
    """
    return [f"--{app}.extra_labextensions_path={LAB_EXTENSIONS}" for app in ("LabApp", "RiseApp")]


def server_args(app: str = "ServerApp") -> list[str]:
    """Options for a Jupyter server started by virtlab (``app``: ``ServerApp`` or ``Voila``).

    Examples
    --------
    >>> server_args("Voila")
    ['--Voila.kernel_websocket_connection_class=virtlab.labserver.NoDelayKernelConnection']
    """
    return [f"--{app}.kernel_websocket_connection_class={KERNEL_CONNECTION}"]


def present_cmd(args, root: str | os.PathLike) -> tuple[list[str], Path]:
    """The command line that presents ``args.notebook`` of the course at ``root``, and its folder.

    The deck is JupyterLab's RISE extension (``/rise/<path>``: the notebook as a
    reveal.js slideshow with a live kernel, its widgets live through
    :func:`lab_extension_args`); the dashboard is Voila with the
    code hidden.  Both listen on 127.0.0.1 only.  Raises ValueError when no
    single notebook matches.

    Examples
    --------
    >>> cmd, cwd = present_cmd(_Args(notebook="11", dashboard=False, de=False, port=8899,
    ...                              no_browser=True), repo_root())
    >>> [a for a in cmd if a.startswith("--LabApp.default_url")]
    ['--LabApp.default_url=/rise/notebooks/11_cpu_scheduling.ipynb']
    >>> cmd, cwd = present_cmd(_Args(notebook="11", dashboard=True, de=False, port=8899,
    ...                              no_browser=True), repo_root())
    >>> cmd[1:3], "--Voila.ip=127.0.0.1" in cmd
    (['-m', 'voila'], True)
    """
    root = Path(root)
    folder = root / "notebooks" / ("de" if args.de else "")
    stem = str(args.notebook).strip()
    matches = sorted(folder.glob(f"{stem.zfill(2) if stem.isdigit() else stem}*.ipynb"))
    if len(matches) != 1:
        raise ValueError(f"notebook: no single notebook in {folder} starts with {stem!r} "
                         f"(found {len(matches)})")
    notebook = matches[0].relative_to(root).as_posix()
    port = [f"--port={args.port}"] if args.port else []
    browser = ["--no-browser"] if args.no_browser else []
    if args.dashboard:
        # Voila runs the notebook in a fresh kernel and shows its outputs and
        # markdown without the code (strip_sources is its default).
        cmd = [sys.executable, "-m", "voila", notebook, "--Voila.ip=127.0.0.1",
               "--strip_sources=True", *server_args("Voila"), *port, *browser]
    else:
        cmd = [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/rise/{notebook}",
               *server_args(), *lab_extension_args(), *port, *browser]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # lab machines and containers often run as root
    return cmd, root


def present_command(args, extra) -> int:
    """``virtlab present NN [--dashboard]``: the notebook as a live slideshow (or dashboard)."""
    try:
        cmd, cwd = present_cmd(args, lab_root(repo_root()))
    except ValueError as exc:
        print(f"virtlab present: {exc}", file=sys.stderr)
        return 2
    os.chdir(cwd)
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return


#: name -> (help, function adding arguments, function running the command)
COMMANDS: dict = {
    "slides": ("list the lecture's slides, or show which notebook sections teach one",
               _slides_args, slides_command),
    "course": ("copy the course (notebooks, exercises, glossary, errata) into a folder: "
               "virtlab course copy DIR", _course_args, course_command),
    "present": ("present a notebook as a live RISE slideshow in JupyterLab "
                "(--dashboard: a Voila dashboard)", _present_args, present_command),
}

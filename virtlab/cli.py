"""The ``virtlab`` command.

Subcommands register themselves in :data:`COMMANDS` (name → (help, add
arguments, run)); later topics (grading) add theirs in their own modules.

Examples
--------
>>> main(["--version"])  # doctest: +SKIP
virtlab 0.1.0
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__, coursecli
from .coursefiles import lab_root

__all__ = ["main", "repo_root"]


def repo_root() -> Path:
    """The course checkout (the folder holding ``notebooks/``).

    Found from the installed package (``pip install -e .``) or the current
    directory, whichever has a ``notebooks`` folder.
    """
    here = Path(__file__).resolve().parent.parent
    for candidate in (here, Path.cwd()):
        if (candidate / "notebooks").is_dir():
            return candidate
    return Path.cwd()


def _lab_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebook", default="notebooks/00_start_here.ipynb",
                        help="notebook to open, relative to the course folder")


def _lab(args: argparse.Namespace, extra: list[str]) -> int:
    root = lab_root(repo_root())   # the course-only folder the lab shows (issue 18)
    notebook = root / args.notebook
    if not notebook.is_file():
        print(f"virtlab lab: no notebook {notebook} (outside a checkout, make a copy of the "
              "course with `virtlab course copy DIR` and start the lab in DIR)", file=sys.stderr)
        return 2
    # The printed URL (and the browser) open the notebook itself, not the launcher.
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
           f"--LabApp.default_url=/lab/tree/{notebook.relative_to(root).as_posix()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # lab machines and containers often run as root
    cmd += extra
    os.chdir(root)
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover - execv does not return


#: name -> (help, function adding arguments, function running the command)
COMMANDS: dict = {
    "lab": ("start JupyterLab on the course (extra arguments go to jupyter lab)",
            _lab_args, _lab),
    **coursecli.COMMANDS,           # slides, course (issue 18)
}


def _load_plugins() -> None:
    # Subcommands that live with their topic (e.g. grading) register here.
    import importlib
    try:
        importlib.import_module("virtlab.grading.cli")
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("virtlab.grading"):
            raise


def main(argv: list[str] | None = None) -> int:
    """Run the ``virtlab`` command; return its exit status."""
    _load_plugins()
    parser = argparse.ArgumentParser(prog="virtlab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"virtlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if extra and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return COMMANDS[args.command][2](args, extra) or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

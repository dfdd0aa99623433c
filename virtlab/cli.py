"""The virtlab command line (also run as python -m virtlab or python -m virtlab.cli).

:func:`commands` assembles the subcommand table (name → (help, add
arguments, run)) from this module's own ``lab``, the course's
:data:`virtlab.coursecli.COMMANDS` (``slides``, ``course``) and the grading
package's :data:`virtlab.grading.cli.COMMANDS`; nothing registers itself at
import time, and neither package imports this module.

Examples
--------
>>> sorted(commands())
['assign', 'check-solutions', 'course', 'grade', 'lab', 'practice', 'present', 'slides']
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__, coursecli
from .coursefiles import lab_root
from .grading import cli as grading_cli
from .paths import repo_root

__all__ = ["main", "commands", "repo_root"]


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


#: This module's own commands: name -> (help, add arguments, run).
COMMANDS: dict = {
    "lab": ("start JupyterLab on the course (extra arguments go to jupyter lab)",
            _lab_args, _lab),
}


def commands() -> dict:
    """Every subcommand: this module's, the course's and the grading package's (a new dict)."""
    return {**COMMANDS, **coursecli.COMMANDS, **grading_cli.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    """Run the ``virtlab`` command; return its exit status."""
    table = commands()
    parser = argparse.ArgumentParser(prog="virtlab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"virtlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, _) in table.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    args, extra = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if extra and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return table[args.command][2](args, extra) or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

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
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

from . import __version__, coursecli
from .coursefiles import lab_root
from .errors import check_choice
from .grading import cli as grading_cli
from .i18n import ENV as I18N_ENV
from .i18n import LANGUAGES
from .paths import repo_root

__all__ = ["main", "commands", "repo_root", "start_notebook", "lab_overrides",
           "lab_settings_dir", "LAB_LOCALES"]


#: JupyterLab's interface language for each edition of the course; the German
#: one comes from the language pack ``jupyterlab-language-pack-de-DE`` (the
#: ``lab`` extra), which registers the locale ``de_DE``.
LAB_LOCALES = {"en": "en", "de": "de_DE"}
_TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"


def _lab_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGUAGES, default=LANGUAGES[0],
                        help="edition of the course: en (default) or de (German notebooks, "
                             "German JupyterLab, German messages from the library)")
    parser.add_argument("--notebook", default=None,
                        help="notebook to open, relative to the course folder "
                             "(default: the edition's 00_start_here.ipynb)")


def start_notebook(lang: str) -> str:
    """The notebook ``virtlab lab --lang LANG`` opens, relative to the course folder.

    Examples
    --------
    >>> start_notebook("en"), start_notebook("de")
    ('notebooks/00_start_here.ipynb', 'notebooks/de/00_start_here.ipynb')
    """
    check_choice("lang", lang, LANGUAGES)
    folder = "notebooks" if lang == LANGUAGES[0] else f"notebooks/{lang}"
    return f"{folder}/00_start_here.ipynb"


def lab_overrides(lang: str, base: dict | None = None) -> dict:
    """JupyterLab setting overrides that make its interface speak ``lang``.

    ``base`` (the overrides JupyterLab would read anyway) is kept; only the
    translation plugin's ``locale`` default is set.  An override is a default:
    a language the student picked in Settings → Language still wins.

    Examples
    --------
    >>> lab_overrides("de", {"x:y": {"a": 1}})
    {'x:y': {'a': 1}, '@jupyterlab/translation-extension:plugin': {'locale': 'de_DE'}}
    """
    check_choice("lang", lang, LAB_LOCALES)
    out = {k: dict(v) for k, v in (base or {}).items()}
    out.setdefault(_TRANSLATION_PLUGIN, {})["locale"] = LAB_LOCALES[lang]
    return out


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def lab_settings_dir(lang: str, root: Path) -> Path:
    """Write the application settings folder for one launch of the ``lang`` edition.

    JupyterLab reads setting defaults from ``<app settings dir>/overrides.json``
    (``LabApp.app_settings_dir``).  This writes a copy of the installed
    overrides (plus the course's ``etc/jupyterlab-overrides.json``) with the
    edition's locale into ``<app dir>/virtlab-settings-<lang>`` (a temporary
    folder if that is not writable) and returns it; the student's own user
    settings (``~/.jupyter/lab/user-settings``) are neither read nor written.
    """
    app_dir = Path(os.environ.get("JUPYTERLAB_DIR") or Path(sys.prefix, "share", "jupyter", "lab"))
    base = _read_json(app_dir / "settings" / "overrides.json")
    for plugin, values in _read_json(root / "etc" / "jupyterlab-overrides.json").items():
        base.setdefault(plugin, {}).update(values)
    text = json.dumps(lab_overrides(lang, base), indent=2) + "\n"
    for folder in (app_dir / f"virtlab-settings-{lang}", None):
        try:
            folder = folder or Path(tempfile.mkdtemp(prefix=f"virtlab-settings-{lang}-"))
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "overrides.json").write_text(text, encoding="utf-8")
            return folder
        except OSError:
            continue
    raise OSError("virtlab lab: cannot write JupyterLab settings")  # pragma: no cover


def _lab(args: argparse.Namespace, extra: list[str]) -> int:
    root = lab_root(repo_root())   # the course-only folder the lab shows (issue 18)
    notebook = root / (args.notebook or start_notebook(args.lang))
    if not notebook.is_file():
        print(f"virtlab lab: no notebook {notebook} (outside a checkout, make a copy of the "
              "course with `virtlab course copy DIR` and start the lab in DIR)", file=sys.stderr)
        return 2
    if args.lang != LANGUAGES[0] and importlib.util.find_spec(
            "jupyterlab_language_pack_" + LAB_LOCALES[args.lang].replace("-", "_")) is None:
        print(f"virtlab lab: the JupyterLab language pack for {LAB_LOCALES[args.lang]} is not "
              "installed (pip install 'virtlab[lab]'); JupyterLab stays English",
              file=sys.stderr)
    # The printed URL (and the browser) open the notebook itself, not the launcher.
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
           f"--LabApp.default_url=/lab/tree/{notebook.relative_to(root).as_posix()}",
           f"--LabApp.app_settings_dir={lab_settings_dir(args.lang, repo_root())}",
           *coursecli.server_args(),          # kernel websockets without Nagle's delay
           *coursecli.lab_extension_args()]   # widgets in the RISE deck opened from the lab
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # lab machines and containers often run as root
    cmd += extra
    os.chdir(root)
    os.environ[I18N_ENV] = args.lang  # kernels started by this lab speak the edition's language
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

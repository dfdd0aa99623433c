"""virtlab: models, figures and widgets for a course on OS virtualization.

Submodules are imported on first use, so ``import virtlab`` is cheap and
``virtlab.widgets.glossary_search()`` works without further imports.

Examples
--------
>>> import virtlab
>>> virtlab.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .i18n import language, set_language   # tiny: keeps `import virtlab` cheap

__all__ = ["__version__", "language", "set_language"]


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise
    globals()[name] = module
    return module

"""ipywidgets apps, one per topic; each notebook shows one in a single line.

Apps are discovered from the modules of this package: a module declares
``APPS = {"factory_name": factory}`` and ``virtlab.widgets.factory_name()``
builds that app.  No central list has to be edited when a topic lands.
Widgets that are not apps (they take arguments, e.g. the self-check block
``virtlab.widgets.selfcheck("12")``) are declared in ``TOOLS`` the same way.

Examples
--------
>>> import virtlab.widgets as w
>>> "glossary_search" in w.apps()
True
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from .base import WidgetApp

__all__ = ["WidgetApp", "apps"]

_REGISTRY: dict[str, Callable[[], WidgetApp]] | None = None
_TOOLS: dict[str, Callable] = {}


def apps() -> dict[str, Callable[[], WidgetApp]]:
    """All widget app factories by name (imports every widget module once)."""
    global _REGISTRY
    if _REGISTRY is None:
        registry: dict[str, Callable[[], WidgetApp]] = {}
        modules = {m.name for m in pkgutil.iter_modules(__path__)}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            if info.name.startswith("_") or info.name == "base":
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            _TOOLS.update(getattr(module, "TOOLS", {}))
            for name, factory in getattr(module, "APPS", {}).items():
                if name in modules:  # the submodule would shadow the factory
                    raise RuntimeError(f"widget app {name!r} has the name of a module of "
                                       f"{__name__}; rename one of them")
                if name in registry:
                    raise RuntimeError(f"widget app {name!r} is defined twice")
                registry[name] = factory
        _REGISTRY = registry
    return dict(_REGISTRY)


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    factory = apps().get(name) or _TOOLS.get(name)
    if factory is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return factory


def __dir__():
    return sorted(set(globals()) | set(apps()) | set(_TOOLS))

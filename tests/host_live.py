"""When the host layer's live tests must run, and when they may skip.

On the machine kind the course is developed on (x86-64 Linux with /dev/kvm)
the live tests run under CI and must pass: a missing capability there is a
failure, not a skip.  Elsewhere (a Mac, Windows, a VM without /dev/kvm) they
skip and say what is missing.
"""

import os
import platform

import pytest

REFERENCE_KIND = (platform.system() == "Linux" and platform.machine() == "x86_64"
                  and os.path.exists("/dev/kvm"))


def require(missing) -> None:
    """Skip (or, on the reference machine kind under CI, fail) if ``missing`` is set."""
    if missing is None:
        return
    if REFERENCE_KIND and os.environ.get("CI") == "true":
        pytest.fail(f"live host test cannot run on the reference machine kind: {missing}")
    pytest.skip(str(missing))


def import_or_skip(name: str):
    """Import an optional package for a test module; skip it (or fail, see above) without it."""
    try:
        return __import__(name)
    except ImportError as exc:
        if REFERENCE_KIND and os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing on the reference machine kind: {exc}",
                        pytrace=False)
        pytest.skip(f"{name} is not installed (pip install {name})", allow_module_level=True)

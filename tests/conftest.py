"""Shared pytest set-up: hypothesis profiles, headless matplotlib, nbval kernels over IPC."""

import atexit
import os
import shutil
import tempfile
import uuid

import matplotlib
import nbval.kernel
from hypothesis import HealthCheck, settings
from jupyter_client.manager import KernelManager
from traitlets import default

matplotlib.use("Agg")

# No wall-clock deadlines: the machine is shared by two xdist workers and a
# kernel or two; a deadline would make property tests flaky, not stricter.
settings.register_profile("default", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


import pytest  # noqa: E402

#: Where the notebook kernels' sockets live (short: a socket path has ~100 bytes).
IPC_DIR = tempfile.mkdtemp(prefix="virtlab-ipc-")
atexit.register(shutil.rmtree, IPC_DIR, ignore_errors=True)


class IPCKernelManager(KernelManager):
    """A kernel manager whose kernel talks over Unix sockets instead of TCP ports.

    jupyter_client picks a kernel's five TCP ports by binding and releasing
    them; two xdist workers (or a browser test's Jupyter server) starting
    kernels at the same moment can pick the same port, and nbval then fails
    with "Kernel died before replying to kernel_info" (seen once in nine
    ``make test`` runs).  Sockets named by a fresh id cannot collide.  The
    path is absolute: nbval starts each kernel in its notebook's folder.
    """

    @default("transport")
    def _transport_default(self):
        return "ipc"

    @default("ip")
    def _ip_default(self):
        return os.path.join(IPC_DIR, uuid.uuid4().hex[:16])


# nbval builds its kernels with the KernelManager named in its module
nbval.kernel.KernelManager = IPCKernelManager


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    """Every test starts, and ends, in the default language.

    ``virtlab.set_language`` is process-wide; a test (or the public-surface
    probe calling it with valid arguments) that switches it must not change
    what later tests in the same worker see.
    """
    from virtlab import i18n
    monkeypatch.setattr(i18n, "_current", None)
    monkeypatch.delenv("VIRTLAB_LANG", raising=False)


@pytest.fixture
def german():
    """The test runs in German (``set_language("de")``), then the language is restored."""
    from virtlab import set_language
    previous = set_language("de")
    yield
    set_language(previous)


def _weight(item) -> int:
    """0 for a file with a browser test, 1 with a slow test, 2 a notebook, 3 the rest."""
    marks = {m.name for m in item.iter_markers()}
    if "browser" in marks:
        return 0
    return 1 if "slow" in marks else 2 if str(item.fspath).endswith(".ipynb") else 3


def pytest_collection_modifyitems(session, config, items):
    """Longest files first, so `make test`'s two workers finish together.

    ``--dist loadfile`` hands out whole files in collection order (with
    ``--no-loadscope-reorder``, which `make test` passes: by default xdist
    reorders files by their number of tests); a long file handed out last keeps
    one worker busy while the other idles.  Files with a browser or slow test
    go first, then the notebooks, then the quick tests (order kept within each
    group and file).
    """
    first: dict = {}
    for item in items:
        w = _weight(item)
        first[item.fspath] = min(first.get(item.fspath, w), w)
    order = {path: (w, i) for i, (path, w) in enumerate(first.items())}
    items.sort(key=lambda item: order[item.fspath])

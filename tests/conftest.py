"""Shared pytest set-up: hypothesis profiles, headless matplotlib."""

import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# No wall-clock deadlines: the machine is shared by two xdist workers and a
# kernel or two; a deadline would make property tests flaky, not stricter.
settings.register_profile("default", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=500,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


import pytest  # noqa: E402


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

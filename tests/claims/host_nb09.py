"""Claims of notebook 09's "On this machine" section (issue 15)."""

import inspect

from claims import claim

from virtlab.host import vmm


@claim("09", "your own hypervisor in about thirty lines")
def _():
    src = inspect.getsource(vmm.minimal_hypervisor)
    body = src.split('"""')[2]                      # after the docstring
    lines = [ln for ln in body.splitlines() if ln.strip()]
    assert 25 <= len(lines) + 1 <= 35               # + the def line

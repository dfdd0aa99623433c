"""The "Try it" cells (inserted from virtlab/data/selfcheck/NN.yaml) are claims too.

Each task and its expected observation is quoted in its notebook; the check
that drives the app and verifies the observation lives in
tests/test_selfcheck.py (TRY_IT_CHECKS) and is reused here, so the number in
a task ("Set 64 entries") and the statement in its answer are guarded by the
same recomputation.
"""

import test_selfcheck as checks   # the checks drive the widget apps headlessly
from virtlab import selfcheck

from . import claim


def _register(task):
    def run():
        assert checks.TRY_IT_CHECKS[(task.notebook, task.app)](checks._app(task)), task.expected
    claim(task.notebook, task.task)(run)
    claim(task.notebook, task.expected)(run)


for _nb in selfcheck.notebooks():
    for _task in selfcheck.try_it_tasks(_nb):
        _register(_task)

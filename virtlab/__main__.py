"""``python -m virtlab ...``: the same command as the ``virtlab`` script."""

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The lecture on this machine's own CPU (*der eigene Rechner*): the real-machine layer.

Besides :mod:`virtlab.environment`, this package is the only code of virtlab
that touches the host.  It runs x86 instructions for real and reports what
the CPU and the OS did:

- :mod:`.critical` — x86's critical instructions executed in user mode (child
  processes; UMIP classification as a pure function);
- :mod:`.vmm` — a minimal VMM on ``/dev/kvm`` in pure Python (ioctls and
  ``ctypes`` structures with their kernel-header provenance);
- :mod:`.tcg` — QEMU's dynamic binary translator (TCG) through unicorn;
- :mod:`.scan` — capstone over real machine code (vDSO, libc);
- :mod:`.compare` — the same guest four ways in one run (native, KVM, TCG,
  virtlab's interpreter);
- :mod:`.guests` — the guest programs as bytes with their listing.

Every function degrades honestly: where Linux/x86-64, ``/dev/kvm`` or an
optional package is missing it returns its result with ``missing`` set (a
:class:`.base.Missing`: what, why, how to get it) and never raises or fakes;
:func:`.base.reference_run` is the stored run recorded elsewhere.
"""

from . import base, compare, critical, guests, scan, tcg, vmm
from .base import Missing, reference_run

__all__ = ["Missing", "base", "compare", "critical", "guests", "reference_run", "scan",
           "tcg", "vmm"]

"""The guest kernel loop that exercises 10, 11 and 14 run on the machines.

Examples
--------
>>> print(guest_loop(3, ["CLI", "STI"]))
MOV ECX, 3
loop:
CLI
STI
DEC ECX
JNZ loop
HLT
"""

from __future__ import annotations

__all__ = ["guest_loop"]


def guest_loop(loops: int, body) -> str:
    """Assembly text: ``body`` run ``loops`` times (counter in ECX), then ``HLT``.

    Executed instructions: ``1 + loops * (len(body) + 2) + 1``.
    """
    return "\n".join([f"MOV ECX, {loops}", "loop:", *body, "DEC ECX", "JNZ loop", "HLT"])

"""Small live models of the virtualization variants the lecture lists.

*Was ist Virtualisierung?* — "methods that abstract resources with the help of
software".  Each variant below is a resource plus the software layer that
abstracts it; operating-system virtualization itself gets the rest of the
course.

* storage virtualization (:func:`stripe_map`): a logical volume whose blocks
  are spread over several disks;
* virtual process environments (:class:`AddressSpaces`): every process sees
  its own address space, mapped onto shared frames;
* virtual processors (:func:`run_bytecode`): a JVM-like stack machine;
* network virtualization (:func:`vlan_domains`): one switch, several VLANs.

Examples
--------
>>> stripe_map(6, disks=2, stripe_blocks=1)
[(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
>>> run_bytecode([("push", 6), ("push", 7), ("mul",)]).stack
(42,)
>>> vlan_domains({"a": 10, "b": 20, "c": 10})
{10: ('a', 'c'), 20: ('b',)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import check_int, check_str, check_type

__all__ = ["AddressSpaces", "BytecodeRun", "parse_ports", "run_bytecode", "stripe_map",
           "vlan_domains"]


# -- storage -----------------------------------------------------------------

def stripe_map(blocks: int, disks: int, stripe_blocks: int = 1) -> list[tuple[int, int]]:
    """Where each logical block of a striped (RAID-0 style) volume lives.

    Logical block ``b`` belongs to stripe unit ``u = b // stripe_blocks``;
    units go round-robin over the disks.

    Parameters
    ----------
    blocks : int
        Size of the logical volume in blocks (>= 0).
    disks : int
        Number of physical disks (>= 1).
    stripe_blocks : int
        Blocks per stripe unit (>= 1).

    Returns
    -------
    list of (disk, physical_block)

    Examples
    --------
    >>> stripe_map(4, disks=2, stripe_blocks=2)
    [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    check_int("blocks", blocks, minimum=0, maximum=1_000_000)
    check_int("disks", disks, minimum=1, maximum=1024)
    check_int("stripe_blocks", stripe_blocks, minimum=1)
    out = []
    for b in range(blocks):
        unit, offset = divmod(b, stripe_blocks)
        row, disk = divmod(unit, disks)
        out.append((disk, row * stripe_blocks + offset))
    return out


# -- virtual process environments --------------------------------------------

class AddressSpaces:
    """Per-process virtual pages mapped onto one pool of physical frames.

    The OS gives every process the illusion of a private memory starting at
    address 0: the same virtual page number in two processes maps to
    different frames.

    Parameters
    ----------
    frames : int
        Number of physical frames in the machine.

    Examples
    --------
    >>> mem = AddressSpaces(frames=8)
    >>> mem.map("editor", 0); mem.map("shell", 0)
    0
    1
    >>> mem.translate("editor", 0), mem.translate("shell", 0)
    (0, 1)
    """

    def __init__(self, frames: int):
        self.frames = check_int("frames", frames, minimum=1, maximum=1 << 20)
        self._free = list(range(self.frames))
        self._maps: dict[str, dict[int, int]] = {}

    def map(self, process: str, page: int) -> int:
        """Give ``process`` a frame for virtual ``page``; return the frame."""
        check_str("process", process)
        check_int("page", page, minimum=0)
        table = self._maps.get(process, {})
        if page in table:
            return table[page]
        if not self._free:
            raise ValueError(f"page: no free frame left for {process!r} page {page} "
                             f"(all {self.frames} frames in use)")
        frame = self._free.pop(0)
        self._maps.setdefault(process, {})[page] = frame
        return frame

    def translate(self, process: str, page: int) -> int:
        """The frame behind ``process``'s virtual ``page`` (ValueError if unmapped)."""
        check_str("process", process)
        check_int("page", page, minimum=0)
        try:
            return self._maps[process][page]
        except KeyError:
            raise ValueError(f"page {page} is not mapped in process {process!r}") from None

    def table(self) -> dict[str, dict[int, int]]:
        """A copy of every process's page → frame map."""
        return {p: dict(m) for p, m in self._maps.items()}


# -- virtual processors --------------------------------------------------------

@dataclass(frozen=True)
class BytecodeRun:
    """Result of :func:`run_bytecode`: final stack and every step's stack."""

    stack: tuple[int, ...]
    steps: tuple[tuple[str, tuple[int, ...]], ...]


_BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
           "mul": lambda a, b: a * b}


def run_bytecode(program: Sequence[tuple], max_steps: int = 10_000) -> BytecodeRun:
    """Run a tiny JVM-like stack program: a processor that exists only in software.

    Instructions: ``("push", n)``, ``("add",)``, ``("sub",)``, ``("mul",)``,
    ``("dup",)``, ``("jnz", target)`` (pop; jump if non-zero).

    Examples
    --------
    >>> run_bytecode([("push", 2), ("push", 3), ("add",)]).steps[-1]
    ('add', (5,))
    >>> run_bytecode([("add",)])
    Traceback (most recent call last):
    ...
    ValueError: program[0]: 'add' needs 2 values on the stack, has 0
    """
    check_type("program", program, (list, tuple))
    check_int("max_steps", max_steps, minimum=1, maximum=10_000_000)
    for i, ins in enumerate(program):
        if not isinstance(ins, tuple) or not ins or not isinstance(ins[0], str):
            raise TypeError(f"program[{i}] must be a tuple like ('push', 1), got {ins!r}")
        op = ins[0]
        if op in ("push", "jnz"):
            if len(ins) != 2:
                raise ValueError(f"program[{i}]: {op!r} takes one operand")
            check_int(f"program[{i}] operand", ins[1])
            if op == "jnz":
                check_int(f"program[{i}] target", ins[1], minimum=0, maximum=len(program))
        elif op in _BINARY or op == "dup":
            if len(ins) != 1:
                raise ValueError(f"program[{i}]: {op!r} takes no operand")
        else:
            raise ValueError(f"program[{i}]: unknown instruction {op!r}")
    stack: list[int] = []
    steps = []
    pc = 0
    for _ in range(max_steps):
        if pc >= len(program):
            return BytecodeRun(tuple(stack), tuple(steps))
        op, *arg = program[pc]
        need = 2 if op in _BINARY else (1 if op in ("dup", "jnz") else 0)
        if len(stack) < need:
            raise ValueError(f"program[{pc}]: {op!r} needs {need} values on the stack, "
                             f"has {len(stack)}")
        pc += 1
        if op == "push":
            stack.append(arg[0])
        elif op == "dup":
            stack.append(stack[-1])
        elif op == "jnz":
            if stack.pop():
                pc = arg[0]
        else:
            b, a = stack.pop(), stack.pop()
            stack.append(_BINARY[op](a, b))
        steps.append((op, tuple(stack)))
    raise ValueError(f"max_steps: program did not finish within {max_steps} steps")


# -- network ---------------------------------------------------------------------

def vlan_domains(ports: Mapping[str, int]) -> dict[int, tuple[str, ...]]:
    """Broadcast domains of one physical switch with 802.1Q VLANs.

    Hosts on the same VLAN id reach each other; the switch keeps the VLANs
    apart although they share the hardware.

    Parameters
    ----------
    ports : mapping of str to int
        Host name → VLAN id (1..4094).

    Examples
    --------
    >>> vlan_domains({"web": 2, "db": 3, "mail": 2})
    {2: ('mail', 'web'), 3: ('db',)}
    """
    check_type("ports", ports, Mapping)
    domains: dict[int, list[str]] = {}
    for host, vlan in ports.items():
        check_str("ports key", host)
        check_int(f"ports[{host!r}]", vlan, minimum=1, maximum=4094)
        domains.setdefault(vlan, []).append(host)
    return {v: tuple(sorted(h)) for v, h in sorted(domains.items())}


def parse_ports(text: str) -> dict[str, int]:
    """Parse ``"web=10, db=20"`` into a host → VLAN mapping (for text fields).

    Examples
    --------
    >>> parse_ports("web=10, db = 20")
    {'web': 10, 'db': 20}
    >>> parse_ports("web=ten")
    Traceback (most recent call last):
    ...
    ValueError: ports: 'web=ten' must look like host=VLAN with VLAN a number 1..4094
    """
    check_str("ports", text)
    ports: dict[str, int] = {}
    for item in text.split(","):
        host, sep, vlan = (part.strip() for part in item.partition("="))
        if not sep or not host or not vlan.isdigit():
            raise ValueError(f"ports: {item.strip()!r} must look like host=VLAN with VLAN "
                             "a number 1..4094")
        if host in ports:
            raise ValueError(f"ports: host {host!r} appears twice")
        ports[host] = check_int(f"ports[{host!r}]", int(vlan), minimum=1, maximum=4094)
    return ports

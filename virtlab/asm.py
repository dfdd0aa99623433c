"""A small assembler for guest programs (readable text → :class:`Program`).

The syntax is Intel-like, one instruction per line::

    ; comments start with a semicolon
    .equ IDT, 0x100          ; a named constant
    .word 0x100, 0, 0, 0     ; initial memory words: address, values...
    .kernel                  ; following code is guest-kernel code (default)
    start:  MOV EAX, 10      ; labels end with a colon
    loop:   ADD EBX, EAX
            DEC EAX
            JNZ loop
            MOV [EBX+4], EAX ; memory: [reg], [reg+disp], [disp]
            HLT
    .user                    ; following code is application code

Operands: general registers EAX ECX EDX EBX ESP EBP ESI EDI; segment registers
ES CS SS DS (x86 catalogues only); control registers CR0 CR2 CR3 CR4; debug
registers DR0-DR7; immediates (decimal, ``0x`` hex, negative, ``.equ`` names,
labels = code addresses); memory ``[...]``.  Memory is *word-addressed*: each
address holds one 32-bit word (a simplification for readability); the stack
grows down one word per push.

Every instruction records its *catalogue key* (``MOV`` vs ``MOV CR``) and
whether its operand form is the sensitive one (``MOV EAX, CS`` is,
``MOV EAX, EBX`` is not), see :mod:`virtlab.isa`.

Errors name the line: ``ValueError: line 3: unknown mnemonic 'MOOV'``.

Examples
--------
>>> prog = assemble('''
... start: MOV EAX, 3
... loop:  DEC EAX
...        JNZ loop
...        HLT
... ''')
>>> len(prog), prog.labels["loop"]
(4, 1)
>>> print(prog[2])
JNZ loop
>>> assemble("MOV EAX, CS")[0].sensitive_form
True
>>> assemble("MOV EAX, EBX")[0].sensitive_form
False
>>> assemble("ADD EAX, 1\\nFOO EBX")
Traceback (most recent call last):
...
ValueError: line 2: unknown mnemonic 'FOO'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .errors import check_str, check_type
from .isa import ISA, X86_32, get_isa

__all__ = ["Instruction", "Program", "assemble", "REGS", "SREGS", "CREGS",
           "MAX_LINES", "MASK"]

MASK = 0xFFFFFFFF
REGS = ("EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI")
SREGS = ("ES", "CS", "SS", "DS")
CREGS = (0, 2, 3, 4)
MAX_LINES = 20_000
MAX_ADDRESS = 1 << 20

_ALIASES = {"JE": "JZ", "JNE": "JNZ"}
_JCC = ("JZ", "JNZ", "JL", "JGE", "JG", "JLE")
_ALU2 = ("ADD", "SUB", "AND", "OR", "XOR", "CMP")
_UNARY = ("INC", "DEC", "NEG", "NOT", "DIV")
_NOARG = ("RET", "NOP", "HLT", "CLI", "STI", "PUSHF", "POPF", "CLTS", "RDMSR", "WRMSR",
          "SYSEXIT", "VMCALL")
_ONEREG = ("LGDT", "LIDT", "LLDT", "LTR", "LMSW", "INVLPG", "SGDT", "SIDT", "SLDT",
           "SMSW", "STR", "VERR", "VERW")

# Operand kinds: r register, i immediate, m memory, s segment reg, c control reg,
# d debug reg, l code label/address.
_FORMS: dict[str, tuple[str, ...]] = {
    "MOV": ("rr", "ri", "rm", "mr", "mi", "rs", "sr", "rc", "cr", "rd", "dr"),
    **{m: ("rr", "ri", "rm") for m in _ALU2},
    "TEST": ("rr", "ri"), "IMUL": ("rr", "ri"),
    "SHL": ("ri",), "SHR": ("ri",),
    **{m: ("r",) for m in _UNARY},
    "PUSH": ("r", "i", "s"), "POP": ("r", "s"),
    "CALL": ("l",), "JMP": ("l",), **{m: ("l",) for m in _JCC},
    **{m: ("",) for m in _NOARG},
    "IN": ("ri",), "OUT": ("ir",),
    **{m: ("r",) for m in _ONEREG},
    "LAR": ("rr",), "LSL": ("rr",),
    "INT": ("i",),
}
#: Mnemonics the CPU can execute (``HYPERCALL`` is made by :mod:`paravirt`).
MNEMONICS = frozenset(_FORMS)


@dataclass(frozen=True)
class Instruction:
    """One assembled guest instruction.

    Attributes
    ----------
    mnemonic : str
        Canonical mnemonic (``JE`` becomes ``JZ``).
    operands : tuple
        Operand tuples: ``("r", i)`` register, ``("i", v)`` immediate,
        ``("m", base, disp)`` memory (base -1 = absolute), ``("s", i)``
        segment register, ``("c", n)`` CRn, ``("d", n)`` DRn, ``("l", a)`` code
        address.
    line : int
        Source line (1-based; 0 for generated instructions).
    section : str
        ``"kernel"`` or ``"user"`` (from ``.kernel`` / ``.user``).
    key : str
        Catalogue key in :mod:`virtlab.isa` (``"MOV CR"`` for CR moves).
    sensitive_form : bool
        True when this operand form is the sensitive one of the mnemonic.
    label : str or None
        The label name for jumps and calls (for listings).
    inner : Instruction or None
        For a paravirtual ``HYPERCALL``: the instruction it replaces.
    """

    mnemonic: str
    operands: tuple = ()
    line: int = 0
    section: str = "kernel"
    key: str = ""
    sensitive_form: bool = False
    label: str | None = None
    inner: Instruction | None = None
    name: str = ""

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """Canonical source text.

        Examples
        --------
        >>> assemble("mov [ebx+4], 7")[0].text
        'MOV [EBX+4], 7'
        """
        if self.mnemonic == "HYPERCALL":
            return f"HYPERCALL {self.name}" + (f"   ; was {self.inner.text}"
                                               if self.inner is not None else "")
        ops = []
        for op in self.operands:
            ops.append(self.label if op[0] == "l" and self.label else _fmt(op))
        return self.mnemonic + (" " + ", ".join(ops) if ops else "")


def _fmt(op: tuple) -> str:
    kind = op[0]
    if kind == "r":
        return REGS[op[1]]
    if kind == "s":
        return SREGS[op[1]]
    if kind == "c":
        return f"CR{op[1]}"
    if kind == "d":
        return f"DR{op[1]}"
    if kind in ("i", "l"):
        v = op[1]
        return hex(v) if v > 255 else str(v)
    base, disp = op[1], op[2]
    if base < 0:
        return f"[{hex(disp) if disp > 255 else disp}]"
    if disp == 0:
        return f"[{REGS[base]}]"
    return f"[{REGS[base]}{'+' if disp > 0 else '-'}{abs(disp)}]"


@dataclass(frozen=True)
class Program:
    """An assembled guest program: instructions at code addresses 0..n-1.

    Code and data live in separate address spaces (the code is not in guest
    memory), so programs cannot modify themselves — which keeps the
    translation caches of binary translation simple.

    Attributes
    ----------
    instructions : tuple of Instruction
    labels : mapping of str to int
    data : mapping of int to int
        Initial memory words (``.word``).
    entry : int
        Start address: the label ``start`` if present, else 0.
    isa : str
        Name of the catalogue the program was checked against.
    source : str
    """

    instructions: tuple
    labels: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    data: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    entry: int = 0
    isa: str = "X86_32"
    source: str = ""

    def __len__(self) -> int:
        return len(self.instructions)

    def __getitem__(self, i: int) -> Instruction:
        return self.instructions[i]

    def __iter__(self):
        return iter(self.instructions)

    def __hash__(self) -> int:
        return hash((self.instructions, self.entry))

    def listing(self) -> str:
        """Address, labels and canonical text of every instruction.

        Examples
        --------
        >>> print(assemble("x: NOP\\nJMP x").listing())
           0 x:    NOP
           1       JMP x
        """
        names: dict[int, list[str]] = {}
        for name, addr in self.labels.items():
            names.setdefault(addr, []).append(name)
        out = []
        for addr, ins in enumerate(self.instructions):
            lab = ",".join(sorted(names.get(addr, ())))
            lab = (lab + ":") if lab else ""
            out.append(f"{addr:4d} {lab:<6s}{ins.text}")
        return "\n".join(out)

    def replace_instructions(self, instructions: tuple) -> Program:
        """A copy with other instructions at the same addresses (same length).

        Examples
        --------
        >>> p = assemble("NOP\\nHLT")
        >>> len(p.replace_instructions(p.instructions))
        2
        """
        check_type("instructions", instructions, tuple)
        if len(instructions) != len(self.instructions):
            raise ValueError("instructions must keep the program length "
                             f"{len(self.instructions)}, got {len(instructions)}")
        for ins in instructions:
            check_type("instructions[]", ins, Instruction)
        return Program(instructions, self.labels, self.data, self.entry, self.isa,
                       self.source)


_LABEL_RE = re.compile(r"^([A-Za-z_.][A-Za-z0-9_.]*)\s*:\s*(.*)$")
_NAME_RE = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_MEM_RE = re.compile(r"^\[\s*([A-Za-z_.0-9]+)\s*(?:([+-])\s*([A-Za-z_.0-9]+)\s*)?\]$")


class _Err(Exception):
    pass


def _number(tok: str, consts: Mapping[str, int], labels: Mapping[str, int] | None = None):
    t = tok.strip()
    neg = t.startswith("-")
    body = t[1:].strip() if neg else t
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", body):
            v = int(body, 16)
        elif re.fullmatch(r"[0-9]+", body):
            v = int(body, 10)
        elif body.upper() in consts:
            v = consts[body.upper()]
        elif labels is not None and body in labels:
            v = labels[body]
        else:
            return None
    except ValueError:  # pragma: no cover - regex guards
        return None
    v = -v if neg else v
    if not -(1 << 31) <= v <= MASK:
        raise _Err(f"immediate {tok!r} does not fit in 32 bits")
    return v


def _operand(tok: str, consts, labels, want_label: bool):
    t = tok.strip()
    u = t.upper()
    if not t:
        raise _Err("empty operand")
    if u in REGS:
        return ("r", REGS.index(u))
    if u in SREGS:
        return ("s", SREGS.index(u))
    if re.fullmatch(r"CR[0-9]+", u):
        n = int(u[2:])
        if n not in CREGS:
            raise _Err(f"unknown control register {t!r} (CR0, CR2, CR3, CR4)")
        return ("c", n)
    if re.fullmatch(r"DR[0-9]+", u):
        n = int(u[2:])
        if n > 7:
            raise _Err(f"unknown debug register {t!r} (DR0-DR7)")
        return ("d", n)
    if t.startswith("["):
        m = _MEM_RE.match(t)
        if not m:
            raise _Err(f"bad memory operand {t!r} (use [reg], [reg+disp] or [addr])")
        first, sign, second = m.group(1), m.group(2), m.group(3)
        if first.upper() in REGS:
            base = REGS.index(first.upper())
            disp = 0
            if second is not None:
                d = _number(second, consts)
                if d is None:
                    raise _Err(f"bad displacement {second!r}")
                disp = -d if sign == "-" else d
        else:
            d = _number(first, consts)
            if d is None:
                raise _Err(f"unknown name {first!r} in memory operand")
            if sign is not None:
                d2 = _number(second, consts)
                if d2 is None:
                    raise _Err(f"bad displacement {second!r}")
                d = d - d2 if sign == "-" else d + d2
            base, disp = -1, d
        if not -(1 << 31) <= disp <= MASK:
            raise _Err(f"displacement {disp} does not fit in 32 bits")
        return ("m", base, disp)
    if want_label:
        if _NAME_RE.match(t) and t.upper() not in consts:
            if t not in labels:
                raise _Err(f"undefined label {t!r}")
            return ("l", labels[t])
        v = _number(t, consts)
        if v is None:
            raise _Err(f"bad jump target {t!r}")
        return ("l", v)
    v = _number(t, consts, labels)
    if v is None:
        raise _Err(f"unknown operand {t!r}")
    return ("i", v & MASK)


def _kinds(ops) -> str:
    return "".join(op[0] for op in ops)


def _key_and_form(mn: str, ops) -> tuple[str, bool]:
    kinds = _kinds(ops)
    if mn == "MOV":
        if "c" in kinds:
            return "MOV CR", True
        if "d" in kinds:
            return "MOV DR", True
        return "MOV", "s" in kinds
    if mn in ("PUSH", "POP"):
        return mn, kinds == "s"
    if mn in ("CALL", "JMP", "RET"):
        return mn, False  # near forms only
    spec = X86_32._index.get(mn)
    if spec is not None:
        return mn, spec.sensitive or spec.privileged
    return mn, mn in ("VMCALL",)


def _scan(raw_lines: list[str]):
    """Pass 1 of :func:`assemble`: labels, directives and instruction slots."""
    consts: dict[str, int] = {}
    labels: dict[str, int] = {}
    items: list[tuple[int, str, str, str]] = []  # (line, mnemonic, operand text, section)
    data: dict[int, int] = {}
    section = "kernel"
    for no, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.split(";", 1)[0].strip()
            while text:
                m = _LABEL_RE.match(text)
                if not m or text.startswith("."):
                    break
                name = m.group(1)
                if name.upper() in REGS or name.upper() in SREGS:
                    raise _Err(f"label {name!r} is a register name")
                if name in labels:
                    raise _Err(f"label {name!r} defined twice")
                labels[name] = len(items)
                text = m.group(2).strip()
            if not text:
                continue
            head, _, rest = text.partition(" ")
            head_u = head.upper()
            if head_u == ".KERNEL" or head_u == ".USER":
                if rest.strip():
                    raise _Err(f"{head} takes no operands")
                section = head_u[1:].lower()
                continue
            if head_u == ".EQU":
                parts = [p.strip() for p in rest.split(",")]
                if len(parts) != 2 or not _NAME_RE.match(parts[0]):
                    raise _Err(".equ needs NAME, value")
                v = _number(parts[1], consts)
                if v is None:
                    raise _Err(f"bad .equ value {parts[1]!r}")
                consts[parts[0].upper()] = v
                continue
            if head_u == ".WORD":
                parts = [p.strip() for p in rest.split(",")]
                if len(parts) < 2:
                    raise _Err(".word needs an address and at least one value")
                addr = _number(parts[0], consts)
                if addr is None or not 0 <= addr < MAX_ADDRESS:
                    raise _Err(f"bad .word address {parts[0]!r}")
                for k, p in enumerate(parts[1:]):
                    items_val = _number(p, consts, None)
                    if items_val is None:
                        # labels (handler addresses) are resolved in pass 2
                        data[addr + k] = ("label", p, no)  # type: ignore[assignment]
                    else:
                        data[addr + k] = items_val & MASK
                continue
            if head.startswith("."):
                raise _Err(f"unknown directive {head!r}")
            items.append((no, head_u, rest.strip(), section))
        except _Err as exc:
            raise ValueError(f"line {no}: {exc}") from None
    return consts, labels, items, data


def _encode(items, consts: dict, labels: dict, isa: ISA) -> list[Instruction]:
    """Pass 2 of :func:`assemble`: operands, forms and the ISA check per instruction."""
    instructions = []
    for no, mn, rest, sec in items:
        try:
            mn = _ALIASES.get(mn, mn)
            if mn not in _FORMS:
                raise _Err(f"unknown mnemonic {mn!r}")
            toks = [t for t in _split_ops(rest)] if rest else []
            want_label = mn in ("CALL", "JMP") or mn in _JCC
            ops = tuple(_operand(t, consts, labels, want_label) for t in toks)
            kinds = _kinds(ops)
            if kinds not in _FORMS[mn]:
                forms = ", ".join(_describe_form(f) for f in _FORMS[mn])
                raise _Err(f"{mn} does not take operands {rest!r} (forms: {forms})")
            key, sens = _key_and_form(mn, ops)
            if key not in isa or not isa[key].executable:
                raise _Err(f"{key} is not in ISA {isa.name}")
            if "s" in kinds and not isa.segment_registers:
                raise _Err(f"ISA {isa.name} has no segment registers: "
                           f"'{mn} {rest}'")
            if mn in ("MOV", "POP") and ops[0][0] == "s" and ops[0][1] == 1:
                raise _Err("CS cannot be loaded with MOV/POP")
            label = toks[0].strip() if want_label and toks and _NAME_RE.match(
                toks[0].strip()) else None
            instructions.append(Instruction(mn, ops, no, sec, key, sens, label))
        except _Err as exc:
            raise ValueError(f"line {no}: {exc}") from None
    return instructions


def assemble(source: str, *, isa: ISA | str = X86_32) -> Program:
    """Assemble ``source`` into a :class:`Program` checked against ``isa``.

    Parameters
    ----------
    source : str
        Guest program text (see the module docstring for the syntax).
    isa : ISA or str
        Catalogue whose executable instructions are allowed (default
        ``X86_32``).  ``TOY`` has no segment registers; ``VMCALL`` needs
        ``X86_VTX``.

    Raises
    ------
    ValueError
        ``"line N: message"`` for any error in the source.

    Examples
    --------
    >>> assemble("VMCALL")
    Traceback (most recent call last):
    ...
    ValueError: line 1: VMCALL is not in ISA X86_32
    >>> assemble("VMCALL", isa="X86_VTX")[0].key
    'VMCALL'
    >>> assemble("MOV EAX, CS", isa="TOY")
    Traceback (most recent call last):
    ...
    ValueError: line 1: ISA TOY has no segment registers: 'MOV EAX, CS'
    """
    check_str("source", source, nonempty=False)
    isa = get_isa(isa)
    raw_lines = source.split("\n")
    if len(raw_lines) > MAX_LINES:
        raise ValueError(f"source must have at most {MAX_LINES} lines, got {len(raw_lines)}")
    consts, labels, items, data = _scan(raw_lines)
    instructions = _encode(items, consts, labels, isa)
    for addr, v in list(data.items()):
        if isinstance(v, tuple):
            _, name, no = v
            if name not in labels:
                raise ValueError(f"line {no}: unknown value {name!r} in .word")
            data[addr] = labels[name]
    entry = labels.get("start", 0)
    return Program(tuple(instructions), MappingProxyType(dict(labels)),
                   MappingProxyType(dict(sorted(data.items()))), entry, isa.name, source)


def _describe_form(f: str) -> str:
    names = {"r": "reg", "i": "imm", "m": "[mem]", "s": "sreg", "c": "CRn", "d": "DRn",
             "l": "label"}
    return " ".join(names[k] for k in f) if f else "no operands"


def _split_ops(rest: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in rest:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def parse_instruction(text: str, *, isa: ISA | str = X86_32) -> Instruction:
    """Assemble a single instruction line (labels resolve to nothing).

    Examples
    --------
    >>> parse_instruction("popf").key
    'POPF'
    """
    check_str("text", text)
    prog = assemble(text, isa=isa)
    if len(prog) != 1:
        raise ValueError(f"text must hold exactly one instruction, got {len(prog)}")
    return prog[0]


def check_program(program: Any) -> Program:
    """Return ``program`` if it is a :class:`Program`, else raise TypeError.

    Examples
    --------
    >>> check_program("NOP")
    Traceback (most recent call last):
    ...
    TypeError: program must be a Program (use virtlab.asm.assemble), got str
    """
    if not isinstance(program, Program):
        raise TypeError("program must be a Program (use virtlab.asm.assemble), "
                        f"got {type(program).__name__}")
    if len(program) == 0:
        raise ValueError("program must contain at least one instruction")
    return program

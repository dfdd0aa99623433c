"""The two fast engines equal the reference semantics on generated programs.

The plain instruction subset exists three times: the reference
``virtlab.cpu.semantics.execute`` and two specialised copies for speed (the
threaded-code interpreter, the block compiler's generated Python).  The
reference engine is ``interpret_step`` (every instruction through ``execute``).
Here hypothesis generates programs over the whole plain subset (every ALU form
incl. memory operands with and without a base register, INC/DEC/NEG/NOT, shifts
by 0..40, moves, PUSH/POP, CALL/RET, forward conditional jumps on every
condition, a counted loop) mixed with special instructions (DIV that may trap,
PUSHF/POPF, CLI/STI, out-of-range memory that stops the machine), and demands
the same final state — registers, flags, memory, counters, status — from all
three engines.
"""

from hypothesis import given, settings, strategies as st

from virtlab.asm import assemble
from virtlab.cpu import CPU, interpret, interpret_step, run_native
from virtlab.cpu.semantics import CONDITIONS

M = 0xFFFFFFFF
DST = ["EAX", "EBX", "ECX", "EDX", "ESI", "EDI"]        # EBP is the base register
SRC = DST + ["EBP"]
ALU = ["ADD", "SUB", "AND", "OR", "XOR", "CMP", "TEST", "IMUL"]
imm = st.one_of(st.integers(0, 40), st.integers(0, M),
                st.sampled_from([0x7FFFFFFF, 0x80000000, M]))
absolute = st.integers(0x100, 0x10F).map(lambda a: f"[{a}]")
based = st.integers(0, 15).map(lambda d: f"[EBP + {d}]")
memory = st.one_of(absolute, based)


@st.composite
def instruction(draw, label: int):
    """One instruction (or a short idiom); may branch forward to ``f{label}``."""
    k = draw(st.integers(0, 13))
    r = draw(st.sampled_from(DST))
    if k <= 2:
        op = draw(st.sampled_from(ALU))
        srcs = [st.sampled_from(SRC), imm.map(str)]
        if op not in ("TEST", "IMUL"):
            srcs.append(memory)
        return f"{op} {r}, {draw(st.one_of(*srcs))}"
    if k == 3:
        return f"{draw(st.sampled_from(['INC', 'DEC', 'NEG', 'NOT']))} {r}"
    if k == 4:
        return f"{draw(st.sampled_from(['SHL', 'SHR']))} {r}, {draw(st.integers(0, 40))}"
    if k == 5:
        return f"MOV {r}, {draw(st.one_of(st.sampled_from(SRC), imm.map(str), memory))}"
    if k == 6:
        return f"MOV {draw(memory)}, {draw(st.one_of(st.sampled_from(SRC), imm.map(str)))}"
    if k == 7:
        return f"PUSH {draw(st.sampled_from(SRC))}\nPOP {r}"
    if k == 8:
        return f"{draw(st.sampled_from(sorted(CONDITIONS)))} f{label}"
    if k == 9:
        return "CALL sub"
    if k == 10:
        return draw(st.sampled_from(["PUSHF\nPOPF", "CLI", "STI", "NOP", "PUSHF\nPOP EAX"]))
    if k == 11:
        return f"DIV {draw(st.sampled_from(DST))}"
    if k == 12:
        return f"MOV {r}, [{draw(st.sampled_from([4095, 4096, 0x7FFFFFFF]))}]"
    return f"JMP f{label}"


@st.composite
def program(draw):
    lines = ["MOV ESP, 0x700", "MOV EBP, 0x200"]
    for label in range(draw(st.integers(1, 5))):
        lines += [draw(instruction(label)) for _ in range(draw(st.integers(0, 8)))]
        if draw(st.booleans()):   # a counted loop (ECX is not touched inside)
            body = [draw(instruction(label)).replace("ECX", "EDX")
                    for _ in range(draw(st.integers(1, 4)))]
            body = [b for b in body if not b.startswith(("J", "CALL"))] or ["NOP"]
            lines += [f"MOV ECX, {draw(st.integers(1, 6))}", f"l{label}:", *body,
                      "DEC ECX", f"JNZ l{label}"]
        lines.append(f"f{label}:")
    lines.append("PUSHF\nHLT")
    lines.append("sub: ADD EAX, 1\nRET")
    return "\n".join(lines)


def reference(c: CPU, max_steps: int = 10_000) -> None:
    """The reference engine: one instruction at a time through ``execute``."""
    for _ in range(max_steps):
        if interpret_step(c) < 0:
            return


def fresh(prog, init):
    c = CPU(prog)
    for i, v in zip((0, 3, 1, 2, 6, 7), init):
        c.regs[i] = v
    return c


@settings(max_examples=150, deadline=None)
@given(program(), st.lists(st.integers(0, M), min_size=6, max_size=6))
def test_interpreter_and_compiler_equal_the_reference(src, init):
    prog = assemble(src)
    ref, threaded, compiled = fresh(prog, init), fresh(prog, init), fresh(prog, init)
    reference(ref)
    interpret(threaded, max_steps=10_000)
    run_native(compiled, max_steps=10_000)
    assert ref.halted or ref.fault, "generated programs terminate"
    for other in (threaded, compiled):
        assert other.state() == ref.state(), other.state().diff(ref.state())
        assert other.ev == ref.ev


def test_the_generator_reaches_every_engine_path():
    """The property above is only as strong as its programs: check they are varied."""
    seen = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(program())
    def collect(src):
        c = CPU(assemble(src))
        reference(c)
        seen.add("halted" if c.halted else "fault" if "memory" in (c.fault or "") else
                 "triple fault" if c.fault else "?")
        seen.update(i.mnemonic for i in c.program)
    collect()
    assert {"halted", "fault", "triple fault"} <= seen     # DIV by zero with no IDT
    assert {"ADD", "IMUL", "SHL", "CALL", "RET", "DIV", "POPF", "JL", "JNZ"} <= seen


def test_a_broken_copy_is_caught(monkeypatch):
    """Break the compiler's copy (INC no longer writes OF) and the comparison fails."""
    from virtlab.cpu import compiler
    prog = assemble("MOV EAX, 0x7FFFFFFF\nINC EAX\nJL a\nHLT\na: MOV EBX, 1\nHLT")
    ref = CPU(prog)
    reference(ref)
    monkeypatch.setitem(compiler._FLAG_RW, "INC", ((), ("zf", "sf")))
    compiler._translation.cache_clear()
    try:
        broken = CPU(prog)
        run_native(broken)
    finally:
        compiler._translation.cache_clear()
    assert broken.state() != ref.state()
    assert "EBX" in broken.state().diff(ref.state())


def test_flags_are_exact_when_a_load_faults():
    """Found by the property above: the compiler treated INC's flags as dead because
    ADD overwrites them, but the load between them stops the machine first."""
    prog = assemble("MOV EAX, 0xFFFFFFFF\nINC EAX\nMOV EAX, [4096]\nADD EAX, 1\nHLT")
    for run in (reference, interpret, run_native):
        c = CPU(prog)
        run(c)
        assert c.fault and c.pc == 2 and c.zf and c.regs[0] == 0


def test_add_of_a_register_to_itself_sets_overflow_in_every_engine():
    """Found by the property test: ADD EAX, EAX with EAX = 0x7FFFFFFF overflows (OF = 1).

    The block compiler read the source register after writing the result."""
    src = "ADD EAX, 2147483647\nADD EAX, EAX\nHLT"
    for run in (lambda c: interpret(c, 100), lambda c: run_native(c, 100)):
        c = CPU(assemble(src))
        run(c)
        assert c.regs[0] == 0xFFFFFFFE and c.of == 1 and c.cf == 0

"""CPU semantics (expected values by reasoning) and compiled blocks == interpreter."""

import pytest
from hypothesis import given, settings, strategies as st

from virtlab.asm import assemble
from virtlab.cpu import CPU, PT_WORDS, execute, interpret, run_native, BlockCompiler, \
    native_special

M = 0xFFFFFFFF


def both(src, **kw):
    """Run under the interpreter and the block compiler; they must agree."""
    a, b = CPU(assemble(src), **kw), CPU(assemble(src), **kw)
    sa, sb = interpret(a), run_native(b)
    assert sa == sb and a.state() == b.state()
    return a


@pytest.mark.parametrize("x,y", [(0xFFFFFFFF, 1), (0x7FFFFFFF, 1), (5, 7), (0, 0)])
def test_add_sub_flags(x, y):
    c = both(f"MOV EAX, {x}\nADD EAX, {y}\nHLT")
    s = x + y
    assert c.regs[0] == s & M
    assert (int(c.cf), int(bool(c.zf)), int(c.sf)) == (s >> 32, int(s & M == 0), (s & M) >> 31)
    sx, sy = (x - (1 << 32) if x >> 31 else x), (y - (1 << 32) if y >> 31 else y)
    assert bool(c.of) == (not -(1 << 31) <= sx + sy < (1 << 31))
    c = both(f"MOV EAX, {x}\nCMP EAX, {y}\nHLT")
    assert c.regs[0] == x and bool(c.cf) == (x < y) and bool(c.zf) == (x == y)


def test_signed_branches():
    c = both("MOV EAX, -5\nCMP EAX, 3\nJL less\nMOV EBX, 1\nHLT\nless: MOV EBX, 2\nHLT")
    assert c.regs[3] == 2                                   # -5 < 3 signed
    c = both("MOV EAX, -5\nCMP EAX, 3\nJG more\nMOV EBX, 1\nHLT\nmore: MOV EBX, 2\nHLT")
    assert c.regs[3] == 1


def test_inc_keeps_carry_and_sets_overflow():
    c = both("MOV EAX, 0xFFFFFFFF\nADD EAX, 1\nMOV EBX, 0x7FFFFFFF\nINC EBX\nHLT")
    assert c.cf and c.of and c.regs[3] == 0x80000000


def test_div_and_divide_error_goes_to_idt():
    c = both("MOV EAX, 17\nMOV EBX, 5\nDIV EBX\nHLT")
    assert (c.regs[0], c.regs[2]) == (3, 2)
    c = both("MOV EAX, 0x200\nLIDT EAX\nMOV EAX, de\nMOV [0x200], EAX\nMOV EBX, 0\n"
             "MOV ESP, 0x700\nDIV EBX\nHLT\nde: MOV ESI, 0xDE\nHLT")
    assert c.regs[6] == 0xDE and c.ev["guest_traps"] == 1
    assert c.mem[0x6FF] == 6          # the faulting EIP was pushed (then CS below it)


def test_no_idt_is_a_triple_fault():
    c = both("MOV EBX, 0\nDIV EBX\nHLT")
    assert c.fault and "triple fault" in c.fault


def test_call_ret_push_pop_stack():
    c = both("MOV ESP, 100\nCALL f\nHLT\nf: PUSH 7\nPOP EBX\nRET")
    assert c.regs[3] == 7 and c.regs[4] == 100 and c.mem[99] == 2


def test_memory_outside_stops_machine():
    c = both("MOV EAX, [5000]\nHLT", memory_words=4096)
    assert c.fault.startswith("memory access at address 5000") and c.pc == 0


def test_ring3_privileged_traps_and_popf_in_ring1_drops_if():
    prog = assemble("POPF")
    c = CPU(prog)
    c.regs[4], c.mem[10], c.real.cpl = 10, 0x200, 1
    execute(c, prog[0], 0, c.real)
    assert c.real.if_ is False
    from virtlab.cpu import GuestTrap
    c = CPU(assemble("CLI"))
    c.real.cpl = 3
    with pytest.raises(GuestTrap) as e:
        execute(c, c.program[0], 0, c.real)
    assert e.value.vector == 13


def test_sysexit_and_int_roundtrip_rings():
    c = both("""
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, sys
        MOV [0x280], EAX
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
sys:    POP EBX
        POP EDX
        HLT
.user
app:    MOV ESI, CS
        INT 0x80
""")
    assert c.regs[6] == 0x1B          # user CS = 0x18 | RPL 3
    assert c.regs[3] == 0x1B          # pushed CS of the caller
    assert c.real.cpl == 0 and c.halted


def test_page_table_writes_are_watched():
    c = both(f"MOV EAX, 0x300\nMOV CR3, EAX\nMOV [0x301], 5\nMOV [{0x300 + PT_WORDS}], 5\nHLT")
    assert c.ev["pt_writes"] == 1


def test_block_compiler_translates_once():
    prog = assemble("MOV ECX, 100\nl: ADD EAX, ECX\nDEC ECX\nJNZ l\nHLT")
    c = CPU(prog)
    bc = BlockCompiler(prog, native_special, c.memory_words, wp=c.wp)
    run_native(c, compiler=bc)
    assert bc.blocks_compiled == 3 and c.regs[0] == 5050 and c.icount == 1 + 300 + 1
    assert "while True" in bc.sources[1]            # self-loop: no dispatch per iteration


def test_max_steps_bounds_self_loops():
    c = CPU(assemble("l: JMP l"))
    assert run_native(c, max_steps=1000) == "max_steps"
    assert 1000 <= c.icount < 1002
    c = CPU(assemble("l: JMP l"))
    assert interpret(c, max_steps=1000) == "max_steps" and c.icount == 1000


OPS = ["ADD", "SUB", "AND", "OR", "XOR", "CMP", "TEST", "IMUL"]
R = ["EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP"]
imm = st.one_of(st.integers(0, 40), st.integers(0, M))


@st.composite
def straight(draw):
    lines = []
    for _ in range(draw(st.integers(1, 25))):
        k = draw(st.integers(0, 6))
        r = draw(st.sampled_from(R))
        if k < 3:
            op = draw(st.sampled_from(OPS))
            src = draw(st.one_of(st.sampled_from(R), imm.map(str)))
            lines.append(f"{op} {r}, {src}")
        elif k == 3:
            lines.append(f"{draw(st.sampled_from(['INC', 'DEC', 'NEG', 'NOT']))} {r}")
        elif k == 4:
            lines.append(f"{draw(st.sampled_from(['SHL', 'SHR']))} {r}, {draw(st.integers(0, 40))}")
        elif k == 5:
            lines.append(f"MOV [{draw(st.integers(0x100, 0x110))}], {r}")
        else:
            lines.append(f"MOV {r}, [{draw(st.integers(0x100, 0x110))}]")
    # a branch on the final flags makes them observable
    lines.append("JL a\nPUSHF\nHLT\na: PUSHF\nHLT")
    return "MOV ESP, 0x700\n" + "\n".join(lines)


@settings(max_examples=80)
@given(straight(), st.lists(st.integers(0, M), min_size=7, max_size=7))
def test_compiled_equals_interpreted(src, init):
    prog = assemble(src)
    a, b = CPU(prog), CPU(prog)
    for c in (a, b):
        for i, v in zip((0, 3, 1, 2, 6, 7, 5), init):
            c.regs[i] = v
    interpret(a)
    run_native(b)
    assert a.state() == b.state(), a.state().diff(b.state())


def test_bad_construction():
    with pytest.raises(TypeError, match="program"):
        CPU("NOP")
    with pytest.raises(ValueError, match="memory_words"):
        CPU(assemble("NOP"), memory_words=8)
    with pytest.raises(ValueError, match="memory_words"):
        CPU(assemble(".word 5000, 1\nNOP"), memory_words=4096)
    with pytest.raises(ValueError, match="vector"):
        CPU(assemble("NOP")).raise_irq(256)

"""Binary translation: kernel blocks translated once, callouts, cache, user code unchanged."""

from virtlab.asm import assemble
from virtlab.cpu import HOST_STATE
from virtlab.hypervisor import first_divergence, machine, run
from virtlab.hypervisor.binary_translation import translate

LOOP = """
        MOV ESP, 0x700
        MOV ECX, 10
loop:   PUSHF               ; critical: must become a callout in kernel code
        POPF
        CLI                 ; privileged: callout too
        ADD EAX, ECX
        DEC ECX
        JNZ loop
        HLT
"""


def test_cache_misses_once_per_block_and_hits_afterwards():
    r = run(assemble(LOOP), "binary_translation")
    # blocks: [0, 8) runs iteration 1; [2, 8) is entered 9 times (1 miss, 8 hits);
    # [8] HLT
    assert r.cache_misses == r.translated_blocks == 3
    assert r.cache_hits == 8
    assert r.counters["callouts"] == 10 * 3 + 1     # PUSHF POPF CLI per iteration + HLT
    assert r.state == run(assemble(LOOP), "native").state


def test_translate_shows_callouts_side_by_side():
    tb = translate(assemble(LOOP), 2)
    assert tb.original[:3] == ("PUSHF", "POPF", "CLI")
    assert [t.startswith("CALL vmm_emulate_") for t in tb.translated] == \
        [True, True, True, False, False, False]
    assert tb.translated[3] == "ADD EAX, ECX"            # innocuous: copied unchanged
    assert tb.callouts == 3
    assert "def _block_2" in tb.python


def test_user_code_runs_unchanged_and_leaks_sgdt():
    """Honest limitation: untranslated user-mode SGDT sees the host's GDTR."""
    prog = assemble("""
        MOV EAX, 0x40
        LGDT EAX
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
.user
app:    SGDT EBX
        MOV EAX, [0x5000]     ; stop: access outside memory
""")
    native = run(prog, "native")
    bt = run(prog, "binary_translation")
    assert native.state.regs[3] == 0x40
    assert bt.state.regs[3] == HOST_STATE["gdtr"]
    d = first_divergence(prog, "binary_translation")
    assert prog[d.pc].key == "SGDT"


def test_translation_cost_is_paid_once():
    prog = assemble(LOOP.replace("MOV ECX, 10", "MOV ECX, 1000"))
    r = run(prog, "binary_translation")
    assert r.counters["translated_instructions"] == 15   # 8 + 6 + 1, not per iteration
    assert r.cycle_breakdown["translation"] == 15 * 100.0


def test_step_reports_translation_miss():
    m = machine(assemble(LOOP), "binary_translation")
    ev = m.step()
    assert "cache miss" in ev.what
    kinds = [m.step().what for _ in range(3)]
    assert "cache miss" in kinds[1] and "callout: VMM emulates PUSHF" in kinds[1]

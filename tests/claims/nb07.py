"""Claims of notebook 07 (binary translation)."""

from virtlab.asm import assemble
from virtlab.hypervisor import first_divergence, run
from virtlab.hypervisor.binary_translation import translate
from virtlab.isa import X86_32
from virtlab.widgets.binary_translation import bt_program
from virtlab.hypervisor import guests

from . import claim, cite

FACTS12 = "facts.md section 12 ('Type 1 without VT was possible') [P]"

cite("07", "VMware ESX (2001), a type-1 hypervisor, used it too; Adams & Agesen (2006) "
           "describe one BT-based VMM shared by VMware's hosted and bare-metal products",
     FACTS12)
cite("07", "in the bare-metal (*Typ-1*) ESX (2001)", FACTS12)
cite("07", "ESX did it with BT, Xen (2003) with paravirtualization", FACTS12)

# A guest kernel that loads its own GDT base and drops to an application in ring 3,
# which reads GDTR and CR0 without trapping and then traps back with CLI.
USER_LEAK = """\
        MOV EAX, 0x200
        LIDT EAX
        MOV EAX, gp
        MOV [0x20D], EAX
        MOV EAX, 0x123
        LGDT EAX
        MOV EDX, app
        MOV ECX, 0x700
        SYSEXIT
gp:     HLT
.user
app:    SGDT EBX
        SMSW ECX
        CLI
"""


def _prog(n=5):
    return assemble(bt_program(n))


@claim("07", "In the deprivileged guest kernel (ring 1) `CLI` traps, but `POPF`, `PUSHF` and "
             "`SGDT` do not")
def _():
    assert X86_32.traps_in_user_mode("CLI")
    assert not any(X86_32.traps_in_user_mode(m) for m in ("POPF", "PUSHF", "SGDT"))
    assert run(_prog(), "trap_and_emulate").counters["vmm_traps"] > 0


@claim("07", "Innocuous instructions are copied unchanged; privileged **and** critical "
             "instructions are replaced by a call into the VMM (a *callout*)")
def _():
    prog = _prog()
    tb = translate(prog, 4)
    block = [ins for ins in prog][4:4 + len(tb.original)]
    for ins, orig, new in zip(block, tb.original, tb.translated):
        replaced = orig != new
        assert replaced == ins.sensitive_form, ins.text


@claim("07", "Under trap-and-emulate the very first `POPF` (address 2) silently drops the "
             "change of IF, and `SGDT` later leaks the *host's* GDT base. Under binary "
             "translation both are callouts")
def _():
    prog = _prog()
    d = first_divergence(prog, "trap_and_emulate")
    assert (d.pc, d.text, d.fields) == (2, "POPF", ("if_",))
    native, te = run(prog, "native"), run(prog, "trap_and_emulate")
    assert native.state.regs[2] == 0 and te.state.regs[2] != 0      # EDX = SGDT result
    assert first_divergence(prog, "binary_translation") is None


@claim("07", "Every block is translated once — a cache **miss** — and every later entry is a "
             "**hit** that costs nothing extra. More loop iterations mean more hits, never "
             "more translations")
def _():
    runs = [run(_prog(n), "binary_translation") for n in (5, 20, 100)]
    assert len({r.cache_misses for r in runs}) == 1
    assert runs[0].cache_hits < runs[1].cache_hits < runs[2].cache_hits
    assert len({r.counters["translated_instructions"] for r in runs}) == 1


@claim("07", "In the program below an application makes three system calls; its own code in "
             "ring 3 runs directly")
def _():
    r = run(guests.program("syscall"), "binary_translation")
    assert r.counters["syscalls"] == 3
    assert r.counters["user_blocks"] > 0


@claim("07", "*user-mode* `SGDT`/`SIDT`/`SMSW` are not translated and still reveal the host's "
             "values")
def _():
    prog = assemble(USER_LEAK)
    native, bt = run(prog, "native"), run(prog, "binary_translation")
    assert native.state.regs[3] == 0x123                  # EBX: the guest's own GDT base
    assert bt.state.regs[3] != 0x123                      # the VMM's, leaked
    assert bt.state.regs[1] != native.state.regs[1]       # ECX: SMSW leaks CR0 bits


@claim("07", "from two iterations on, misses stay at 3 while hits grow")
def _():
    runs = [run(_prog(n), "binary_translation") for n in (1, 2, 3, 10)]
    assert runs[0].cache_misses != 3
    assert [r.cache_misses for r in runs[1:]] == [3, 3, 3]
    hits = [r.cache_hits for r in runs[1:]]
    assert hits == sorted(hits) and hits[0] < hits[-1]


@claim("07", "Switch the technique to *trap-and-emulate* and step over the `POPF` at address "
             "2: IF stays 0")
def _():
    d = first_divergence(guests.program("popf_restore"), "trap_and_emulate")
    assert (d.pc, d.text, d.fields) == (2, "POPF", ("if_",))


@claim("07", "the cost of translating is paid once per block (misses), repeated execution "
             "only hits the cache")
def _():
    r = run(_prog(100), "binary_translation")
    assert r.cache_misses == r.translated_blocks and r.cache_hits > r.cache_misses


@claim("07", "BT keeps *equivalence* on x86 where trap-and-emulate fails (`POPF` loses IF, "
             "`SGDT` leaks the host's GDT base); application code runs untranslated")
def _():
    prog = _prog()
    assert first_divergence(prog, "binary_translation") is None
    assert first_divergence(prog, "trap_and_emulate").text == "POPF"
    r = run(guests.program("syscall"), "binary_translation")
    assert r.counters["user_blocks"] > 0

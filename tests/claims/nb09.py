"""Claims of notebook 09 (hypervisor types): recomputed from virtlab.hypervisor."""

from virtlab.asm import assemble
from virtlab.hypervisor import kvm, run
from virtlab.hypervisor.stacks import StackCosts, compare_stacks
from virtlab.hypervisor import guests

from . import cite, claim

cite("09", "(Barham et al. 2003 describe the 32-bit design; facts.md §12)",
     "Barham et al., 'Xen and the Art of Virtualization', SOSP 2003; facts.md §12")
cite("09", "on 32-bit x86, which is what the slide and the diagram show. A 64-bit PV guest "
           "kernel runs in **ring 3**, like its applications: x86-64 dropped the segment "
           "limits that protected Xen from ring 1",
     "facts.md §12 (Xen PV rings: 32-bit ring 1, 64-bit ring 3)")
cite("09", "ring 1 instead of ring 0 (32-bit; 64-bit PV kernels run in ring 3)",
     "facts.md §12 (Xen PV rings)")
cite("09", "without entering Xen (Barham et al. 2003)",
     "Barham et al., SOSP 2003 (fast exception handlers for system calls); facts.md §12")
cite("09", "(Amsden et al., OLS 2006;", "Amsden et al., 'VMI: An Interface for "
     "Paravirtualization', Ottawa Linux Symposium 2006; facts.md §12")
cite("09", "was removed again in Linux 2.6.37", "Linux 2.6.37 release (VMI removal); facts.md §12")
cite("09", "VMware ESX (2001) was a type-1 hypervisor using binary translation, Xen (2003) a "
           "type-1 hypervisor using paravirtualization",
     "facts.md §12; Adams & Agesen, ASPLOS 2006 (one BT VMM in hosted and bare-metal "
     "products); Barham et al., SOSP 2003")
cite("09", "(Sugerman, Venkitachalam & Lim, USENIX 2001)",
     "Sugerman, Venkitachalam & Lim, USENIX ATC 2001")
cite("09", "pre-copy live migration (Clark et al. 2005, notebook 04)",
     "Clark et al., NSDI 2005 (facts.md §7)")


@claim("09", "Only the VM-exit price (≈2,000 cycles, SplitX) and the KVM user-space exit "
             "(≈1,200 extra, LKML 2020) have sources")
def _():
    c = StackCosts()
    assert c.vm_exit == 2000
    assert c.user_exit == 1200


@claim("09", "so it costs more.")
def _():
    r = compare_stacks()
    assert r["type2"].total > r["type1"].total
    assert max(r, key=lambda k: r[k].total) == "type2"


@claim("09", "Making the **world switch** cheaper only shrinks type 2; the **VM exit** price "
             "moves type 1, KVM and type 2 (whose port accesses trap too); paravirtualization "
             "avoids the exits, so neither price moves it.")
def _():
    base = compare_stacks()
    ws = compare_stacks(StackCosts(world_switch=600))
    ex = compare_stacks(StackCosts(vm_exit=500))
    assert [k for k in base if ws[k].total != base[k].total] == ["type2"]
    assert {k for k in base if ex[k].total != base[k].total} == {"type1", "kvm", "type2"}
    assert ws["paravirtual"].total == ex["paravirtual"].total == base["paravirtual"].total


@claim("09", "Same guest binary, different costs:")
def _():
    prog = assemble(guests.source("syscall"))
    runs = {b: run(prog, "paravirt", backend=b) for b in ("native", "vmware", "xen")}
    assert len({sum(r.hypercalls.values()) for r in runs.values()}) == 1
    assert runs["native"].cycles < runs["vmware"].cycles < runs["xen"].cycles


@claim("09", "they exit as `KVM_EXIT_MMIO` (reason 6)")
def _():
    assert kvm.KVM_EXIT_MMIO == 6


@claim("09", "the guest's `[0x40000]` is word 0x40000, i.e. guest-physical byte 0x100000, the "
             "address in the figure below")
def _():
    assert "[0x40000]" in kvm.HELLO_GUEST
    q = kvm.QemuProcess.boot(kvm.HELLO_GUEST)
    q.run()
    mmio = [t.detail for t in q.trace if t.reason == "MMIO"]
    assert mmio[0].startswith(f"read {0x40000 * 4:#x}") and 0x40000 * 4 == 0x100000


@claim("09", "remembers which of its 4 KiB pages the guest wrote")
def _():
    mig = kvm.QemuProcess.boot("MOV [0x400], 7\nMOV [0x1400], 8\nHLT", dirty_log=True)
    mig.run()
    # word 0x400 = byte 0x1000 (page 1), word 0x1400 = byte 0x5000 (page 5): 4 KiB pages
    assert mig.dirty_pages() == [0x1000 // 4096, 0x5000 // 4096]


@claim("09", "an application makes three system calls")
def _():
    r = run(assemble(guests.source("syscall")), "native")
    assert r.counters["syscalls"] == 3


@claim("09", "check the API version (must be 12)")
def _():
    proc = kvm.HostProcess()
    assert proc.open("/dev/kvm").ioctl(kvm.KVM_GET_API_VERSION) == 12


@claim("09", "there the same system calls never leave the guest")
def _():
    r = run(assemble(guests.source("syscall"), isa="X86_VTX"), "hardware")
    assert r.counters["syscalls"] == 3
    assert sum(r.exits.values()) == r.exits.get("HLT", 0)    # only the final HLT exits

"""Hardware-assisted virtualization (*Prozessoren mit Virtualisierungsunterstützung*): VT-x.

The hypervisor runs in **VMX root** mode (the lecture's "ring −1"), guests in
**VMX non-root** mode in their *own* ring 0.  Per virtual CPU the hypervisor
keeps a **VMCS** (*VM control structure*) with a guest-state area, a
host-state area, execution controls and the exit information (reason and
qualification).  The life cycle is VMXON → VMCLEAR/VMPTRLD → VMWRITE… →
VMLAUNCH (first VM entry) → run until a **VM exit** → handle it in root mode →
VMRESUME → … → VMXOFF (Intel SDM 3C; facts.md section 9).

The lecture's flow for a sensitive instruction: *who issued it?* An
**application** (ring 3 in the guest) → the guest OS handles it (a privileged
instruction raises #GP inside the guest, no exit); the **guest OS** (ring 0
non-root) → a VM exit, the VMM executes it and resumes the guest.  Which
instructions exit is set by the VMCS controls; with EPT (nested paging) CR3
loads, INVLPG and guest page-table writes need no exit; without it the VMM
shadows the page tables and every write to a guest page table costs an exit.

Exit-reason numbers follow Intel SDM vol. 3C, appendix C (basic exit reasons).

Examples
--------
>>> from virtlab.asm import assemble
>>> prog = assemble("MOV EAX, 1\\nOUT 0x3F8, EAX\\nCLI\\nHLT")
>>> m = HardwareMachine(prog)
>>> r = m.run()
>>> dict(r.exits), r.state.if_
({'IO_INSTRUCTION': 1, 'HLT': 1}, False)
>>> m.vmcs.exit_reason_name, m.vmx.log[:3]
('HLT', ['VMXON', 'VMCLEAR', 'VMPTRLD'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..asm import REGS, Instruction
from ..cpu import CPU, PrivState, deliver_irq, execute_special, mmio_complete, mmio_decode
from ..errors import VirtlabError, check_bool, check_choice, check_int, check_type
from ..i18n import N_, _
from .costs import COSTS, HARDWARE, cycles
from .vm import VMMMachine

__all__ = ["VMCS", "VMX", "HardwareMachine", "EXIT_REASONS", "exit_for"]

#: Basic exit reasons (Intel SDM 3C, appendix C).  Each VMX instruction has
#: its own number, 18 VMCALL to 27 VMXON (a guest's VMX instruction always
#: exits: nested virtualization is the VMM's job); there is no generic
#: "VMX instruction" reason.  The guest ISA of this model cannot encode the
#: VMX instructions other than VMCALL, so reasons 19-27 are listed, not produced.
EXIT_REASONS = {"EXCEPTION_NMI": 0, "EXTERNAL_INTERRUPT": 1, "TRIPLE_FAULT": 2,
                "HLT": 12, "INVLPG": 14, "VMCALL": 18, "VMCLEAR": 19, "VMLAUNCH": 20,
                "VMPTRLD": 21, "VMPTRST": 22, "VMREAD": 23, "VMRESUME": 24,
                "VMWRITE": 25, "VMXOFF": 26, "VMXON": 27, "CR_ACCESS": 28,
                "DR_ACCESS": 29, "IO_INSTRUCTION": 30, "RDMSR": 31, "WRMSR": 32,
                "GDTR_IDTR": 46, "LDTR_TR": 47, "EPT_VIOLATION": 48}

_STOPPABLE = ("IO_INSTRUCTION", "HLT", "EPT_VIOLATION")

DEFAULT_CONTROLS = {
    "hlt_exiting": True,
    "unconditional_io_exiting": True,
    "cr3_load_exiting": True,      # ignored with EPT
    "cr3_store_exiting": True,     # ignored with EPT
    "invlpg_exiting": True,        # ignored with EPT
    "mov_dr_exiting": True,
    "use_msr_bitmaps": False,      # False: every RDMSR/WRMSR exits
    "descriptor_table_exiting": False,
    "enable_ept": True,
    "enable_vpid": True,
    "exception_bitmap": 0,         # no guest exception causes an exit
    "cr0_guest_host_mask": 0xFFFFFFFF,
    "cr4_guest_host_mask": 0xFFFFFFFF,
}


@dataclass
class VMCS:
    """A virtual-machine control structure, one per virtual CPU.

    Attributes
    ----------
    guest : dict
        Guest-state area (CR0, CR3, CR4, GDTR, IDTR, LDTR, TR, RFLAGS, RIP,
        RSP, CS, SS, activity state), saved on every VM exit.
    host : dict
        Host-state area: where the CPU goes on a VM exit (the VMM).
    controls : dict
        Execution controls (see :data:`DEFAULT_CONTROLS`).
    exit_reason, exit_reason_name, exit_qualification : int, str, dict
        Information about the last VM exit.
    launched : bool
        Set by VMLAUNCH; VMRESUME needs it.

    Examples
    --------
    >>> v = VMCS(); v.controls["hlt_exiting"], v.launched
    (True, False)
    """

    guest: dict = field(default_factory=dict)
    host: dict = field(default_factory=dict)
    controls: dict = field(default_factory=lambda: dict(DEFAULT_CONTROLS))
    exit_reason: int = -1
    exit_reason_name: str = ""
    exit_qualification: dict = field(default_factory=dict)
    launched: bool = False
    exits: int = 0

    def fields(self) -> dict[str, Any]:
        """A flat view of all fields (for tables in notebooks)."""
        out: dict[str, Any] = {}
        for area in ("guest", "host", "controls"):
            for k, v in getattr(self, area).items():
                out[f"{area}.{k}"] = v
        out["exit.reason"] = self.exit_reason
        out["exit.reason_name"] = self.exit_reason_name
        for k, v in self.exit_qualification.items():
            out[f"exit.qualification.{k}"] = v
        return out


class VMX:
    """The VMX instructions of the real CPU, as a state machine.

    Wrong sequences fail like the hardware's VMfail (a :class:`VirtlabError`
    naming the instruction).

    Examples
    --------
    >>> vmx = VMX(); v = VMCS()
    >>> vmx.vmlaunch()
    Traceback (most recent call last):
    ...
    virtlab.errors.VirtlabError: VMLAUNCH outside VMX operation (execute VMXON first)
    >>> vmx.vmxon(); vmx.vmclear(v); vmx.vmptrld(v); vmx.vmlaunch(); vmx.mode
    'non-root'
    >>> vmx.vm_exit("HLT", {}); vmx.vmlaunch()
    Traceback (most recent call last):
    ...
    virtlab.errors.VirtlabError: VMLAUNCH with a launched VMCS (use VMRESUME)
    """

    def __init__(self):
        self.mode = "off"          # off | root | non-root
        self.current: VMCS | None = None
        self.log: list[str] = []

    def _need(self, what: str, mode: str) -> None:
        if self.mode == "off":
            raise VirtlabError(f"{what} outside VMX operation (execute VMXON first)")
        if self.mode != mode:
            raise VirtlabError(f"{what} in VMX {self.mode} mode")

    def vmxon(self) -> None:
        """Enter VMX root operation."""
        if self.mode != "off":
            raise VirtlabError("VMXON in VMX operation")
        self.mode = "root"
        self.log.append("VMXON")

    def vmxoff(self) -> None:
        """Leave VMX operation."""
        self._need("VMXOFF", "root")
        self.mode = "off"
        self.log.append("VMXOFF")

    def vmclear(self, vmcs: VMCS) -> None:
        """Initialise ``vmcs`` (clear, not launched)."""
        self._need("VMCLEAR", "root")
        vmcs.launched = False
        if self.current is vmcs:
            self.current = None
        self.log.append("VMCLEAR")

    def vmptrld(self, vmcs: VMCS) -> None:
        """Make ``vmcs`` the current VMCS."""
        self._need("VMPTRLD", "root")
        self.current = vmcs
        self.log.append("VMPTRLD")

    def vmwrite(self, area: str, name: str, value: Any) -> None:
        """Write a field of the current VMCS."""
        self._need("VMWRITE", "root")
        check_choice("area", area, ("guest", "host", "controls"))
        if self.current is None:
            raise VirtlabError("VMWRITE without a current VMCS (VMPTRLD first)")
        getattr(self.current, area)[name] = value

    def vmread(self, area: str, name: str) -> Any:
        """Read a field of the current VMCS."""
        self._need("VMREAD", "root")
        check_choice("area", area, ("guest", "host", "controls"))
        if self.current is None:
            raise VirtlabError("VMREAD without a current VMCS (VMPTRLD first)")
        return getattr(self.current, area).get(name)

    def vmlaunch(self) -> None:
        """First VM entry with the current (clear) VMCS."""
        self._need("VMLAUNCH", "root")
        if self.current is None:
            raise VirtlabError("VMLAUNCH without a current VMCS (VMPTRLD first)")
        if self.current.launched:
            raise VirtlabError("VMLAUNCH with a launched VMCS (use VMRESUME)")
        self.current.launched = True
        self.mode = "non-root"
        self.log.append("VMLAUNCH")

    def vmresume(self) -> None:
        """Later VM entries (lower latency than VMLAUNCH, SDM)."""
        self._need("VMRESUME", "root")
        if self.current is None or not self.current.launched:
            raise VirtlabError("VMRESUME with a clear VMCS (use VMLAUNCH)")
        self.mode = "non-root"

    def vm_exit(self, reason: str, qualification: dict) -> None:
        """A VM exit: non-root → root, exit information in the VMCS."""
        self._need("VM exit", "non-root")
        v = self.current
        v.exit_reason = EXIT_REASONS[reason]
        v.exit_reason_name = reason
        v.exit_qualification = dict(qualification)
        v.exits += 1
        self.mode = "root"


def exit_for(ins, controls: dict, cpl: int) -> tuple[str, dict] | None:
    """The VM exit (reason, qualification) ``ins`` causes in non-root mode, or None.

    Applications (``cpl`` > 0) never cause these exits: their privileged
    instructions raise #GP inside the guest.  VMCALL always exits.

    Examples
    --------
    >>> from virtlab.asm import parse_instruction as P
    >>> exit_for(P("OUT 0x60, EAX"), DEFAULT_CONTROLS, 0)
    ('IO_INSTRUCTION', {'port': 96, 'direction': 'out', 'size': 4})
    >>> exit_for(P("CLI"), DEFAULT_CONTROLS, 0) is None      # runs on guest state
    True
    >>> exit_for(P("MOV CR3, EAX"), DEFAULT_CONTROLS, 0) is None   # EPT on
    True
    """
    check_type("ins", ins, Instruction)
    check_type("controls", controls, dict)
    check_int("cpl", cpl, minimum=0, maximum=3)
    key = ins.key
    ept = controls.get("enable_ept", True)
    if key == "VMCALL":
        return "VMCALL", {}
    if cpl > 0 or not ins.sensitive_form:
        return None
    mn = ins.mnemonic
    if mn == "HLT" and controls.get("hlt_exiting", True):
        return "HLT", {}
    if mn in ("IN", "OUT") and controls.get("unconditional_io_exiting", True):
        port = ins.operands[1][1] if mn == "IN" else ins.operands[0][1]
        return "IO_INSTRUCTION", {"port": port & 0xFFFF, "direction": mn.lower(),
                                  "size": 4}
    if key == "MOV CR":
        d, s = ins.operands
        write = d[0] == "c"
        cr = d[1] if write else s[1]
        if cr == 3:
            if ept or not controls.get("cr3_load_exiting" if write else "cr3_store_exiting",
                                       True):
                return None
        elif cr == 2 or not write:
            return None      # CR2 is not intercepted; CR0/CR4 reads use read shadows
        return "CR_ACCESS", {"cr": cr, "access": "mov to cr" if write else "mov from cr",
                             "register": (s if write else d)[1]}
    if mn in ("LMSW", "CLTS"):
        return "CR_ACCESS", {"cr": 0, "access": mn.lower()}
    if key == "MOV DR" and controls.get("mov_dr_exiting", True):
        return "DR_ACCESS", {}
    if mn in ("RDMSR", "WRMSR") and not controls.get("use_msr_bitmaps", False):
        return mn, {}
    if mn == "INVLPG" and not ept and controls.get("invlpg_exiting", True):
        return "INVLPG", {}
    if controls.get("descriptor_table_exiting", False):
        if mn in ("LGDT", "LIDT", "SGDT", "SIDT"):
            return "GDTR_IDTR", {"instruction": mn}
        if mn in ("LLDT", "LTR", "SLDT", "STR"):
            return "LDTR_TR", {"instruction": mn}
    return None


class HardwareMachine(VMMMachine):
    """VT-x: guest kernel in non-root ring 0, VMCS per vCPU, exits to root mode.

    Parameters
    ----------
    hardware : str
        A key of :data:`virtlab.hypervisor.costs.HARDWARE` (``"nehalem_ept"``
        default, ``"first_gen_vt"``, ``"svm_2020"``): the exit price and
        whether nested paging (EPT) is available.  The cost table's
        ``vm_exit`` is taken from it unless ``costs`` is given explicitly.
    controls : dict, optional
        Overrides for the VMCS execution controls.
    ept : bool, optional
        Override the generation's nested-paging setting.
    stop_on : iterable of str, optional
        Exit reasons that make :meth:`run` *return to the caller* (status
        ``"exit"``) instead of being handled by the built-in VMM — the way
        ``KVM_RUN`` returns to user space.  Read :attr:`pending_exit`
        (reason, qualification), then call :meth:`complete_exit` (with the
        value for an IN or an MMIO load) and ``run()`` again.  Supported:
        ``IO_INSTRUCTION``, ``HLT``, ``EPT_VIOLATION`` (MMIO: an access
        outside guest RAM).
    io_handler : callable, optional
        ``io_handler(port, size, is_write, value) -> value`` serves IN/OUT
        exits instead of the built-in port model.
    mmio_handler : callable, optional
        ``mmio_handler(addr, size, is_write, value) -> value`` serves accesses
        outside guest RAM (EPT_VIOLATION exits); without it such an access
        stops the machine.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> prog = assemble("MOV EAX, 0x100\\nMOV CR3, EAX\\nHLT")
    >>> dict(HardwareMachine(prog, hardware="first_gen_vt").run().exits)
    {'CR_ACCESS': 1, 'HLT': 1}
    >>> dict(HardwareMachine(prog).run().exits)
    {'HLT': 1}
    """

    mode = "hardware"
    technique = "hardware"
    kernel_ring = 0

    def __init__(self, program, *, hardware: str = "nehalem_ept",
                 controls: dict | None = None, costs=None, ept: bool | None = None,
                 stop_on=(), io_handler=None, mmio_handler=None, **kw):
        check_choice("hardware", hardware, list(HARDWARE))
        self.hardware = hardware
        self.ept = HARDWARE[hardware]["ept"] if ept is None else check_bool("ept", ept)
        if isinstance(stop_on, str) or not hasattr(stop_on, "__iter__"):
            raise TypeError("stop_on must be an iterable of exit-reason names")
        self.stop_on = frozenset(check_choice("stop_on[]", s, list(_STOPPABLE))
                                 for s in stop_on)
        for name, h in (("io_handler", io_handler), ("mmio_handler", mmio_handler)):
            if h is not None and not callable(h):
                raise TypeError(f"{name} must be callable, got {type(h).__name__}")
        self.io_handler = io_handler
        self.mmio_handler = mmio_handler
        ctl = dict(DEFAULT_CONTROLS)
        ctl["enable_ept"] = self.ept
        if controls is not None:
            if not isinstance(controls, dict):
                raise TypeError(f"controls must be a dict, got {type(controls).__name__}")
            for k, v in controls.items():
                check_choice("controls key", k, list(DEFAULT_CONTROLS))
                if k in ("exception_bitmap", "cr0_guest_host_mask", "cr4_guest_host_mask"):
                    continue
                check_bool(f"controls[{k!r}]", v)
            ctl.update(controls)
        self.controls = ctl
        if costs is None:
            costs = COSTS.replace(vm_exit=HARDWARE[hardware]["vm_exit"])
        super().__init__(program, costs=costs, **kw)

    def _setup(self) -> None:
        c = self.cpu
        self.vcpu = c.real                 # non-root: the CPU runs on guest state
        self.host = PrivState.host()       # saved in the VMCS host-state area
        self.host_snapshot = self.host.copy()
        c.gdt_owner = self.vcpu
        self.vmx = VMX()
        self.vmcs = VMCS(controls=dict(self.controls))
        self.vmx.vmxon()
        self.vmx.vmclear(self.vmcs)
        self.vmx.vmptrld(self.vmcs)
        for k in ("cr0", "cr3", "cr4", "gdtr", "idtr", "tr"):
            self.vmx.vmwrite("host", k, self.host.as_dict()[k])
        self.vmx.vmwrite("host", "rip", "vmm_exit_handler")
        self._save_guest()
        self.vmx.vmlaunch()
        self.launches = 1
        self.pending_exit: tuple[str, dict] | None = None
        self._pending_ins = None
        if self.mmio_handler is not None or "EPT_VIOLATION" in self.stop_on:
            c.mmio = self._mmio

    @property
    def vmx_mode(self) -> str:
        """``"root"``, ``"non-root"`` or ``"off"``."""
        return self.vmx.mode

    def _mmio(self, c: CPU, pc: int, addr: int) -> int:
        ins = c.program[pc]
        dec = mmio_decode(c, ins)
        if dec is None:
            c.mmio = None
            try:
                return c.memfault(pc, addr)
            finally:
                c.mmio = self._mmio
        a, is_write, data = dec
        qual = {"phys_addr": a, "len": 4, "is_write": is_write, "data": data}
        c.pc = pc
        self.vmx.vm_exit("EPT_VIOLATION", qual)
        self.exits["EPT_VIOLATION"] = self.exits.get("EPT_VIOLATION", 0) + 1
        if self.tracing:
            self.note = _("VM exit EPT_VIOLATION (#48): MMIO access at {address}").format(
                address=hex(a))
            self.note_event = True
        if "EPT_VIOLATION" in self.stop_on:
            self.pending_exit = ("EPT_VIOLATION", qual)
            self._pending_ins = ins
            return -1
        value = self.mmio_handler(a, 4, is_write, data)
        c.count("exit_emulated")
        npc = mmio_complete(c, ins, pc, None if is_write else value)
        self.vmx.vmresume()
        return npc

    def complete_exit(self, value: int | None = None) -> None:
        """Finish the pending exit (``value`` for IN / MMIO loads) and resume.

        Examples
        --------
        >>> from virtlab.asm import assemble
        >>> m = HardwareMachine(assemble("IN EAX, 0x60\\nHLT"), stop_on={"IO_INSTRUCTION"})
        >>> m.run().status, m.pending_exit
        ('exit', ('IO_INSTRUCTION', {'port': 96, 'direction': 'in', 'size': 4, 'register': 'EAX'}))
        >>> m.complete_exit(42); r = m.run(); r.status, r.state.regs[0]
        ('halted', 42)
        """
        if self.pending_exit is None:
            raise VirtlabError("complete_exit without a pending exit")
        reason, qual = self.pending_exit
        c = self.cpu
        pc = c.pc
        ins = self._pending_ins
        if reason == "IO_INSTRUCTION" and ins.mnemonic == "IN":
            c.regs[ins.operands[0][1]] = check_int("value", value, minimum=0,
                                                   maximum=0xFFFFFFFF)
        elif reason == "EPT_VIOLATION":
            mmio_complete(c, ins, pc, None if qual["is_write"] else value)
            c.icount -= 1   # counted below
        c.icount += 1
        c.count("exit_emulated")
        c.pc = pc + 1
        self.pending_exit = None
        self._pending_ins = None
        self.vmx.vmresume()

    def sync(self) -> None:
        """Non-root mode: the guest's ring *is* the CPU's ring (nothing to do)."""

    def _save_guest(self) -> None:
        c, v = self.cpu, self.vcpu
        g = self.vmcs.guest
        g.update({"cr0": v.cr[0], "cr3": v.cr[3], "cr4": v.cr[4], "gdtr": v.gdtr,
                  "idtr": v.idtr, "ldtr": v.ldtr, "tr": v.tr,
                  "rflags": c.flags_word(v), "rip": c.pc, "rsp": c.regs[4],
                  "cs": (0x08 if v.cpl < 3 else 0x18) | v.cpl,
                  "activity": "hlt" if c.halted else "active"})

    def special(self, c: CPU, ins, pc: int) -> int:
        v = self.vcpu
        ex = exit_for(ins, self.controls, v.cpl)
        if ex is None:
            # Runs in non-root mode on guest state: no VMM involvement.
            return self._on_guest_state(c, ins, pc, v, N_("executed in VMX non-root ring {cpl} "
                                                          "on guest state (no exit)"))
        reason, qual = ex
        c.pc = pc
        if reason == "IO_INSTRUCTION":
            qual = dict(qual)
            if ins.mnemonic == "OUT":
                qual["value"] = c.regs[ins.operands[1][1]]
            else:
                qual["register"] = REGS[ins.operands[0][1]]
        self.vmx.vm_exit(reason, qual)
        self.exits[reason] = self.exits.get(reason, 0) + 1
        if self.tracing:
            self._save_guest()
        if reason in self.stop_on:
            self.pending_exit = (reason, qual)
            self._pending_ins = ins
            if self.tracing:
                self.note = _("VM exit {reason} (#{number}) → returned to caller").format(
                    reason=reason, number=EXIT_REASONS[reason])
                self.note_event = True
            return -1
        if reason == "IO_INSTRUCTION" and self.io_handler is not None:
            if ins.mnemonic == "OUT":
                self.io_handler(qual["port"], 4, True, qual["value"])
            else:
                v = self.io_handler(qual["port"], 4, False, None)
                c.regs[ins.operands[0][1]] = check_int("io_handler result", v, minimum=0,
                                                       maximum=0xFFFFFFFF)
            c.icount += 1
            c.count("exit_emulated")
            npc = pc + 1
        elif reason == "VMCALL":
            npc = self._vmcall(c, pc)
        else:
            # the VMM emulates it for the guest OS
            npc, trap = execute_special(c, ins, pc, v)
            if trap is None:
                c.count("exit_emulated")
        if self.tracing:
            self.note = _("VM exit {reason} (#{number}) → VMM in root mode executes it → "
                          "VMRESUME").format(reason=reason, number=EXIT_REASONS[reason])
            self.note_event = True
        if not c.halted:
            self.vmx.vmresume()
        return npc

    def _vmcall(self, c: CPU, pc: int) -> int:
        """Hypercall: EAX = number; EAX := 0 (ok) or -1 (not from ring 0)."""
        num = c.regs[0]
        name = f"vmcall_{num}"
        self.hypercalls[name] = self.hypercalls.get(name, 0) + 1
        c.regs[0] = 0 if self.vcpu.cpl == 0 else 0xFFFFFFFF
        c.icount += 1
        c.count("exit_emulated")
        return pc + 1

    def _irq(self, c, pc):
        return deliver_irq(c, pc)

    def _before_step(self) -> None:
        Machine_before = super(VMMMachine, self)._before_step
        Machine_before()

    def _cycles(self, counters):
        return cycles("hardware", counters, self.costs, ept=self.ept)

    def counters(self):
        ev = super().counters()
        if not self.ept:
            # Shadow paging: every write to a guest page table is a trapped
            # access the VMM must see (an exit).
            ev["shadow_pt_exits"] = ev.get("pt_writes", 0)
        return ev

    def result(self):
        r = super().result()
        if self.cpu.halted and self.vmx.mode == "root" and self.vmx.log[-1:] != ["VMXOFF"]:
            self._save_guest()
            self.vmx.vmxoff()
        return r

    def resource_control(self) -> bool:
        """The host state in the VMCS is untouched and the guest never ran in root mode."""
        host = self.host
        snap = self.host_snapshot
        return bool(host.as_dict() == snap.as_dict())

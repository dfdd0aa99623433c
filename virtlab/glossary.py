"""The lecture's terms, German and English, as data.

The slides are German; the course text is English with the German terms in
italics.  :data:`TERMS` keeps one :class:`Term` per concept, with the notebook
that introduces it, and :func:`search` finds terms in either language
(ignoring case and umlauts, so ``"Ubersetzung"`` finds *Binärübersetzung*).

Examples
--------
>>> search("wirt")[0].en
'host (host operating system)'
>>> lookup("Hypervisor").de
'Hypervisor / Virtual Machine Monitor (VMM)'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .errors import check_str
from .i18n import N_, _

__all__ = ["TERMS", "Term", "find", "fold", "lookup", "search"]


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes
    ----------
    de, en : str
        The German term (as on the slides) and its English equivalent.
    definition : str
        One or two sentences in English, the catalogue's message id (marked
        with ``N_``); :attr:`meaning` is the text in the current language.
    notebook : str
        Id of the notebook that introduces it (e.g. ``"06"``).
    synonyms : tuple of str
        Other names (the slides' wording first, inflected forms included).
    origin : str
        ``"lecture"`` when the German term stands in the lecture slides (tested
        against the lecture text), ``"course"`` for terms the course adds.
    """

    de: str
    en: str
    definition: str
    notebook: str
    synonyms: tuple[str, ...] = ()
    origin: str = "lecture"

    @property
    def meaning(self) -> str:
        """The definition in the current language (:func:`virtlab.set_language`).

        Examples
        --------
        >>> from virtlab import set_language
        >>> term = lookup("Wirt")
        >>> term.meaning == term.definition           # English: the definition itself
        True
        >>> previous = set_language("de")
        >>> term.meaning.startswith("Das System, das die virtuellen Maschinen")
        True
        >>> _ = set_language(previous)
        """
        return _(self.definition)


TERMS: tuple[Term, ...] = (
    # -- 00/01: terminology and variants ------------------------------------------
    Term("Virtualisierung", "virtualization",
         N_("Methods that abstract resources with the help of software; a virtual machine "
            "behaves like the real machine."), "01"),
    Term("Reale Maschine", "real machine",
         N_("The physical computer with its processor, memory and devices."), "00"),
    Term("Virtuelle Maschine (VM)", "virtual machine (VM)",
         N_("A software-made copy of a machine on which a guest operating system runs."), "00",
         ("Virtuelle Maschine", "VM", "virtueller Computer", "virtuelle Rechner")),
    Term("Wirt", "host (host operating system)",
         N_("The system that provides the virtual machines; on the slides also "
            "Hostbetriebssystem, Gastgeberbetriebssystem or Hostsystem."), "00",
         ("Host", "Hostbetriebssystem", "Host-Betriebssystem", "Gastgeberbetriebssystem",
          "Hostsystem", "Host-BS")),
    Term("Gast", "guest (guest operating system)",
         N_("The operating system running inside a virtual machine; also Gastbetriebssystem, "
            "Guest or Gastsystem."), "00",
         ("Gastbetriebssystem", "Guest", "Gastsystem", "Gast-BS", "Gast-OS")),
    Term("Hypervisor / Virtual Machine Monitor (VMM)", "hypervisor / virtual machine monitor",
         N_("The software layer that creates and controls virtual machines and multiplexes the "
            "real machine among them."), "00", ("VMM", "Hypervisor", "Virtual Machine Monitor")),
    Term("Terminologie", "terminology",
         N_("The names the lecture uses for the parts of a virtualized system."), "00",
         ("Begriffe",)),
    Term("Servervirtualisierung", "server virtualization",
         N_("Virtual computers that run server operating systems; with desktop virtualization "
            "the lecture's first variant (Betriebssystem- bzw. Plattformvirtualisierung)."), "01",
         ("Desktopvirtualisierung", "Plattformvirtualisierung",
          "Betriebssystemvirtualisierung")),
    Term("Storage-Virtualisierung", "storage virtualization",
         N_("Several disks presented as one virtual disk (striping, RAID)."), "01",
         ("Storage Virtualisierung", "Speichervirtualisierung")),
    Term("Virtuelle Prozessumgebung", "virtual process environment",
         N_("The process model and virtual memory: every process sees its own machine."), "01",
         ("Prozessmodell", "virtueller Speicher")),
    Term("Virtueller Prozessor", "virtual processor",
         N_("An instruction set implemented in software, such as the Java Virtual Machine."),
         "01", ("Java Virtual Machine", "JVM")),
    Term("Netzwerkvirtualisierung", "network virtualization",
         N_("Several logical networks on one physical one, e.g. VLANs on a switch."), "01",
         ("VLAN",)),
    # -- 02: emulation ------------------------------------------------------------------
    Term("Emulation", "emulation",
         N_("Complete reproduction of the hardware in software: every guest instruction is "
            "interpreted."), "02", ("nachbilden", "Nachbildung")),
    Term("Befehl", "instruction",
         N_("One machine instruction of the processor's instruction set."), "02",
         ("Maschinenbefehl",)),
    Term("Direkter Aufruf aus der VM", "direct execution",
         N_("Under virtualization most guest instructions run directly on the hardware."), "02",
         ("direkter Aufruf", "direkte Ausführung")),
    Term("Overhead", "overhead",
         N_("The extra time virtualization costs compared with the real hardware (the slides: "
            "5 to 10 %)."), "02"),
    Term("Systemaufruf", "system call",
         N_("A call from an application into the operating system kernel (a trap)."), "02",
         ("Systemcall", "System Call")),
    Term("Taktzyklus", "clock cycle",
         N_("One cycle of the processor clock; the unit of the cost models."), "02",
         origin="course"),
    # -- 03: partitioning --------------------------------------------------------------------
    Term("Partitionierung", "partitioning",
         N_("Dividing a whole system (classically a mainframe) into subsystems, each running "
            "its own OS instance; resources are assigned by hardware/firmware."), "03",
         ("Partition", "Teilsystem")),
    Term("Betriebssysteminstanz", "operating-system instance",
         N_("One running operating system, e.g. in one partition."), "03",
         ("Betriebssysteminstanzen",)),
    Term("Ressourcen", "resources",
         N_("Processor, main memory and I/O system (Prozessor, Hauptspeicher, I/O-System)."),
         "03", ("Ressource", "Prozessor", "Hauptspeicher", "I/O-System", "E/A-System")),
    Term("Firmware", "firmware",
         N_("Software built into the machine below the operating systems; on mainframes it "
            "assigns resources to partitions."), "03"),
    Term("Großrechner", "mainframe",
         N_("A large computer (IBM System/360 to IBM Z) on which partitioning began."), "03",
         ("Mainframe",)),
    Term("Auslastung", "utilization",
         N_("The fraction of a resource's capacity in use; most servers are far from fully "
            "used."), "03", ("Hardwareauslastung",)),
    # -- 04: benefits and drawbacks ------------------------------------------------------------
    Term("Serverkonsolidierung", "server consolidation",
         N_("Running many lightly loaded servers as VMs on fewer hosts."), "04",
         ("Konsolidierung",)),
    Term("Leistungsaufnahme", "power consumption",
         N_("Electrical power drawn by computers and their cooling (Klimatisierung)."), "04",
         ("Stromverbrauch",)),
    Term("Klimatisierung", "cooling (air conditioning)",
         N_("Cooling of the machine room; grows with the servers' power."), "04"),
    Term("Bereitstellung", "provisioning",
         N_("Setting up a new (virtual) machine; fast with VMs."), "04"),
    Term("Live-Migration", "live migration",
         N_("Moving a running VM to another host with only a short interruption (the slides "
            "spell it \"Life-Migration\")."), "04", ("Life-Migration",)),
    Term("Ausfallzeit", "downtime",
         N_("The time a service is not available, e.g. the stop phase of a migration."), "04",
         ("Downtime",), origin="course"),
    Term("Verfügbarkeit", "availability",
         N_("The fraction of time a service is up."), "04", ("Verfügbarkeitskonzepte",)),
    Term("Ausfallsicherheit", "fault tolerance",
         N_("Keeping services available when hardware fails; a failed host takes all its VMs "
            "down at once, hence the need for redundancy."), "04",
         ("Redundanz", "Ausfallsicherheitskonzepte")),
    # -- 05: containers ---------------------------------------------------------------------
    Term("Anwendungsvirtualisierung", "OS-level virtualization (containers)",
         N_("The lecture's name for isolated run-time environments (containers) on one host OS "
            "with no extra guest OS. English sources call this OS-level virtualization; their "
            "\"application virtualization\" means App-V/ThinApp-style packaging."), "05"),
    Term("Container", "container",
         N_("A group of processes isolated by namespaces and limited by cgroups, sharing the "
            "host kernel."), "05"),
    Term("Isolierte Laufzeitumgebung", "isolated run-time environment",
         N_("What a container gives its applications: own names, shared kernel."), "05",
         ("Laufzeitumgebung", "isolierte Laufzeitumgebungen")),
    Term("Namensraum", "namespace",
         N_("A kernel feature that gives a group of processes its own view of one kind of "
            "resource (PIDs, mounts, network, users, ...)."), "05", ("Namespace",),
         origin="course"),
    Term("Kontrollgruppe (cgroup)", "control group (cgroup)",
         N_("A kernel feature that limits and accounts a process group's resources."), "05",
         ("cgroup", "Kontrollgruppe"), origin="course"),
    Term("Abschottung", "isolation",
         N_("Keeping tenants, containers or VMs from seeing or harming each other."), "05"),
    Term("Dichte", "density",
         N_("How many instances fit on one host."), "05", origin="course"),
    # -- 06: sensitive instructions -----------------------------------------------------------
    Term("Privilegierter Befehl", "privileged instruction",
         N_("An instruction that traps when executed in user (unprivileged) mode and runs only "
            "in kernel mode."), "06", ("privilegierte Befehle",)),
    Term("Sensitiver Befehl", "sensitive instruction",
         N_("An instruction that changes (control-sensitive) or depends on (behaviour-"
            "sensitive) the machine's mode, memory mapping or I/O state."), "06",
         ("sensitive Befehle", "zustandsverändernd")),
    Term("Kritischer Befehl", "critical instruction",
         N_("A sensitive instruction that is not privileged: it does not trap in user mode, so "
            "a trap-and-emulate VMM never sees it (x86: SGDT, POPF, ...). The slide's "
            "definition \"privilegierte Befehle, die keinen Trap auslösen\" contradicts "
            "itself."), "06", ("kritische Befehle",)),
    Term("Trap (Unterbrechung)", "trap",
         N_("A synchronous transfer of control into the OS or VMM caused by an instruction."),
         "06", ("Trap", "Unterbrechung", "Ausnahme")),
    Term("Kernelmodus / Usermodus", "kernel mode / user mode",
         N_("The privileged and the unprivileged processor mode (x86 rings 0 and 3)."), "06",
         ("Kernmodus", "Kernelmodus", "Usermodus", "Ring 0", "Ring 3", "Ring 0-3")),
    Term("Virtualisierbar", "virtualizable",
         N_("A processor for which a VMM can be built; Popek & Goldberg: if all sensitive "
            "instructions are privileged."), "06", ("Virtualisierbarkeit",)),
    Term("Befehlssatz", "instruction set",
         N_("All instructions of a processor (x86: about 250 on the slide)."), "06",
         ("x86-Befehlssatz",)),
    Term("Statusregister", "status register",
         N_("The register with the processor's flags (x86 EFLAGS, incl. the interrupt flag)."),
         "06", ("Flags",)),
    Term("Stackzugriff", "stack access",
         N_("PUSH/POP instructions; PUSHF and POPF move the flags register."), "06"),
    # -- 07: binary translation --------------------------------------------------------------
    Term("Binärübersetzung", "binary translation",
         N_("The VMM rewrites guest code before it runs, replacing critical instructions by "
            "calls into the VMM; also Code Patching."), "07",
         ("Code Patching", "Binary Translation")),
    Term("Vollvirtualisierung", "full virtualization",
         N_("The hardware is completely virtualized; guest OSes run unmodified."), "09",
         ("Vollständige Virtualisierung",)),
    # -- 08: hardware support -----------------------------------------------------------------
    Term("Virtualisierungsunterstützung", "hardware virtualization support",
         N_("Processor extensions for virtualization: Intel VT-x (VMX), AMD-V (SVM)."), "08",
         ("VT-x", "AMD-V", "VMX", "SVM")),
    Term("VMX root / non-root", "VMX root / non-root operation",
         N_("Intel VT-x's host mode (\"ring -1\", the hypervisor) and guest mode. The guest keeps "
            "its own rings 0-3; the VMCS controls decide which events cause VM exits — VT-x "
            "does not make critical instructions privileged."), "08",
         ("Ring -1", "Ring −1", "Gast-Modus", "Root-Betriebsmodus", "Wirt-Betriebsmodus",
          "VMX root", "VMX non-root")),
    Term("VMCS", "virtual machine control structure",
         N_("Intel's per-vCPU structure holding guest state, host state, execution controls "
            "and exit information (AMD: VMCB)."), "08", ("VMCB",)),
    Term("VM Exit / VM Entry", "VM exit / VM entry",
         N_("The hardware transitions from guest to hypervisor and back."), "08",
         ("VMEXIT", "VMENTRY", "VM Exit", "VM Entry")),
    Term("Anwendung", "application",
         N_("A user program; on the slides' figures A1, A2 (Anwendungsprozesse)."), "08",
         ("Anwendungsprozess", "Anwendungsprozesse", "Anwendungen")),
    # -- 09: hypervisor types ------------------------------------------------------------------
    Term("Paravirtualisierung", "paravirtualization",
         N_("The guest OS is modified to call the hypervisor through hypercalls instead of "
            "executing sensitive instructions."), "09", ("paravirtualisiertes Betriebssystem",)),
    Term("Hypercall", "hypercall",
         N_("A call from a (paravirtualized) guest kernel into the hypervisor, like a system "
            "call one level down."), "09", ("Hypercalls", "Hypervisor-Aufruf")),
    Term("Typ-1-Hypervisor", "type-1 (bare-metal) hypervisor",
         N_("A hypervisor running directly on the hardware as a small operating system "
            "(XenServer, ESX, Hyper-V)."), "09", ("Minibetriebssystem", "Typ-1-/Typ-2-Hypervisor")),
    Term("Typ-2-Hypervisor", "type-2 (hosted) hypervisor",
         N_("A hypervisor running as a process on a host operating system (VMware "
            "Workstation)."), "09", ("Hosted-Ansatz",)),
    Term("Metabetriebssystem", "meta operating system",
         N_("The slides' name for a paravirtualizing hypervisor: a reduced OS below the "
            "guests."), "09"),
    Term("VMI (Virtual Machine Interface)", "virtual machine interface",
         N_("VMware's paravirtualization interface (Amsden et al. 2006): one guest kernel, "
            "several back ends; superseded by paravirt_ops."), "09", ("VMI",)),
    Term("KVM (Kernel Virtual Machine)", "kernel-based virtual machine",
         N_("The Linux module that makes the Linux kernel a hypervisor; QEMU handles I/O."),
         "09", ("KVM", "Linux-Kern", "/dev/kvm", "QEMU")),
    Term("Special Device", "special device file",
         N_("A device file such as /dev/kvm through which a user process talks to a driver."),
         "09"),
    # -- 10: interrupts and I/O ------------------------------------------------------------------
    Term("Interruptverarbeitung", "interrupt handling",
         N_("The hypervisor receives every physical interrupt and injects virtual interrupts "
            "into the VMs."), "10", ("Interruptbearbeitung", "Interrupt")),
    Term("Gerätesteuerung", "device control",
         N_("How VMs reach devices: emulated, paravirtual (split drivers) or passthrough."), "10",
         ("Gerät", "Geräte")),
    Term("Multiplexer", "multiplexer",
         N_("The hypervisor's role for interrupts: one physical controller, many virtual "
            "ones."), "10"),
    Term("Interrupt-Controller", "interrupt controller",
         N_("The hardware that collects device interrupt lines and signals the CPU (8259 PIC, "
            "APIC)."), "10", ("Interrupt Controller",)),
    Term("Privilegierte VM", "privileged VM (driver domain)",
         N_("Xen's dom0: the VM with real drivers that serves the other VMs' virtual drivers."),
         "10", ("dom0", "Treiberdomäne")),
    Term("Reale / virtuelle Treiber", "real / virtual drivers",
         N_("The backend driver with hardware access and the frontend drivers in the guests "
            "(Xen's split drivers)."), "10", ("realer Treiber", "virtueller Treiber", "Treiber")),
    Term("Spezielle Hardware", "special hardware",
         N_("Dongles, special graphics cards: hard to virtualize (a drawback on the slides)."),
         "04", ("Hardware-Dongles", "Hardwareunterstützung")),
    # -- 11: scheduling --------------------------------------------------------------------------
    Term("Virtuelle CPU (vCPU)", "virtual CPU (vCPU)",
         N_("A VM's processor, scheduled by the hypervisor onto physical CPUs (pCPUs)."), "11",
         ("vCPU", "virtuelle CPU", "Virtuelle CPUs")),
    Term("Physikalische CPU (pCPU)", "physical CPU (pCPU)",
         N_("A real processor core that the hypervisor schedules vCPUs onto."), "11",
         ("pCPU", "physikalische CPU", "Physikalische CPUs")),
    Term("Zuordnung per Konfiguration", "mapping by configuration",
         N_("VM → vCPUs and allowed pCPUs (affinity, pinning), fixed by configuration."), "11"),
    Term("Zuordnung per CPU-Scheduling", "mapping by the scheduler",
         N_("vCPU → pCPU at run time, decided by the hypervisor's scheduler."), "11",
         ("CPU-Scheduling",)),
    Term("Credit-Scheduler", "Credit scheduler",
         N_("Xen's proportional-share scheduler: each vCPU gets credits by weight, debited "
            "while it runs; caps limit it (Credit2 is Xen's default today)."), "11",
         ("Credit", "Kredit")),
    Term("SEDF-Scheduler", "SEDF scheduler (Simple Earliest Deadline First)",
         N_("Xen's older real-time scheduler: each vCPU has a period and a slice; earliest "
            "deadline first. Removed from Xen; RTDS replaced it."), "11", ("SEDF",)),
    Term("Zeitscheibe", "timeslice",
         N_("The time a vCPU may run before the scheduler decides again (Credit: 30 ms)."),
         "11", origin="course"),
    Term("Frist (Deadline)", "deadline",
         N_("The time by which a real-time task must have received its slice (SEDF)."), "11",
         ("Deadline", "Frist")),
    Term("Co-Scheduling", "co-scheduling (gang scheduling)",
         N_("Running the vCPUs of one VM at the same time, strictly or relaxed."), "11",
         ("streng", "relaxed", "Gang Scheduling")),
    Term("Virtueller Multiprozessor", "virtual multiprocessor (SMP VM)",
         N_("A VM with several vCPUs, the reason for co-scheduling."), "11",
         ("virtuelle Multiprozessoren",)),
    # -- 12: memory ----------------------------------------------------------------------------------
    Term("Hauptspeicherverwaltung", "memory management",
         N_("The lecture's name for memory virtualization: two translations, shadow tables or "
            "EPT/nested paging, ballooning."), "12"),
    Term("Virtuelle Adresse", "(guest-)virtual address",
         N_("The address an application uses."), "12"),
    Term("Reale Adresse", "real (guest-physical) address",
         N_("The address the guest believes is physical; the VMM maps it to a host-physical "
            "address."), "12"),
    Term("Physikalische Adresse", "(host-)physical address",
         N_("The real RAM address (machine address)."), "12"),
    Term("Seitentabelle", "page table",
         N_("The table that maps virtual pages to frames, walked by the MMU on a TLB miss."),
         "12", origin="course"),
    Term("Schattentabelle", "shadow page table",
         N_("A page table kept by the VMM that maps guest-virtual directly to host-physical "
            "addresses; the guest's own tables are kept write-protected to keep it in sync."),
         "12", ("Shadow Page Table", "Schattentabellen")),
    Term("Erweiterte Seitentabelle (EPT) / Nested Paging", "extended / nested page tables",
         N_("Hardware translates guest-physical to host-physical addresses with a second "
            "table (Intel EPT, AMD NPT/RVI); a TLB miss may then cost n·m + n + m references."),
         "12", ("EPT", "NPT", "Extended Page Tables", "Nested Paging",
                "geschachtelte Seitentabellen")),
    Term("Seitenfehler", "page fault",
         N_("The exception when a page is not mapped or not present; the OS (or the VMM) then "
            "maps it."), "12", ("Page Fault",), origin="course"),
    Term("Adressumsetzpuffer (TLB)", "translation lookaside buffer (TLB)",
         N_("The cache of recent translations; a miss starts a page walk."), "12",
         ("TLB", "Translation Lookaside Buffer"), origin="course"),
    # -- 13: ballooning ----------------------------------------------------------------------------------
    Term("Ballooning", "ballooning",
         N_("A driver in the guest inflates by allocating guest pages, whose memory the "
            "hypervisor then reclaims; the guest picks the pages itself."), "13"),
    Term("Ballon-Treiber", "balloon driver",
         N_("The guest driver (the slides: Balloon-Prozess/Treiber) that allocates and pins "
            "pages on the hypervisor's request."), "13",
         ("Balloon-Treiber", "Balloon-Prozess", "Ballontreiber")),
    Term("Seitenersetzungsstrategie", "page-replacement policy",
         N_("How an OS picks the page to evict (LRU, FIFO, ...); the hypervisor should not "
            "need to know the guest's."), "13", ("Seitenersetzungsstrategien",)),
    Term("Überbuchung", "overcommitment",
         N_("Giving VMs more memory in total than the host physically has."), "13",
         ("Overcommit", "Überbuchung des Speichers"), origin="course"),
    Term("Auslagern (Swapping)", "swapping",
         N_("Writing pages to disk to free memory; done by the guest or, behind its back, by "
            "the hypervisor (double paging)."), "13",
         ("Auslagern", "Swapping", "Auslagerung", "Auslagerungsdatei", "Doppeltes Auslagern"),
         origin="course"),
    Term("Seitencache", "page cache",
         N_("File pages an OS keeps in memory; cheap to drop."), "13", origin="course"),
    Term("Freispeicherliste", "free list",
         N_("The list of free page frames of an OS."), "13", origin="course"),
    Term("Gemeinsam genutzte Seiten", "page sharing",
         N_("Identical pages of several VMs backed by one frame (copy-on-write)."), "13",
         ("Page Sharing",), origin="course"),
    # -- 14: summary ---------------------------------------------------------------------------------------
    Term("Sicherheit", "security",
         N_("A topic of its own: small hypervisors reduce what can be attacked."), "14"),
    Term("Angriffsfläche", "attack surface",
         N_("The code and interfaces an attacker can reach; smaller is safer."), "14",
         origin="course"),
    Term("Mandant", "tenant",
         N_("A customer of a cloud whose VMs must be isolated from other tenants'."), "14",
         ("Mandanten",), origin="course"),
    Term("Cloud Computing", "cloud computing",
         N_("Computing as a service; uses VMs for isolation and scaling."), "14"),
    Term("Skalierung", "scaling",
         N_("Adding or removing capacity (VMs) as load changes."), "14"),
    Term("Wartung", "maintenance",
         N_("Taking a host out of service; live migration makes it possible without downtime."),
         "14", ("vereinfachte Wartung",)),
    Term("Managementinstrumente", "management tools",
         N_("Tools to administer the virtual infrastructure (placement, monitoring, "
            "migration)."), "14", ("Administration",)),
)


def fold(text: str) -> str:
    """``text`` without case and accents, for matching the slides' garbled umlauts.

    Examples
    --------
    >>> fold("Binärübersetzung") == fold("BINARUBERSETZUNG")
    True
    """
    check_str("text", text, nonempty=False)
    # Case- and accent-insensitive: "Übersetzung" and "Ubersetzung" match.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# German inflection endings, longest first: "kritische Befehle" and "kritischer
# Befehl" share the stems "kritisch befehl".  Deliberately light (no
# dictionary): it only has to let the slides' wording find the headwords.
_ENDINGS = ("ern", "en", "er", "es", "em", "e", "n", "s")


def _stems(text: str) -> list[str]:
    words = "".join(c if c.isalnum() else " " for c in fold(text)).split()
    out = []
    for w in words:
        for end in _ENDINGS:
            if w.endswith(end) and len(w) - len(end) >= 4:
                w = w[: -len(end)]
                break
        out.append(w)
    return out


def _stem_match(query_stems: list[str], name: str) -> bool:
    # every query stem inside one of the name's words: inflections and
    # compounds ("Befehl" finds "Befehlssatz", "Seitentabelle" finds
    # "Schattentabelle" only through "tabell")
    words = _stems(name)
    return bool(query_stems) and all(any(q in w for w in words) for q in query_stems)


def search(query: str) -> list[Term]:
    """Terms whose German or English name, synonyms or definition match ``query``.

    The definition is searched in English and in the current language, so a
    German student finds a term by a word of its German definition too.

    Exact names come first, then names starting with ``query``, names
    containing it, names matching it up to German inflection and compounding
    (``"kritische Befehle"`` finds *Kritischer Befehl*), and last terms that
    only mention it in their definition; an empty query returns every term in
    course order.  Case and umlauts are ignored.

    Examples
    --------
    >>> [t.de for t in search("ubersetzung")]
    ['Binärübersetzung']
    >>> search("kritische Befehle")[0].de
    'Kritischer Befehl'
    >>> len(search("")) == len(TERMS)
    True
    """
    raw = check_str("query", query, nonempty=False).strip()
    q = fold(raw)
    q_stems = _stems(raw)
    ranked = []
    for index, term in enumerate(TERMS):
        originals = (term.de, term.en) + term.synonyms
        names = [fold(n) for n in originals]
        if q in names:
            rank = 0                                   # exact name or synonym
        elif any(n.startswith(q) for n in names):
            rank = 1                                   # a name starts with it
        elif any(q in n for n in names):
            rank = 2                                   # inside a name
        elif any(_stem_match(q_stems, n) for n in originals):
            rank = 3                                   # inflected or compounded
        elif q in fold(term.definition) or q in fold(term.meaning):
            rank = 4                                   # only in the definition
        else:
            continue
        ranked.append((rank, index, term))
    return [term for _, _, term in sorted(ranked, key=lambda r: r[:2])]


def find(wording: str) -> Term | None:
    """The term a piece of German (or English) wording names, up to inflection.

    Exact names and synonyms first, then names whose stems equal the
    wording's (``"sensitive Befehle"`` → *Sensitiver Befehl*).  None if no
    term matches.

    Examples
    --------
    >>> find("Schattentabellen").de
    'Schattentabelle'
    >>> find("Kaffeemaschine") is None
    True
    """
    raw = check_str("wording", wording).strip()
    try:
        return lookup(raw)
    except ValueError:
        pass
    stems = _stems(raw)
    for term in TERMS:
        if any(_stems(n) == stems for n in (term.de, term.en) + term.synonyms):
            return term
    return None


def lookup(name: str) -> Term:
    """The term whose German or English name or synonym is exactly ``name``.

    Examples
    --------
    >>> lookup("guest (guest operating system)").de
    'Gast'
    >>> lookup("Kaffee")
    Traceback (most recent call last):
    ...
    ValueError: name 'Kaffee' is not in the glossary
    """
    key = fold(check_str("name", name).strip())
    for term in TERMS:
        if key in {fold(n) for n in (term.de, term.en) + term.synonyms}:
            return term
    raise ValueError(f"name {name!r} is not in the glossary")

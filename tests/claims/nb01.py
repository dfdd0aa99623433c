"""Claims of notebook 01 (what is virtualization)."""

from virtlab import variants

from . import claim, cite

cite("01", "recognise it in six variants the lecture lists",
     "lecture, slide 'Was ist Virtualisierung (Wiederholung)?': virtual computers, storage, "
     "Anwendungsvirtualisierung, virtual process environments, virtual processors (JVM), "
     "network virtualization (VLAN)")


@claim("01", "software spreads its blocks over several physical disks (here round-robin in "
             "*stripes*, as RAID 0 does)")
def _():
    placed = variants.stripe_map(12, disks=3, stripe_blocks=2)
    # stripe unit u = blocks 2u, 2u+1 goes to disk u mod 3: round robin
    assert [d for d, _ in placed] == [0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2]
    assert len(set(placed)) == 12          # no two logical blocks share a physical one


@claim("01", "the same virtual page, different frames")
def _():
    memory = variants.AddressSpaces(frames=8)
    for process in ["editor", "shell", "editor"]:
        memory.map(process, 0)
    table = memory.table()
    assert table["editor"][0] != table["shell"][0]


@claim("01", "Here it computes 6·7 and then counts down from 3 with a loop")
def _():
    run = variants.run_bytecode([("push", 6), ("push", 7), ("mul",), ("push", 3),
                                 ("push", -1), ("add",), ("dup",), ("jnz", 4)])
    stacks = [list(s) for _, s in run.steps]
    assert stacks[2] == [42]
    counts = [s[1] for op, s in zip([o for o, _ in run.steps], stacks) if op == "add"]
    assert counts == [2, 1, 0]


@claim("01", "hosts on the same VLAN form a broadcast domain; the others cannot see their "
             "traffic")
def _():
    domains = variants.vlan_domains(variants.parse_ports(
        "web=10, db=20, mail=10, dns=20, backup=30"))
    assert domains == {10: ("mail", "web"), 20: ("db", "dns"), 30: ("backup",)}

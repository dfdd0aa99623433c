"""capstone: every guest program is what its listing says; scans of real code."""

import sys

import pytest

from host_live import import_or_skip, require
from virtlab.host import guests as G
from virtlab.host import scan as S
from virtlab.host.base import platform_missing

capstone = import_or_skip("capstone")  # noqa: E402  (the listings are checked with it)

MD32 = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_32)
MD64 = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def _text(md, code, addr):
    ins = list(md.disasm(code, addr))
    assert sum(len(i.bytes) for i in ins) == len(code), "bytes left undecoded"
    return [f"{i.mnemonic} {i.op_str}".strip() for i in ins]


@pytest.mark.parametrize("guest", [G.HELLO, G.HALT, G.MMIO, G.compute(7), G.compute(300_000),
                                   G.out_loop(5), G.out_loop(1000)],
                         ids=lambda g: f"{g.name}")
def test_guest_listing_is_capstones_disassembly(guest):
    assert _text(MD32, guest.code, G.LOAD_ADDRESS) == [t for _, t in guest.lines]
    assert guest.listing()[-1].endswith("hlt")


def test_native_compute_listing():
    code, text = G.native_compute()
    assert _text(MD64, code, 0) == text
    # the loop body is the guest's loop body, with the store through rsi
    assert text[4:6] == [t for _, t in G.compute(3).lines][2:4]


def test_scan_counts_watched_mnemonics_only():
    code = bytes.fromhex("9c 9d 0f0107 fa 90 01c8 c3")  # pushfq popfq sgdt cli nop add ret
    r = S.scan(code, 0, "x")
    assert dict(r.counts) == {"pushfq": 1, "popfq": 1, "sgdt": 1, "cli": 1}
    assert r.instructions == 7 and r.size == len(code)


def test_first_block_copies_calls_out_and_ends_at_the_jump():
    code = bytes.fromhex("01c8 9c 31c3 75f9 f4")   # add; pushfq; xor; jne; hlt
    steps = S.first_block(code, 0x1000)
    assert [s.action for s in steps] == ["copied", "callout", "copied", "ends the block"]
    assert steps[1].text == "pushfq" and steps[-1].address == 0x1005


def test_elf_text_rejects_non_elf():
    with pytest.raises(ValueError, match="image"):
        S.elf_text(b"\x7fELF\x01" + bytes(100))


def test_scan_host_live():
    require(platform_missing())
    results = S.scan_host()
    assert [r.name for r in results] == ["vDSO", "libc .text"]
    for r in results:
        assert r.available and r.instructions > 100 and set(r.counts) <= S.WATCHED
    addr, code = S.vdso()
    steps = S.first_block(code, addr)
    assert steps and steps[-1].action in ("ends the block", "copied", "callout")


def test_without_capstone(monkeypatch):
    monkeypatch.setitem(sys.modules, "capstone", None)
    assert not S.scan(b"\x90").available
    assert S.first_block(b"\x90") == []

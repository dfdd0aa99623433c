"""Assembler: syntax, labels, directives, forms, and errors naming the line."""

import pytest
from hypothesis import given, strategies as st

from virtlab.asm import assemble, parse_instruction


def test_labels_equ_word_and_sections():
    p = assemble("""
.equ BASE, 0x100
.word BASE, 1, 2, handler
start:  MOV EAX, [BASE+1]
.user
handler: JMP start
""")
    assert p.entry == 0 and p.labels["handler"] == 1
    assert dict(p.data) == {0x100: 1, 0x101: 2, 0x102: 1}
    assert [i.section for i in p] == ["kernel", "user"]
    assert p[0].operands == (("r", 0), ("m", -1, 0x101))


def test_aliases_and_canonical_text():
    p = assemble("x: je x\njne x\nmov [ebx-4], -1")
    assert [i.mnemonic for i in p] == ["JZ", "JNZ", "MOV"]
    assert p[2].text == "MOV [EBX-4], 0xffffffff"


@pytest.mark.parametrize("src,line,msg", [
    ("NOP\nMOOV EAX, 1", 2, "unknown mnemonic 'MOOV'"),
    ("ADD [EAX], EBX", 1, "does not take operands"),
    ("JMP nowhere", 1, "undefined label 'nowhere'"),
    ("a: NOP\na: NOP", 2, "label 'a' defined twice"),
    ("MOV EAX, 0x1FFFFFFFF", 1, "does not fit in 32 bits"),
    ("MOV CR1, EAX", 1, "unknown control register"),
    ("MOV EAX, [EAX*2]", 1, "bad memory operand"),
    (".word 5", 1, ".word needs"),
    (".frob", 1, "unknown directive"),
    ("MOV CS, EAX", 1, "CS cannot be loaded"),
    ("NOP\n\nHLT EAX", 3, "HLT does not take operands"),
])
def test_errors_name_the_line(src, line, msg):
    with pytest.raises(ValueError, match=f"^line {line}: .*{msg}"):
        assemble(src)


def test_sensitive_forms():
    assert assemble("PUSH DS")[0].sensitive_form
    assert not assemble("PUSH EAX")[0].sensitive_form
    assert assemble("MOV CR3, EAX")[0].key == "MOV CR"
    assert assemble("MOV EAX, DR7")[0].key == "MOV DR"
    assert parse_instruction("SGDT EAX").sensitive_form


def test_isa_checks():
    with pytest.raises(ValueError, match="no segment registers"):
        assemble("PUSH DS", isa="TOY")
    assert assemble("PUSHF", isa="TOY")[0].key == "PUSHF"


def test_listing_roundtrip():
    p = assemble("s: MOV EAX, 1\nJNZ s\nHLT")
    q = assemble("\n".join(i.text if i.mnemonic != "JNZ" else "JNZ 0" for i in p))
    assert [i.operands for i in p] == [i.operands for i in q]
    assert "s:" in p.listing()


@given(st.text(max_size=200))
def test_arbitrary_text_gives_program_or_value_error(text):
    try:
        assemble(text)
    except ValueError as exc:
        assert str(exc).startswith("line ") or "source" in str(exc)


def test_bad_types():
    with pytest.raises(TypeError, match="source"):
        assemble(b"NOP")
    with pytest.raises(ValueError, match="isa"):
        assemble("NOP", isa="Z80")

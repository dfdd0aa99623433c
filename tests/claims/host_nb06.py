"""Claims and citations of notebook 06's "On this machine" section (issue 15)."""

from claims import cite

cite("06", "the Pentium that Robin & Irvine analysed in 2000",
     "Robin & Irvine, USENIX Security 2000 (facts.md §2)")
cite("06", "Intel since about 2017, AMD since Zen 2",
     "facts.md §12 (UMIP); arch/x86/kernel/umip.c")

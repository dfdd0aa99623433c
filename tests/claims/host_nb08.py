"""Claims and citations of notebook 08's "On this machine" section (issue 15)."""

from claims import cite

cite("08", "(SOSP 2023; not in mainline Linux)",
     "PVM: Efficient Shadow Paging for Deploying Secure Containers in Cloud-native "
     "Environment, SOSP 2023, doi:10.1145/3600006.3613158; out-of-tree patches at "
     "github.com/virt-pvm/linux")

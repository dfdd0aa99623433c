"""The notebooks' kernels under nbval talk over IPC sockets, not TCP ports (tests/conftest.py)."""

from __future__ import annotations

import os

import nbval.kernel


def test_nbval_kernels_use_unix_sockets_with_absolute_paths():
    km = nbval.kernel.KernelManager(kernel_name="python3")
    assert km.transport == "ipc"
    assert os.path.isabs(km.ip)
    assert km.ip != nbval.kernel.KernelManager(kernel_name="python3").ip     # one per kernel


def test_a_kernel_started_in_another_folder_answers(tmp_path):
    # nbval starts a kernel in the notebook's folder: a relative socket path would
    # be looked up there by the kernel and here by the client, and never meet
    outputs = []
    kernel = nbval.kernel.RunningKernel("python3", cwd=str(tmp_path), startup_timeout=60)
    sockets, kernel_ip = os.path.dirname(kernel.km.ip), kernel.km.ip
    try:
        reply = kernel.kc.execute_interactive("import os; print(os.getcwd())", timeout=30,
                                              output_hook=outputs.append)
        assert reply["content"]["status"] == "ok"
        assert [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"] == [
            f"{tmp_path}\n"]
    finally:
        kernel.stop()
    assert not [f for f in os.listdir(sockets) if f.startswith(os.path.basename(kernel_ip))]

"""Kernel websockets without Nagle's delay (virtlab.labserver, issue 21).

The browser benchmark found a 40 ms stall between the kernel's last write and the
browser receiving it (Nagle's algorithm on the server's websocket waiting for a
delayed TCP acknowledgement).  These tests pin the fix: the connection class sets
``TCP_NODELAY`` before it connects, and every server virtlab starts or configures
uses that class.  The browser tests' server runs with the same options, so a
class JupyterLab cannot load fails them too.
"""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest
from traitlets.utils.importstring import import_item

from virtlab import coursecli

jupyter_server = pytest.importorskip("jupyter_server")
from jupyter_server.services.kernels.connection.channels import (  # noqa: E402
    ZMQChannelsWebsocketConnection)
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler  # noqa: E402

from virtlab.labserver import NoDelayKernelConnection  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPTION = "kernel_websocket_connection_class"


def test_the_connection_switches_nagle_off_before_it_connects(monkeypatch):
    calls = []
    handler = mock.create_autospec(KernelWebsocketHandler, instance=True)
    handler.set_nodelay.side_effect = lambda value: calls.append(("nodelay", value))

    def parent_connect(self):
        calls.append(("connect", self.websocket_handler is handler))
        return "connected"

    monkeypatch.setattr(ZMQChannelsWebsocketConnection, "connect", parent_connect)
    conn = NoDelayKernelConnection(websocket_handler=handler)
    assert conn.connect() == "connected"          # jupyter_server's own connect still runs
    assert calls == [("nodelay", True), ("connect", True)]


def test_the_configured_name_is_the_class():
    assert import_item(coursecli.KERNEL_CONNECTION) is NoDelayKernelConnection
    assert issubclass(NoDelayKernelConnection, ZMQChannelsWebsocketConnection)


def test_lab_present_and_dashboard_pass_it():
    from types import SimpleNamespace

    from virtlab.paths import repo_root

    want = f"={coursecli.KERNEL_CONNECTION}"
    args = SimpleNamespace(notebook="11", dashboard=False, de=False, port=None, no_browser=True)
    deck, _ = coursecli.present_cmd(args, repo_root())
    assert f"--ServerApp.{OPTION}{want}" in deck
    args.dashboard = True
    dashboard, _ = coursecli.present_cmd(args, repo_root())
    assert f"--Voila.{OPTION}{want}" in dashboard


def test_virtlab_lab_passes_it(monkeypatch, tmp_path):
    from virtlab import cli

    seen = {}

    def fake_execv(path, cmd):
        seen["cmd"] = cmd
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execv", fake_execv)
    monkeypatch.setattr(cli.os, "chdir", lambda path: None)
    with pytest.raises(SystemExit):
        cli.main(["lab", "--lang", "en"])
    assert f"--ServerApp.{OPTION}={coursecli.KERNEL_CONNECTION}" in seen["cmd"]


def test_image_configuration_names_it():
    """Binder and the Zero-to-JupyterHub image copy this file into etc/jupyter."""
    config = json.loads((ROOT / "deploy" / "hub" / "singleuser"
                         / "jupyter_server_config.json").read_text())
    assert config["ServerApp"][OPTION] == coursecli.KERNEL_CONNECTION

"""The Jupyter server side of a widget round trip: kernel websockets without Nagle's delay.

Every widget update travels kernel → Jupyter server → browser; the last hop is
the kernel's websocket (tornado).  jupyter_server leaves Nagle's algorithm on
for it, so when a kernel answers one input with several small messages in a
row (busy status, the slider's echo, the new picture, the text, idle), the
second small write waits for the browser's TCP acknowledgement, which the
browser delays by up to 40 ms (Linux's delayed ACK).  In JupyterLab +
Chromium on this project's machine, a picture served from the state cache
took 62 ms from key press to paint with back-to-back moves, 40 ms of them
between the kernel's last write and the browser receiving it; with
``TCP_NODELAY`` on the websocket, 32 ms (``benchmarks/bench_browser.py``;
ARCHITECTURE.md, "Widget redraw speed").  Tornado documents the switch for
exactly this case (``WebSocketHandler.set_nodelay``: "for applications that
send many small messages").

:class:`NoDelayKernelConnection` is jupyter_server's own kernel websocket
connection with that one switch; it is selected by the documented option
``ServerApp.kernel_websocket_connection_class`` (``Voila.…`` for the
dashboard), which ``virtlab lab``, ``virtlab present`` and the hub's
single-user configuration pass (:data:`virtlab.coursecli.KERNEL_CONNECTION`).
Only the Jupyter server imports this module.

Examples
--------
>>> from jupyter_server.services.kernels.connection.channels import (
...     ZMQChannelsWebsocketConnection)
>>> issubclass(NoDelayKernelConnection, ZMQChannelsWebsocketConnection)
True
"""

from __future__ import annotations

from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

__all__ = ["NoDelayKernelConnection"]


class NoDelayKernelConnection(ZMQChannelsWebsocketConnection):
    """jupyter_server's kernel websocket connection, with ``TCP_NODELAY`` on its socket."""

    def connect(self):
        """Switch Nagle's algorithm off for this websocket, then connect as usual."""
        self.websocket_handler.set_nodelay(True)
        return super().connect()

"""A private JupyterHub for tests and the load test: started, driven and stopped by PID.

:class:`Hub` starts ``deploy/hub/jupyterhub_config.py`` on free 127.0.0.1 ports
with its own state folder and a service token, so it never collides with a
``make hub`` or another engineer's Jupyter.  :meth:`Hub.stop` stops the hub by
its PID and then every process the hub started (the proxy, the students'
servers and their kernels) that is still alive — found from the PIDs the hub
recorded, never by name.

:class:`KernelClient` speaks the Jupyter kernel websocket protocol through
the hub's proxy (execute cells, send widget ``comm_msg`` updates and wait for
the kernel's answer), which is what the browser does when a student runs a
cell or moves a slider.

Examples
--------
>>> msg = new_message("execute_request", {"code": "1"}, session="s")
>>> msg["header"]["msg_type"], msg["channel"]
('execute_request', 'shell')
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
HUB_DIR = ROOT / "deploy" / "hub"
CONFIG = HUB_DIR / "jupyterhub_config.py"
PROXY = HUB_DIR / "node" / "node_modules" / ".bin" / "configurable-http-proxy"

__all__ = ["CONFIG", "HUB_DIR", "Hub", "KernelClient", "PROXY", "new_message"]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _die_with_parent() -> None:
    """In the child: SIGTERM when the parent dies, so a killed run leaks no hub."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Hub:
    """A JupyterHub from ``deploy/hub`` in ``state`` on free ports.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, state: Path, log_path: Path | None = None,
                 start_timeout: int = 300):
        self.state = Path(state)
        self.state.mkdir(parents=True, exist_ok=True)
        self.port, self.hub_port, self.proxy_port = free_ports(3)
        self.token = secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path or self.state / "jupyterhub.log")
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self._seen_pids: set[int] = set()

    # -- life cycle ---------------------------------------------------------------------
    def start(self, timeout: float = 120) -> Hub:
        if not PROXY.exists():
            raise RuntimeError(f"{PROXY} missing: run `make hub-setup` (npm ci) first")
        env = dict(os.environ,
                   VIRTLAB_HUB_STATE=str(self.state),
                   VIRTLAB_HUB_PORT=str(self.port),
                   VIRTLAB_HUB_API_PORT=str(self.hub_port),
                   VIRTLAB_PROXY_API_PORT=str(self.proxy_port),
                   VIRTLAB_HUB_SERVICE_TOKEN=self.token,
                   VIRTLAB_HUB_START_TIMEOUT=str(self.start_timeout),
                   PYTHONPATH=os.environ.get("PYTHONPATH", str(ROOT)))
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG)],
            cwd=HUB_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}:\n"
                                   + self.log_path.read_text(errors="replace")[-3000:])
            try:
                self.api("GET", "/")
                return self
            except (requests.RequestException, RuntimeError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyterhub did not answer within {timeout} s")

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def children(self) -> list[psutil.Process]:
        """Every live process the hub started (proxy, servers, kernels)."""
        if self.proc is None:
            return []
        try:
            procs = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        self._seen_pids.update(p.pid for p in procs)
        return procs

    def stop(self) -> None:
        """Stop the hub by PID, then whatever it started that still runs."""
        if self.proc is None:
            return
        self.children()  # remember the PIDs while the tree is intact
        if self.proc.poll() is None:
            self.proc.terminate()  # our own child; cleanup_servers stops the servers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        leftovers = []
        for pid in self._seen_pids:
            try:
                proc = psutil.Process(pid)
                leftovers.append(proc)
                proc.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(leftovers, timeout=10)
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        self._log.close()
        self.proc = None

    # -- REST ---------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs) -> Any:
        """Call the hub's REST API (``/hub/api`` + path) with the service token."""
        resp = requests.request(method, f"{self.base}/hub/api{path}",
                                headers={"Authorization": f"token {self.token}"},
                                timeout=kwargs.pop("timeout", 30), **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    def user_api(self, user: str, method: str, path: str, **kwargs) -> Any:
        """Call ``user``'s single-user server API (``/user/<user>/api`` + path)."""
        resp = requests.request(method, f"{self.base}/user/{user}/api{path}",
                                headers={"Authorization": f"token {self.token}"},
                                timeout=kwargs.pop("timeout", 60), **kwargs)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} /user/{user}/api{path}: {resp.status_code} "
                               f"{resp.text[:300]}")
        return resp.json() if resp.content else None

    def start_server(self, user: str, lang: str = "en", timeout: float = 300) -> float:
        """Create ``user`` if needed, start their server; seconds until it answered."""
        t0 = time.monotonic()
        try:
            self.api("POST", f"/users/{user}")
        except RuntimeError as exc:
            if " 409 " not in str(exc):
                raise
        self.api("POST", f"/users/{user}/server", json={"lang": lang})
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{user}")
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            if not server or (server.get("stopped") and not server.get("pending")):
                raise RuntimeError(f"server of {user} failed to start; see {self.log_path}")
            time.sleep(0.5)
        raise RuntimeError(f"server of {user} not ready within {timeout} s")

    def server_pid(self, user: str) -> int:
        """PID of ``user``'s single-user server (from the spawner's state)."""
        model = self.api("GET", f"/users/{user}")
        return int(model["servers"][""]["state"]["pid"])

    def home(self, user: str) -> Path:
        return self.state / "homes" / user


def new_message(msg_type: str, content: dict, session: str,
                channel: str = "shell") -> dict:
    """A Jupyter protocol message as the websocket JSON wire format wants it."""
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session,
                       "username": "virtlab-loadtest", "version": "5.3",
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "channel": channel,
            "buffers": []}


def decode_frame(frame: str | bytes) -> dict:
    """A websocket frame as a message: text is JSON; a binary frame (a message
    with buffers, e.g. a widget's image) is ``nbufs, offsets..., JSON, buffers``
    as jupyter_server's ``serialize_binary_message`` writes it (buffers dropped).

    Examples
    --------
    >>> body = b'{"a": 1}'
    >>> frame = (2).to_bytes(4, "big") + (12).to_bytes(4, "big") \\
    ...     + (12 + len(body)).to_bytes(4, "big") + body + b"\\x00\\x01"
    >>> decode_frame(frame)
    {'a': 1}
    >>> decode_frame('{"b": 2}')
    {'b': 2}
    """
    if isinstance(frame, str):
        return json.loads(frame)
    nbufs = int.from_bytes(frame[:4], "big")
    offsets = [int.from_bytes(frame[4 + 4 * i:8 + 4 * i], "big") for i in range(nbufs)]
    end = offsets[1] if nbufs > 1 else len(frame)
    return json.loads(frame[offsets[0]:end])


class KernelClient:
    """A kernel's websocket channels through the hub (JSON protocol, no buffers)."""

    def __init__(self, hub: Hub, user: str, kernel_id: str, timeout: float = 60):
        import websocket  # websocket-client

        self.session = uuid.uuid4().hex
        url = (f"ws://127.0.0.1:{hub.port}/user/{user}/api/kernels/{kernel_id}/channels"
               f"?session_id={self.session}")
        self.ws = websocket.create_connection(
            url, header=[f"Authorization: token {hub.token}"], timeout=timeout,
            subprotocols=[])  # default JSON wire protocol
        self.timeout = timeout
        #: comm_id -> widget state, from every comm_open seen on iopub
        self.widgets: dict[str, dict] = {}

    def close(self) -> None:
        self.ws.close()

    def _recv(self, deadline: float) -> dict:
        self.ws.settimeout(max(0.1, deadline - time.monotonic()))
        msg = decode_frame(self.ws.recv())
        if msg.get("msg_type") == "comm_open" or msg["header"]["msg_type"] == "comm_open":
            content = msg["content"]
            if content.get("target_name") == "jupyter.widget":
                self.widgets[content["comm_id"]] = dict(content["data"].get("state", {}))
        return msg

    def request(self, msg: dict, timeout: float | None = None) -> dict:
        """Send ``msg`` and collect iopub traffic until the kernel is idle again.

        Returns ``{"seconds", "reply", "updates", "errors"}`` where ``updates``
        lists the comm ids that received widget state updates.
        """
        t0 = time.monotonic()
        deadline = t0 + (timeout or self.timeout)
        self.ws.send(json.dumps(msg))
        msg_id = msg["header"]["msg_id"]
        reply, idle, updates, errors = None, False, [], []
        while not (idle and reply is not None):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {msg['header']['msg_type']} within "
                                   f"{timeout or self.timeout} s")
            got = self._recv(deadline)
            if got.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = got["header"]["msg_type"]
            if kind == "status" and got["content"]["execution_state"] == "idle":
                idle = True
                if msg["header"]["msg_type"] == "comm_msg":
                    reply = reply or {}
            elif kind.endswith("_reply"):
                reply = got["content"]
            elif kind == "error":
                errors.append(f"{got['content']['ename']}: {got['content']['evalue']}")
            elif kind == "comm_msg" and got["content"]["data"].get("method") == "update":
                comm = got["content"]["comm_id"]
                updates.append(comm)
                self.widgets.setdefault(comm, {}).update(got["content"]["data"]["state"])
        return {"seconds": time.monotonic() - t0, "reply": reply, "updates": updates,
                "errors": errors}

    def execute(self, code: str, timeout: float | None = None) -> dict:
        return self.request(new_message("execute_request",
                                        {"code": code, "silent": False, "store_history": True,
                                         "user_expressions": {}, "allow_stdin": False,
                                         "stop_on_error": True}, self.session), timeout)

    def set_widget(self, comm_id: str, state: dict, timeout: float | None = None) -> dict:
        """Change a control's state as the browser does when a student moves it."""
        msg = new_message("comm_msg", {"comm_id": comm_id,
                                       "data": {"method": "update", "state": state,
                                                "buffer_paths": []}}, self.session)
        return self.request(msg, timeout)

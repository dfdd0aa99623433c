"""JupyterHub configuration serving the virtlab course on one machine.

Started by ``make hub`` (see README "The course on JupyterHub").  Everything is
local: the hub and its proxy bind to 127.0.0.1 only, each student's single-user
server is a local process of the shared virtlab environment (the repository's
``.venv``), and their files live under ``$VIRTLAB_HUB_STATE/homes/<name>``.

What a student gets:

* on first login their own copy of the course (``notebooks/`` and
  ``exercises/`` of this repository) in their home folder, copied by the
  pre-spawn hook (``virtlab course copy`` does not exist on this branch yet;
  when it lands the hook can call it instead); later logins keep their edits;
* a choice of language on the spawn form (English / Deutsch), passed to the
  single-user server and its kernels as ``VIRTLAB_LANG``;
* JupyterLab on the start notebook with ipywidgets working (the widget
  manager is part of the shared environment).

Settings come from environment variables so that the test and the load
generator can run their own hub beside a running ``make hub``:

``VIRTLAB_HUB_STATE``   folder for the database, cookie secret and homes
                        (default ``deploy/hub/state``)
``VIRTLAB_HUB_PORT``    the public port on 127.0.0.1 (default 8000)
``VIRTLAB_HUB_API_PORT`` the hub's internal port (default public port + 1)
``VIRTLAB_PROXY_API_PORT`` the proxy's API port (default public port + 2)
``VIRTLAB_HUB_SERVICE_TOKEN`` when set, a service ``virtlab-loadtest`` with
                        this token may create users, start servers and use
                        them (used by tests/test_hub.py and the load test)
``VIRTLAB_HUB_START_TIMEOUT`` seconds a server may take to start (default 120)
``VIRTLAB_HUB_LEAN``     ``0`` switches off the per-student savings below (only
                        for measuring them, ``make bench-hub HUB_ARGS=...``)

Per-student savings (measured by ``make bench-hub``, README): the students'
servers read ``deploy/hub/singleuser/jupyter_server_config.json`` (no language
server, jupytext or terminal extensions — a terminal would also be a shell as
the hub's user — and idle kernels culled after an hour), and all kernels share
one matplotlib font cache (``MPLCONFIGDIR``) instead of each new home building
its own on the first import.

Authentication is JupyterHub's ``DummyAuthenticator`` (any user name, any
password) and the spawner is ``SimpleLocalProcessSpawner`` (every server runs
as the hub's own OS user): this is for trying the course and for load tests,
never for real students — see README for the production set-up (Zero to
JupyterHub values in ``deploy/z2jh``).
"""

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENV_BIN = Path(sys.executable).parent  # the hub runs from the course environment
STATE = Path(os.environ.get("VIRTLAB_HUB_STATE", HERE / "state")).resolve()
PORT = int(os.environ.get("VIRTLAB_HUB_PORT", "8000"))
HUB_API_PORT = int(os.environ.get("VIRTLAB_HUB_API_PORT", PORT + 1))
PROXY_API_PORT = int(os.environ.get("VIRTLAB_PROXY_API_PORT", PORT + 2))
SERVICE_TOKEN = os.environ.get("VIRTLAB_HUB_SERVICE_TOKEN", "")
START_NOTEBOOK = "notebooks/00_start_here.ipynb"
#: what a student's first login copies from the repository into their home
COURSE_FOLDERS = ("notebooks", "exercises")
LANGUAGES = {"en": "English", "de": "Deutsch"}

STATE.mkdir(parents=True, exist_ok=True)
(STATE / "homes").mkdir(exist_ok=True)

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

# -- network: 127.0.0.1 only ------------------------------------------------------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = PORT
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = HUB_API_PORT
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PROXY_API_PORT}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node" / "node_modules" / ".bin"
                                       / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.should_start = True

# -- state --------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the students' servers

# -- authentication (testing only) -------------------------------------------------------
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True

# -- the students' servers ---------------------------------------------------------------
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "homes" / "{username}")
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = f"/lab/tree/{START_NOTEBOOK}"
c.Spawner.start_timeout = int(os.environ.get("VIRTLAB_HUB_START_TIMEOUT", "120"))
c.Spawner.http_timeout = int(os.environ.get("VIRTLAB_HUB_START_TIMEOUT", "120"))
# PYTHONPATH is in Spawner.env_keep: a worktree's virtlab is imported by the kernels.
c.Spawner.environment = {"PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
if os.environ.get("VIRTLAB_HUB_LEAN", "1") != "0":
    (STATE / "mplconfig").mkdir(exist_ok=True)
    c.Spawner.environment.update(
        JUPYTER_CONFIG_PATH=str(HERE / "singleuser"),
        MPLCONFIGDIR=str(STATE / "mplconfig"))
# Kernel websockets with TCP_NODELAY, as `virtlab lab` (virtlab.labserver): without it a
# widget update waits up to 40 ms for a delayed TCP acknowledgement.  Not a "lean" saving,
# so set here for every server (the image-based deployments read it from the JSON).
c.Spawner.args = ["--ServerApp.kernel_websocket_connection_class="
                  "virtlab.labserver.NoDelayKernelConnection"]
if os.geteuid() == 0:  # containers and lab machines often run everything as root
    c.Spawner.args.append("--allow-root")

c.Spawner.options_form = (
    '<label for="virtlab-lang">Language / Sprache</label>'
    '<select class="form-control" name="lang" id="virtlab-lang">'
    + "".join(f'<option value="{code}">{name}</option>' for code, name in LANGUAGES.items())
    + "</select>")


def options_from_form(formdata):
    """The spawn form's language, checked against the offered ones."""
    lang = formdata.get("lang", ["en"])[0]
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {sorted(LANGUAGES)}, got {lang!r}")
    return {"lang": lang}


c.Spawner.options_from_form = options_from_form


def copy_course(home: Path) -> list[str]:
    """Copy the course folders into ``home`` unless the student has them already.

    Returns the folders copied (empty on later logins: the student's edits stay).
    """
    copied = []
    for name in COURSE_FOLDERS:
        target = home / name
        if not target.exists():
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns(
                ".ipynb_checkpoints", "__pycache__"))
            copied.append(name)
    return copied


def pre_spawn_hook(spawner):
    """First login: the student's own copy of the course."""
    home = Path(spawner.home_dir)
    home.mkdir(parents=True, exist_ok=True)
    copied = copy_course(home)
    if copied:
        spawner.log.info("virtlab: copied %s into %s", ", ".join(copied), home)


def apply_user_options(spawner, user_options):
    """The chosen language (form or REST ``{"lang": "de"}``) as ``VIRTLAB_LANG``."""
    lang = (user_options or {}).get("lang", "en")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {sorted(LANGUAGES)}, got {lang!r}")
    spawner.environment = dict(spawner.environment, VIRTLAB_LANG=lang)


c.Spawner.pre_spawn_hook = pre_spawn_hook
c.Spawner.apply_user_options = apply_user_options

# -- a service for the browser test and the load test ------------------------------------
if SERVICE_TOKEN:
    c.JupyterHub.services = [{"name": "virtlab-loadtest", "api_token": SERVICE_TOKEN}]
    c.JupyterHub.load_roles = [{
        "name": "virtlab-loadtest",
        "scopes": ["admin:users", "admin:servers", "admin:server_state",
                   "access:servers", "read:hub"],
        "services": ["virtlab-loadtest"],
    }]

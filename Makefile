# Two commands do all the set-up: `make lab` and `make test` (see README.md).
# Only python3 (>= 3.10) and make are needed; everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra arguments for `virtlab lab`, e.g. make lab ARGS=--no-browser
ARGS   ?=
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k credit"
PYTEST_ARGS ?=
JOBS   ?= 2
# Edition of the course for `make lab`: make lab LANG=de (or COURSE_LANG=de) opens the
# German notebooks in a German JupyterLab. LANG is also the locale variable: only a LANG
# given on make's command line selects the edition (a de_DE.UTF-8 from the environment
# does not), and that "de" is not handed on as a locale to the programs make runs.
COURSE_LANG ?= $(if $(filter command line,$(origin LANG)),$(LANG),en)
ifeq ($(origin LANG),command line)
unexport LANG
endif

# rfc3987-syntax out of the venv (why: in the setup recipe below)
DROP_IRI_CHECKER = $(VPY) -m pip uninstall --yes --quiet rfc3987-syntax >/dev/null 2>&1 || true

.PHONY: setup lab present test notebooks bench assign site clean hub hub-setup test-hub bench-hub

setup: $(STAMP)

# Reinstalls only when pyproject.toml changed (the stamp is older than it).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "virtlab needs Python >= 3.10, found " + sys.version.split()[0])'
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[lab,test]'
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp etc/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@# nbgrader is in the test extra only for the interop test (its command line);
	@# keep its JupyterLab menus and server extensions out of the students' lab.
	@$(VENV)/bin/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null 2>&1 || true
	@for ext in assignment_list course_list formgrader validate_assignment; do \
	    $(VENV)/bin/jupyter server extension disable --sys-prefix nbgrader.server_extensions.$$ext >/dev/null 2>&1 || true; \
	done
	@# jsonschema (under every Jupyter server, nbformat, the grader) imports rfc3987-syntax
	@# when present, which builds ~35 Earley parsers at import: ~0.9 s for every such
	@# process. It only checks the "iri" formats, which no Jupyter schema uses
	@# (python-jsonschema/jsonschema#1428); without it jsonschema skips those checkers.
	@$(DROP_IRI_CHECKER)
	@touch $(STAMP)

lab: setup
	$(VENV)/bin/virtlab lab --lang $(COURSE_LANG) $(ARGS)

# A notebook as a live RISE slideshow: make present NB=11 (ARGS=--dashboard for Voila)
NB ?= 00
present: setup
	$(VENV)/bin/virtlab present $(NB) $(ARGS)

# --no-loadscope-reorder: xdist would otherwise hand out files by their number of tests,
# not in the longest-first order tests/conftest.py gives them (the browser files, few tests
# but minutes long, came last and kept one worker busy while the other idled).
test: setup
	$(VPY) -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

notebooks: setup
	$(VPY) scripts/execute_notebooks.py $(ARGS)

bench: setup
	$(VPY) -m benchmarks $(ARGS)

assign: setup
	$(VENV)/bin/virtlab assign

# -- the course on JupyterHub (deploy/hub, README "The course on JupyterHub") --
HUB     := deploy/hub
HUBSTAMP := $(VENV)/.hub-installed
CHP     := $(HUB)/node/node_modules/.bin/configurable-http-proxy
# Extra arguments for benchmarks/hub_load.py, e.g. make bench-hub HUB_ARGS="--users 5"
HUB_ARGS ?=

# JupyterHub from PyPI (the `hub` extra), its proxy from npm into deploy/hub/node
# (pinned by deploy/hub/node/package-lock.json; never installed globally).
$(HUBSTAMP): pyproject.toml $(STAMP)
	$(VPY) -m pip install --quiet --disable-pip-version-check -e '.[hub]'
	@# the hub's packages pull rfc3987-syntax back in: removed again, as in setup
	@$(DROP_IRI_CHECKER)
	@touch $(HUBSTAMP)

$(CHP): $(HUB)/node/package.json $(HUB)/node/package-lock.json
	npm ci --prefix $(HUB)/node --no-audit --no-fund --loglevel=error
	@touch $(CHP)

hub-setup: setup $(HUBSTAMP) $(CHP)

# Serves the course on http://127.0.0.1:8000 (any user name and password).
hub: hub-setup
	cd $(HUB) && ../../$(VENV)/bin/jupyterhub -f jupyterhub_config.py

# Two students in the real browser through a hub of their own (about 1-2 minutes).
test-hub: hub-setup
	VIRTLAB_TEST_HUB=1 $(VPY) -m pytest -m browser tests/test_hub.py $(PYTEST_ARGS)

# The load test: N = 5, 10, 20, 40 students (tens of minutes); writes
# benchmarks/hub_results.json, which deploy/z2jh/size.py turns into Helm values.
bench-hub: hub-setup
	$(VPY) -m benchmarks.hub_load $(HUB_ARGS)
	$(VPY) deploy/z2jh/size.py

# The static web edition: site/index.html (offline; stored outputs, no kernel).
# The static web edition (English and German): make site; for a JupyterHub's
# "open in JupyterLab" links: make site ARGS="--lab-url https://<hub>/hub/user-redirect/lab/tree/"
site: setup
	$(VPY) scripts/build_site.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis site course $(HUB)/node/node_modules $(HUB)/state

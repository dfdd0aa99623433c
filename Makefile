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

.PHONY: setup lab test notebooks bench assign clean

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
	@touch $(STAMP)

lab: setup
	$(VENV)/bin/virtlab lab --lang $(COURSE_LANG) $(ARGS)

test: setup
	$(VPY) -m pytest -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

notebooks: setup
	$(VPY) scripts/execute_notebooks.py $(ARGS)

bench: setup
	$(VPY) -m benchmarks $(ARGS)

assign: setup
	$(VENV)/bin/virtlab assign

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis

# Two commands do all the set-up (see README.md): `make lab` and `make test`.
# Both create .venv with Python 3.11+ and install requirements.txt into it first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-sanitize-with tests/nbval-sanitize.cfg --nbval-current-env

CHROMIUM ?= /usr/bin/chromium
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install browser lab test test-fast bench sandbox notebooks clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.12, for example)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install everything

browser:           ## Debian's Chromium for the real-browser tests (Playwright drives it; nothing is downloaded by Playwright)
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) && echo "chromium: $$($(CHROMIUM) --version)"

lab: $(STAMP)      ## open JupyterLab on the first lesson (each lesson starts the embedded sandbox)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00-start-here.ipynb

test: $(STAMP) browser site-deps ## the import contracts (pyproject.toml), then every test: the package, the servers, the real client libraries, a real browser, every notebook
	$(VENV)/bin/lint-imports
	$(PY) -m pytest tests notebooks $(NBVAL)

test-fast: $(STAMP) ## the inner loop: the tests not marked slow (no browser, hub, fuzzing, load; no notebooks)
	$(PY) -m pytest tests -m "not slow"

bench: $(STAMP) site-deps ## the benchmarks B1-B8 (B8 needs the npm proxy): ratios against floors measured in the same run (see bench/RESULTS.md)
	$(PY) -m bench

sandbox: $(STAMP)  ## run the sandbox in the foreground; prints its JSON facts first
	$(PY) -m helpers.sandbox

notebooks: $(STAMP) ## Restart & Run All every lesson and solution, saving outputs (for maintainers)
	$(PY) tools/execute_notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache

# --- The static site and Binder (issue 7): `make site` builds build/site/ from the committed notebooks ---
.PHONY: site-deps site
NODE_STAMP := node_modules/.package-lock.json

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

site-deps: $(NODE_STAMP) ## npm packages exactly as package-lock.json pins them (npm ci into node_modules/): mermaid and the widgets html-manager for the site, Auth0's browser SDKs for their tests, JupyterHub's proxy (configurable-http-proxy) for the class test, panva's oidc-provider for the generic-provider tests

site: $(STAMP) site-deps ## a static HTML site of every lesson with its committed outputs, into build/site/
	$(PY) tools/build_site.py --out build/site

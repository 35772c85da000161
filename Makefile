# Task runner. The README's two commands are `make book` and `make test`.
# Everything a fresh machine needs (the virtual environment, MathJax for offline math) is built here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MATHJAX_VERSION := 3.2.2
MATHJAX := _static/mathjax/tex-chtml.js
# axe-core, the accessibility checker the browser tests inject into every page (never shipped).
AXE_VERSION := 4.14.1
AXE := .cache/npm/axe-core-$(AXE_VERSION)/axe.min.js

.PHONY: book rebuild serve test student examples clean venv mathjax axe browser sandbox

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# MathJax is served from the book itself so that math renders with no network.
mathjax: $(MATHJAX)
$(MATHJAX):
	mkdir -p .cache/npm _static
	cd .cache/npm && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null
	rm -rf _static/mathjax .cache/npm/package
	tar -xzf .cache/npm/mathjax-$(MATHJAX_VERSION).tgz -C .cache/npm
	mkdir -p _static/mathjax/output/chtml
	cp .cache/npm/package/es5/tex-chtml.js _static/mathjax/
	cp -r .cache/npm/package/es5/output/chtml/fonts _static/mathjax/output/chtml/
	cp -r .cache/npm/package/es5/input _static/mathjax/
	cp -r .cache/npm/package/es5/a11y .cache/npm/package/es5/ui _static/mathjax/

# The browser tests' accessibility checker (tests/book_audit.py), from npm like MathJax.
axe: $(AXE)
$(AXE):
	mkdir -p .cache/npm
	cd .cache/npm && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null
	rm -rf .cache/npm/axe-core-$(AXE_VERSION)
	mkdir -p .cache/npm/axe-core-$(AXE_VERSION)
	tar -xzf .cache/npm/axe-core-$(AXE_VERSION).tgz -C .cache/npm/axe-core-$(AXE_VERSION) \
	    --strip-components=1 package/axe.min.js package/LICENSE

## Build the HTML book (executing every chapter; unchanged chapters come from the cache).
book: venv mathjax
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html (or run: make serve)"

rebuild: clean book

## Serve the built book on http://localhost:8000 (search works better over http than file://).
serve:
	$(BIN)/python -m http.server --directory _build/html 8000

## Install Debian's Chromium for the browser tests (tests/test_browser.py) unless it is there.
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo)
browser:
	command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

## Install Debian's bubblewrap unless it is there: the grader's sandbox needs what bwrap needs
## (namespaces), and `bwrap` is how to check a machine or container for it (README).
sandbox:
	command -v bwrap >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y bubblewrap)

## Run every test (builds the book on the way), in three processes (pytest-xdist; conftest.py
## says what they share).
TEST_WORKERS ?= 3
test: venv mathjax axe browser sandbox
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## Regenerate the student versions in exercises/ from the sources in solutions/.
student: venv
	$(BIN)/python -m autograder generate

## Regenerate the example submissions in examples/submissions/.
examples: venv
	$(BIN)/python -m tests.examples

clean:
	rm -rf _build

# bookbuild: `make book` builds the briefing into dist/, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANUSCRIPT := manuscript
DIST := dist
SLUG := $(shell sed -n 's/^slug: *//p' $(MANUSCRIPT)/book.yaml 2>/dev/null)
SOURCES := $(shell find src/bookbuild -type f -not -name '*.pyc' 2>/dev/null)
MANUSCRIPT_FILES := $(shell find $(MANUSCRIPT) -type f 2>/dev/null)
# Debian packages the build needs: Pango for WeasyPrint, HarfBuzz subsetting for fast font
# embedding, DejaVu Sans as the named fallback font, Noto CJK for Chinese, Japanese and Korean
# (no PyPI package has it), Java for EPUBCheck, Chromium for DAISY Ace and poppler-utils for
# proofs.
DEB_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
	fonts-noto-cjk openjdk-17-jre-headless chromium poppler-utils
# Calibre's ebook-convert for the test of the Kindle conversion; only `make test` needs it.
TEST_DEB_PACKAGES := calibre
ACE := tests/ace/node_modules/.package-lock.json

.PHONY: book test check lint bench proof clean system-deps

# dist/ is the reference single layout (--jobs 1): a build in pieces is cut per process, so its
# bytes would follow the machine's cores (tests/test_parallel.py checks the two agree).
book: $(DIST)/$(SLUG).pdf

$(DIST)/$(SLUG).pdf $(DIST)/$(SLUG).epub &: $(VENV)/.installed $(SOURCES) $(MANUSCRIPT_FILES)
	$(BIN)/bookbuild build $(MANUSCRIPT) --out $(DIST) --jobs 1

$(VENV)/.installed: pyproject.toml requirements.lock | $(VENV)/.system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

# Checks each Debian package in $(1) and installs the missing ones when run as root.
define install-debs
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "error: missing Debian packages: $$missing" >&2; \
	    echo "       run: sudo apt-get install $$missing" >&2; exit 1; \
	  fi; \
	fi
endef

$(VENV)/.system-deps: Makefile
	$(call install-debs,$(DEB_PACKAGES))
	@mkdir -p $(VENV) && touch $@

$(VENV)/.test-deps: Makefile | $(VENV)/.system-deps
	$(call install-debs,$(TEST_DEB_PACKAGES))
	@touch $@

system-deps: $(VENV)/.system-deps

# DAISY Ace from npm, driving Debian's Chromium instead of a browser download of its own.
$(ACE): tests/ace/package.json tests/ace/package-lock.json | $(VENV)/.system-deps
	@command -v npm >/dev/null || { echo "error: npm is needed for DAISY Ace: apt-get install npm" >&2; exit 1; }
	cd tests/ace && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

test: $(VENV)/.installed $(VENV)/.test-deps $(ACE)
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/mypy

check: lint test

# Pandoc is the peer for the EPUB figure; it is needed by the benchmark only.
bench: book
	@command -v pandoc >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq pandoc >/dev/null; } \
	  || { echo "error: the benchmark needs pandoc: apt-get install pandoc" >&2; exit 1; }
	$(BIN)/python tests/bench.py
	$(BIN)/python tests/bench_serve.py
	$(BIN)/python tests/bench_long.py

proof: book
	rm -rf $(DIST)/proof && mkdir -p $(DIST)/proof
	pdftoppm -r 80 -png $(DIST)/$(SLUG).pdf $(DIST)/proof/page

clean:
	rm -rf $(VENV) $(DIST)/html $(DIST)/proof

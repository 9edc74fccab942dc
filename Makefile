# The two set-up commands. Each works on a fresh machine with only Python 3:
#   make book   -> .venv with the package and the book tools, then the HTML book
#   make test   -> .venv with the package and the test tools, then every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book book-committed browser fashion-mnist test install clean sync-notebooks set-repo

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

install: $(STAMP) fashion-mnist

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# The HTML from the committed outputs, executing nothing (what the Pages workflow publishes).
book-committed: $(STAMP)
	$(PY) tools/build_committed.py

# Headless Chromium and ChromeDriver for the browser test (Debian's packages; root or passwordless sudo).
# Where they cannot be installed, the browser test is skipped and says why.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo "sudo -n")
browser:
	@command -v chromedriver >/dev/null 2>&1 && (command -v chromium || command -v chromium-browser || \
	  command -v google-chrome) >/dev/null 2>&1 || \
	  ( DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	    ( $(SUDO) apt-get update -q >/dev/null 2>&1 && \
	      DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 ) || \
	    echo "make browser: could not install chromium and chromium-driver; the browser test will be skipped" )

# Debian's dataset-fashion-mnist: all 70,000 Fashion-MNIST images, offline, for the `full` profiles and their tests
# (root or passwordless sudo). Where it cannot be installed, the tests that need it are skipped and say why.
fashion-mnist:
	@[ -d /usr/share/datasets/fashion-mnist ] || \
	  ( DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	    ( $(SUDO) apt-get update -q >/dev/null 2>&1 && \
	      DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 ) || \
	    echo "make fashion-mnist: could not install dataset-fashion-mnist; the tests that need it will be skipped" )

test: $(STAMP) browser fashion-mnist
	$(PY) -m pytest --durations=15

# Re-pair every chapter notebook with its py:percent twin (newest wins).
sync-notebooks: $(STAMP)
	$(VENV)/bin/jupytext --sync chapters/*.ipynb

# Point the book at a fork: make set-repo URL=https://github.com/you/pruning-theory-reproduced
set-repo: $(STAMP)
	$(PY) tools/set_repo_url.py $(URL)

clean:
	rm -rf _build

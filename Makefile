# The two set-up commands. Each works on a fresh machine with only Python 3:
#   make book   -> .venv with the package and the book tools, then the HTML book
#   make test   -> .venv with the package and the test tools, then every test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test install clean sync-notebooks set-repo

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

test: $(STAMP)
	$(PY) -m pytest

# Re-pair every chapter notebook with its py:percent twin (newest wins).
sync-notebooks: $(STAMP)
	$(VENV)/bin/jupytext --sync chapters/*.ipynb

# Point the book at a fork: make set-repo URL=https://github.com/you/pruning-theory-reproduced
set-repo: $(STAMP)
	$(PY) tools/set_repo_url.py $(URL)

clean:
	rm -rf _build

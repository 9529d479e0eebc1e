# The two commands of the README: `make lab` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
COLLECTION_LINK := .collections/ansible_collections/dese/ea_plan
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help setup venv harness lab lab-down test lint unit molecule build clean

help:
	@echo "make lab       deploy the full stack into local lab containers and print the verify report"
	@echo "make lab-down  remove the lab containers"
	@echo "make test      lint, unit tests and every Molecule scenario (SCENARIO=name for one)"

$(VENV)/.installed: requirements.txt
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../.. $@

setup: venv $(COLLECTION_LINK) harness

harness:
	$(VENV_PY) harness/bootstrap.py

lab: setup
	$(VENV_PY) harness/lab.py up

lab-down: venv
	$(VENV_PY) harness/lab.py down

test: setup
	$(VENV_PY) harness/run_tests.py $(if $(SCENARIO),molecule --scenario $(SCENARIO))

lint: venv $(COLLECTION_LINK)
	$(VENV_PY) harness/run_tests.py lint

unit: setup
	$(VENV_PY) harness/run_tests.py unit

molecule: setup
	$(VENV_PY) harness/run_tests.py molecule $(if $(SCENARIO),--scenario $(SCENARIO))

build: venv
	$(VENV)/bin/ansible-galaxy collection build --force --output-path .cache/build .

clean:
	rm -rf .cache reports .collections

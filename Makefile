# The two commands: `make demo` and `make test`. Everything else is what they stand on.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

EVAL_SET ?= ivr/speech/eval_set.tsv

.PHONY: demo test deps venv asterisk-build lint typecheck unit coverage bench bench-restart bench-calls eval stop clean

# The unit tests need no Asterisk and share no state: two workers (these machines have two
# cores) halve their time. Adapter, end-to-end and browser tests share one Asterisk: one process.
UNIT := -m pytest tests/unit -n 2 --dist worksteal

demo: deps venv asterisk-build
	scripts/with-asterisk $(PY) -m ari_app demo

test: deps venv asterisk-build lint typecheck
	$(PY) $(UNIT) $(PYTEST_ARGS)
	scripts/with-asterisk $(PY) -m pytest tests/adapters tests/e2e tests/browser $(PYTEST_ARGS)

deps:
	scripts/install-deps

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

asterisk-build: deps
	scripts/dev-asterisk build

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy

unit: venv
	$(PY) $(UNIT)

# Lines of ari_app/ the unit tests run (dev tools and migrations left out: pyproject.toml).
coverage: venv
	$(PY) $(UNIT) --cov --cov-report=term

# Figures, not tests: speed and accuracy printed against baselines measured in the same run.
bench: venv
	$(PY) benchmarks/bench_routing.py

# Live calls through SIGKILL, SIGTERM, --drain and an Asterisk restart (issue 8): four drills of
# 22 real callers each through the development Asterisk, one table of figures (a few minutes).
bench-restart: deps venv asterisk-build
	scripts/with-asterisk $(PY) benchmarks/bench_restart.py

# Call cost (issue 9): SIPp callers through the development Asterisk into app_queue + dialplan
# (the anchor), a minimal ARI app (the floor) and the hotline (keypad, speech), the same load
# each; one table per load (120 calls at 2/s, 300 at 5/s: about 15 minutes).
# BENCH_CALLS_ARGS=--quick: 20 calls at 2/s; --load CALLS@RATE, --targets anchor,floor,...
bench-calls: deps venv asterisk-build
	scripts/with-asterisk $(PY) benchmarks/bench_calls.py $(BENCH_CALLS_ARGS)

# The spoken set through the recognizer, then a sample of calls through the real Asterisk for
# the turn latency (hotline measure-turns), printed together.
EVAL_CALLS ?= 12
eval: deps venv asterisk-build
	scripts/with-asterisk sh -c '$(VENV)/bin/hotline measure-turns --set "$(EVAL_SET)" \
	  --calls $(EVAL_CALLS) --out var/turn-latency.json && \
	  $(PY) -m ivr.speech.evaluate --set "$(EVAL_SET)" --latency-from var/turn-latency.json'
	@echo "== held-out set (issue 14: never tuned on), other speaking rates, 20 and 10 dB SNR"
	$(PY) -m ivr.speech.evaluate --set ivr/speech/heldout_set.tsv --wpm 130,165 --snr 20
	$(PY) -m ivr.speech.evaluate --set ivr/speech/heldout_set.tsv --wpm 130,165 --snr 10

stop:
	scripts/dev-asterisk stop

clean: stop
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

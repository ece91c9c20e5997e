# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench-smoke clean

# uv installs the same lock in a fraction of pip's time; pip remains the fallback when uv
# cannot be installed or cannot reach the index.
$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "正在安装依赖（requirements.lock）…"
	( $(BIN)/python -m uv --version >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet uv ) \
	  && $(BIN)/python -m uv pip install --quiet --python $(BIN)/python -r requirements.lock \
	  || $(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python run.py

# The suite waits on PostgreSQL, subprocesses and fakes more than it computes, so it runs on
# TEST_WORKERS processes (pytest-xdist); tests that keep every core busy share one worker
# (xdist_group "hog"), so that two CPU hogs never overlap. `make test TEST_WORKERS=0` runs
# in one process; `.venv/bin/pytest tests/x.py` on one file starts no workers.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

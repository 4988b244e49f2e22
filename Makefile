# AuthLab: `make setup` once, then `make test` or `make lab`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
PYTHON  := $(BIN)/python

.PHONY: setup system-packages test lint format lab down clean

setup: system-packages $(VENV)/.installed  ## everything a fresh Debian machine needs

# redis-server and haproxy run the lab, redis-sentinel its failover topology (`--redis
# sentinel`), Chromium drives the browser tests, wrk loads `lab bench --http`; install them
# only when missing (Debian/Ubuntu: apt).
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v haproxy >/dev/null 2>&1 || missing="$$missing haproxy"; \
	command -v redis-sentinel >/dev/null 2>&1 || missing="$$missing redis-sentinel"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	  elif command -v brew >/dev/null 2>&1; then brew install $$(echo $$missing | sed 's/redis-sentinel//; s/redis-server/redis/; s/chromium-driver/chromedriver/'); \
	  else echo "please install:$$missing" >&2; exit 1; fi; \
	fi

# The pinned set, then the project itself, editable (no sys.path or PYTHONPATH tricks anywhere:
# `import servers, lab, loadtests` works from any directory, and `authlab` is on the PATH).
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	$(PYTHON) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# PostgreSQL tests skip, saying so, when no server answers at 127.0.0.1:5432; CI sets
# AUTHLAB_REQUIRE_POSTGRES=1 (.ci/run) so that a missing PostgreSQL fails instead.
test: setup  ## the whole suite: contract, servers, lab, load tests, notebooks
	$(BIN)/ruff check .
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lab: setup  ## bring the lab up, run the quick report, say where to go next
	$(PYTHON) -m lab up
	$(PYTHON) -m lab report --quick
	@echo
	@$(PYTHON) -m lab status
	@echo
	@echo "Next, from this directory in any shell (no venv to activate):"
	@echo "  everyone:    open the report printed above in a browser"
	@echo "  instructors: .venv/bin/python -m lab demo stolen-cookie --browser   (prints the page's URL)"
	@echo "  students:    .venv/bin/jupyter lab notebooks/"
	@echo "  teams:       .venv/bin/python -m lab loadtest browse --server jwt"
	@echo "  done:        make down"

down:
	$(PYTHON) -m lab down

clean:
	-$(PYTHON) -m lab down
	rm -rf .lab .pytest_cache

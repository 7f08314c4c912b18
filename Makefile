# The two commands of the README. Both do all their set-up first (scripts/setup).
.PHONY: run test lint setup

run:
	./scripts/setup
	.venv/bin/ouroboros run

# The whole suite: the static checks (ruff, the import layers, mypy), then pytest.
test:
	./scripts/setup --test
	$(MAKE) --no-print-directory lint
	.venv/bin/python -m pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/mypy

setup:
	./scripts/setup

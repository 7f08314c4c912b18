# The two commands of the README. Both do all their set-up first (scripts/setup).
.PHONY: run test setup

run:
	./scripts/setup
	.venv/bin/ouroboros run

test:
	./scripts/setup --test
	.venv/bin/python -m pytest

setup:
	./scripts/setup

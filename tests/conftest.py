"""Fixtures every part of the suite may use (the integration ones live in tests/integration/conftest.py)."""

from tests.fixtures.ingest.server import site_server

__all__ = ["site_server"]

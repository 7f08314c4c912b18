"""One exception hierarchy. Every message says what failed, on which input, and what to do."""

from __future__ import annotations


class OuroborosError(Exception):
    """Root of every error the project raises on purpose; the CLI turns it into a clean exit."""

    exit_code: int = 1


class ConfigError(OuroborosError):
    """A setting or an argument is missing or wrong."""

    exit_code = 2


class InputError(OuroborosError):
    """A document, folder or file given to us cannot be used."""

    exit_code = 3


class ServerError(OuroborosError):
    """The local Neo4j server cannot be prepared, started, reached or stopped."""

    exit_code = 4


class GraphError(OuroborosError):
    """A query or a write against Neo4j failed."""

    exit_code = 5


class ExtractionError(OuroborosError):
    """An extractor failed on a document."""

    exit_code = 6


class DeliveryError(OuroborosError):
    """An alert could not be delivered (it is kept and retried next time)."""

    exit_code = 7


class BusyError(OuroborosError):
    """Another run holds this home's writer lock."""

    exit_code = 8

"""One way to get a Neo4j driver: the server at ``NEO4J_URI``, or the local server of ``OUROBOROS_HOME``.

With ``NEO4J_URI`` set the project connects there (``NEO4J_USER``/``NEO4J_PASSWORD``) and starts
nothing. Without it, it uses the local server of ``OUROBOROS_HOME`` (see ``graph.server``) and
starts that server when it is not running, so every command works on a fresh machine.
"""

from __future__ import annotations

import logging
import time

import neo4j
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

from graph.queries import run_query
from graph.server import ConnectionInfo, LocalNeo4j
from ouroboros.core.errors import ConfigError, ServerError
from ouroboros.core.settings import Settings, get_settings

__all__ = ["ConnectionInfo", "connection_info", "get_driver", "reset_graph"]

log = logging.getLogger(__name__)

# After repeated wrong passwords Neo4j refuses every login for a few seconds (its auth lockout).
AUTH_LOCKOUT_CODE = "Neo.ClientError.Security.AuthenticationRateLimit"
AUTH_LOCKOUT_WAIT_S = 12.0
# Bounds on the driver's own waits: a dead server is reported within seconds, not minutes.
MAX_TRANSACTION_RETRY_S = 10.0
CONNECTION_TIMEOUT_S = 10.0


def connection_info(settings: Settings | None = None) -> ConnectionInfo:
    """Where to connect and with which credentials, from the settings (no connection is made).

    Raises:
        ConfigError: ``NEO4J_URI`` is set without ``NEO4J_PASSWORD``, or ``NEO4J_PASSWORD``
            contradicts the password the local server was created with.
        ServerError: The local server was never started, so it has no password yet.
    """
    settings = settings or get_settings()
    given = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
    if settings.neo4j_uri:
        if given is None:
            raise ConfigError(f"NEO4J_URI is set ({settings.neo4j_uri}) but NEO4J_PASSWORD is not; set NEO4J_PASSWORD")
        return ConnectionInfo(uri=settings.neo4j_uri, user=settings.neo4j_user, password=given)
    server = LocalNeo4j.from_settings(settings)
    info = server.connection_info()
    if given is not None and given != info.password:
        raise ConfigError(
            f"NEO4J_PASSWORD differs from the password the local Neo4j of {settings.home_dir} was created with "
            f"(stored in {server.password_file}); unset NEO4J_PASSWORD, or delete {server.neo4j_home} to "
            "recreate the local server with it"
        )
    return info


def get_driver(settings: Settings | None = None, *, start_local: bool = True) -> neo4j.Driver:
    """An open, verified driver; the caller closes it (``with get_driver() as driver:``).

    Args:
        settings: The settings to use; None reads them from the environment.
        start_local: Start the local server when ``NEO4J_URI`` is unset and it is not running;
            False raises ServerError instead.
    """
    settings = settings or get_settings()
    if not settings.neo4j_uri:
        server = LocalNeo4j.from_settings(settings)
        if not server.is_running():
            if not start_local:
                raise ServerError(
                    f"the local Neo4j of {settings.home_dir} is not running; start it with `ouroboros neo4j start`"
                )
            log.info("starting the local Neo4j of %s (about half a minute)", settings.home_dir)
            server.start()
            log.info("Neo4j runs at %s; Browser at %s", server.bolt_uri, server.browser_url)
    info = connection_info(settings)
    # The server's notifications (e.g. "property key not in the database yet" on a fresh graph)
    # are advice for query authors, not for users; without this they flood the terminal.
    driver = neo4j.GraphDatabase.driver(
        info.uri, auth=(info.user, info.password), notifications_min_severity="OFF",
        max_transaction_retry_time=MAX_TRANSACTION_RETRY_S, connection_timeout=CONNECTION_TIMEOUT_S,
        connection_acquisition_timeout=2 * CONNECTION_TIMEOUT_S,
    )
    try:
        _verify(driver)
    except Neo4jError as error:
        driver.close()
        if error.code == AUTH_LOCKOUT_CODE:
            raise ServerError(
                f"Neo4j at {info.uri} is refusing logins for a few seconds after repeated wrong passwords "
                f"(its auth lockout) and still did after {AUTH_LOCKOUT_WAIT_S:.0f} s; wait a moment and rerun. "
                "If it keeps happening, something on this machine is trying wrong passwords"
            ) from error
        if not isinstance(error, AuthError):
            raise ServerError(f"Neo4j at {info.uri} refused the connection: {error.message}") from error
        if settings.neo4j_uri:
            raise ConfigError(
                f"Neo4j at {info.uri} refused user {info.user!r}: fix NEO4J_USER / NEO4J_PASSWORD"
            ) from error
        raise ServerError(
            f"the local Neo4j of {settings.home_dir} refused the recorded password; "
            f"delete {settings.home_dir / 'neo4j'} to recreate the server"
        ) from error
    except (ServiceUnavailable, OSError) as error:
        driver.close()
        if settings.neo4j_uri:
            raise ServerError(
                f"cannot reach Neo4j at NEO4J_URI={info.uri}: {error}; check the address and that the server runs, "
                "or unset NEO4J_URI to use the local server"
            ) from error
        raise ServerError(
            f"the local Neo4j of {settings.home_dir} does not answer at {info.uri}: {error}; "
            "try `ouroboros neo4j stop` then `ouroboros neo4j start`"
        ) from error
    return driver


def _verify(driver: neo4j.Driver) -> None:
    """Check the connection, riding out a short auth lockout (it lifts after about five seconds)."""
    deadline = time.monotonic() + AUTH_LOCKOUT_WAIT_S
    while True:
        try:
            driver.verify_connectivity()
            return
        except Neo4jError as error:
            if error.code != AUTH_LOCKOUT_CODE or time.monotonic() >= deadline:
                raise
            log.warning("Neo4j is in its auth lockout (repeated wrong passwords); retrying in 2 s")
            time.sleep(2)


def reset_graph(driver: neo4j.Driver) -> int:
    """Delete every node and relationship (constraints and indexes stay); return how many nodes went."""
    with driver.session() as session:
        nodes = int(run_query(session, "count_nodes").single(strict=True)["nodes"])
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run, not execute_query.
        run_query(session, "reset_graph").consume()
    return nodes

"""A local Neo4j Community server, assembled from Maven Central and run from ``$OUROBOROS_HOME/neo4j``.

The jars are fetched once into the shared cache (``$OUROBOROS_CACHE/neo4j-<version>/lib``) by
Maven from ``graph/server/pom.xml``; every home links to them. A home looks like::

    $OUROBOROS_HOME/
        connection.json         uri, user, password, browser_url (mode 0600), written once Bolt answers
        neo4j/
            conf/neo4j.conf     written on every start (ports, memory, 127.0.0.1 only)
            data/ logs/ plugins/ import/ run/neo4j.pid
            lib -> $OUROBOROS_CACHE/neo4j-<version>/lib
            password            the initial password (mode 0600)

The server is started with Neo4j's own launcher (``Neo4jCommand start``, which detaches it and
writes the pid file) and stopped here by signal, so stopping needs no second JVM.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import neo4j
import psutil
from neo4j.exceptions import AuthError, ServiceUnavailable

from ouroboros.core.errors import ServerError
from ouroboros.core.settings import Settings

NEO4J_VERSION = "5.26.30"  # keep equal to <neo4j.version> in graph/server/pom.xml
POM = Path(__file__).resolve().parent / "server" / "pom.xml"
DEFAULT_BOLT_PORT = 7687
DEFAULT_HTTP_PORT = 7474
USER = "neo4j"
START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0

# JVM options of the stock 5.26 neo4j.conf, minus -XX:+AlwaysPreTouch: pre-touching the whole
# heap costs resident memory that several homes running side by side on one machine cannot spare.
_JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.layout.jsonTemplate.maxStringLength=32768",
)


@dataclass(frozen=True)
class ConnectionInfo:
    """Where a Neo4j server answers and how to log in."""

    uri: str
    user: str
    password: str
    browser_url: str | None = None

    def to_json(self) -> str:
        """The ``connection.json`` form."""
        return json.dumps(
            {"uri": self.uri, "user": self.user, "password": self.password, "browser_url": self.browser_url},
            indent=2,
        )


# --- fetching the jars -------------------------------------------------------------------------


def lib_dir(cache: Path) -> Path:
    """The shared lib folder of this Neo4j version inside the download cache."""
    return cache / f"neo4j-{NEO4J_VERSION}" / "lib"


def _fetched_marker(cache: Path) -> Path:
    return lib_dir(cache).parent / "fetched"


def is_fetched(cache: Path) -> bool:
    """True when a complete fetch of the jars is in the cache."""
    return _fetched_marker(cache).is_file() and lib_dir(cache).is_dir()


def require_tool(name: str, what: str) -> str:
    """The path of executable ``name``; missing, a ServerError says what to install."""
    path = shutil.which(name)
    if path is None:
        raise ServerError(f"`{name}` not found on PATH; {what}")
    return path


def _java() -> str:
    return require_tool("java", "install a Java 17 runtime (e.g. `apt-get install openjdk-17-jre-headless`)")


def fetch(cache: Path) -> Path:
    """Copy Neo4j and Neo4j Browser from Maven Central into the cache, once; return the lib folder.

    A lock keeps two processes from fetching at the same time; a fetch that did not finish
    (no marker file) is thrown away and redone.
    """
    lib = lib_dir(cache)
    if is_fetched(cache):
        return lib
    mvn = require_tool("mvn", "install Apache Maven 3.8+ (e.g. `apt-get install maven`); it fetches Neo4j")
    _java()
    lib.parent.mkdir(parents=True, exist_ok=True)
    with _locked(lib.parent / ".lock"):
        if is_fetched(cache):  # another process finished while we waited
            return lib
        partial = lib.with_name("lib.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(lib, ignore_errors=True)
        command = [
            mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={partial}",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise ServerError(
                f"Maven could not fetch Neo4j {NEO4J_VERSION} ({POM}); check that Maven Central is reachable "
                f"(proxy settings go in ~/.m2/settings.xml), then run `ouroboros neo4j fetch` again.\n{tail}"
            )
        partial.rename(lib)
        _fetched_marker(cache).write_text(f"neo4j {NEO4J_VERSION}\n", encoding="utf-8")
    return lib


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- ports ---------------------------------------------------------------------------------------


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Without SO_REUSEADDR a port in TIME_WAIT counts as taken; Neo4j binds with it, so do we.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports nothing listens on right now (for tests and side-by-side homes)."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:  # all held open at once, so the kernel hands out distinct ports
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


# --- neo4j.conf ----------------------------------------------------------------------------------


def render_conf(*, bolt_port: int, http_port: int) -> str:
    """The ``neo4j.conf`` of a local server: 127.0.0.1 only, auth on, modest memory."""
    lines = [
        "# Written by `ouroboros neo4j start` on every start; edits here are overwritten.",
        "# Listen on this machine only; advertise the real ports so Browser connects to them.",
        "server.default_listen_address=127.0.0.1",
        "server.default_advertised_address=127.0.0.1",
        f"server.bolt.listen_address=:{bolt_port}",
        f"server.bolt.advertised_address=:{bolt_port}",
        "server.bolt.enabled=true",
        f"server.http.listen_address=:{http_port}",
        f"server.http.advertised_address=:{http_port}",
        "server.http.enabled=true",
        "server.https.enabled=false",
        "dbms.security.auth_enabled=true",
        "# Sized so several homes and the tests fit on a 2-core, 24 GB machine.",
        "server.memory.heap.initial_size=512m",
        "server.memory.heap.max_size=1g",
        "server.memory.pagecache.size=512m",
        "# No 256 MB preallocated transaction logs per database; this is a small analysis graph.",
        "db.tx_log.preallocate=false",
        "db.tx_log.rotation.retention_policy=1 days",
        "# Netty's default 5 s quiet period, twice, made every stop take over 10 s.",
        "internal.dbms.bolt.netty_server_shutdown_quiet_period=0",
        "# No usage reports to the network.",
        "dbms.usage_report.enabled=false",
        "server.directories.import=import",
        *(f"server.jvm.additional={option}" for option in _JVM_OPTIONS),
    ]
    return "\n".join(lines) + "\n"


def read_conf_ports(conf: Path) -> tuple[int, int] | None:
    """The (bolt, http) ports of an existing ``neo4j.conf``, or None when there is none."""
    if not conf.is_file():
        return None
    values: dict[str, str] = {}
    for line in conf.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    try:
        bolt = int(values["server.bolt.listen_address"].rsplit(":", 1)[1])
        http = int(values["server.http.listen_address"].rsplit(":", 1)[1])
    except (KeyError, IndexError, ValueError):
        return None
    return bolt, http


def _generated_password() -> str:
    """A random password that ``neo4j-admin`` cannot mistake for an option (no leading '-')."""
    while (password := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return password


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (created 0600, never wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


# --- the server ----------------------------------------------------------------------------------


class LocalNeo4j:
    """The Neo4j server of one ``OUROBOROS_HOME``."""

    def __init__(
        self,
        home: Path,
        cache: Path,
        *,
        bolt_port: int | None = None,
        http_port: int | None = None,
        password: str | None = None,
    ) -> None:
        """Describe the server of ``home``; nothing is touched until ``start``.

        Args:
            home: The Ouroboros home; the Neo4j home is its ``neo4j/`` folder.
            cache: The shared download cache holding the jars.
            bolt_port: Bolt port; None keeps the home's current one (default 7687).
            http_port: HTTP (Browser) port; None keeps the home's current one (default 7474).
            password: Initial password for a new home (``NEO4J_PASSWORD``); None generates one.
        """
        # Absolute and symlink-free: the path is how we recognise our server among processes.
        self.home = home.expanduser().resolve()
        self.cache = cache.expanduser().resolve()
        self.neo4j_home = home / "neo4j"
        self.conf_dir = self.neo4j_home / "conf"
        self.conf_file = self.conf_dir / "neo4j.conf"
        self.logs_dir = self.neo4j_home / "logs"
        self.pid_file = self.neo4j_home / "run" / "neo4j.pid"
        self.password_file = self.neo4j_home / "password"
        self.connection_file = home / "connection.json"
        current = read_conf_ports(self.conf_file) or (DEFAULT_BOLT_PORT, DEFAULT_HTTP_PORT)
        self.bolt_port = bolt_port or current[0]
        self.http_port = http_port or current[1]
        self._initial_password = password

    @classmethod
    def from_settings(
        cls, settings: Settings, *, bolt_port: int | None = None, http_port: int | None = None
    ) -> LocalNeo4j:
        """The server of ``settings.home_dir``."""
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        return cls(settings.home_dir, settings.cache_dir, bolt_port=bolt_port, http_port=http_port, password=password)

    # -- facts ---------------------------------------------------------------------------------

    @property
    def bolt_uri(self) -> str:
        """The Bolt address drivers connect to."""
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        """Where Neo4j Browser is served."""
        return f"http://127.0.0.1:{self.http_port}/browser/"

    def pid(self) -> int | None:
        """The pid of this home's running server, or None when it does not run."""
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None
        try:
            command = psutil.Process(pid).cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None
        # A stale pid file may name a recycled pid; only our server carries our home on its command line.
        if f"--home-dir={self.neo4j_home}" not in command:
            return None
        return pid

    def is_running(self) -> bool:
        """True when this home's server process is alive."""
        return self.pid() is not None

    def password(self) -> str:
        """The password recorded for this home; ServerError when the home was never initialised."""
        try:
            return self.password_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ServerError(
                f"no Neo4j password recorded in {self.password_file}; run `ouroboros neo4j start` first"
            ) from None

    def connection_info(self) -> ConnectionInfo:
        """How to reach this home's server."""
        return ConnectionInfo(uri=self.bolt_uri, user=USER, password=self.password(), browser_url=self.browser_url)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT) -> bool:
        """Start the server and wait until Bolt answers; return False when it was already running."""
        self.home.mkdir(parents=True, exist_ok=True)
        # Two commands of one home starting at once: the second waits, then finds it running.
        with _locked(self.home / ".neo4j.lock"):
            return self._start(timeout)

    def _start(self, timeout: float) -> bool:
        running = self.pid()
        if running is not None:
            recorded = read_conf_ports(self.conf_file)
            if recorded and recorded != (self.bolt_port, self.http_port):
                raise ServerError(
                    f"the Neo4j of {self.home} already runs (pid {running}) on Bolt port {recorded[0]} and "
                    f"HTTP port {recorded[1]}; run `ouroboros neo4j stop` before changing ports"
                )
            return False
        if self.bolt_port == self.http_port:
            raise ServerError(
                f"Bolt and HTTP both set to port {self.bolt_port}; give --bolt-port and --http-port different ports"
            )
        for port, flag in ((self.bolt_port, "--bolt-port"), (self.http_port, "--http-port")):
            if port_in_use(port):
                raise ServerError(
                    f"port {port} on 127.0.0.1 is already in use; stop what uses it or pick another port "
                    f"with `ouroboros neo4j start {flag} <port>`"
                )
        java = _java()
        lib = fetch(self.cache)
        self._lay_out(lib)
        self._set_initial_password(java)
        self.pid_file.unlink(missing_ok=True)
        result = self._launcher(java, "org.neo4j.server.startup.Neo4jCommand", "start")
        if result.returncode != 0:
            raise ServerError(f"Neo4j did not start ({self.neo4j_home}):\n{self._tail(result.stdout + result.stderr)}")
        self._wait_for_bolt(timeout)
        write_private(self.connection_file, self.connection_info().to_json() + "\n")
        return True

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); return False when it was not running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        process = psutil.Process(pid)
        process.terminate()
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()  # a clean shutdown would have finished by now
            process.wait(10)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- helpers -------------------------------------------------------------------------------

    def _lay_out(self, lib: Path) -> None:
        # The database, its logs and its password are private to the user who runs it.
        for private in (self.home, self.neo4j_home):
            private.mkdir(parents=True, exist_ok=True)
            os.chmod(private, 0o700)
        for folder in ("conf", "data", "logs", "plugins", "import", "run"):
            (self.neo4j_home / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        link = self.neo4j_home / "lib"
        if (link.is_symlink() or link.exists()) and link.resolve() != lib.resolve():
            link.unlink()
        if not link.exists():
            link.symlink_to(lib, target_is_directory=True)
        self.conf_file.write_text(render_conf(bolt_port=self.bolt_port, http_port=self.http_port), encoding="utf-8")

    def _set_initial_password(self, java: str) -> None:
        """Record and set the password of a new home (it only takes effect before the first start)."""
        if self.password_file.is_file():
            return
        if (self.neo4j_home / "data" / "databases").exists():
            raise ServerError(
                f"{self.neo4j_home} holds a database but no recorded password ({self.password_file}); "
                f"delete {self.neo4j_home / 'data'} to start over with a new password"
            )
        password = self._initial_password or _generated_password()
        if len(password) < 8:
            raise ServerError("NEO4J_PASSWORD is shorter than the 8 characters Neo4j requires; set a longer one")
        result = self._launcher(
            java, "org.neo4j.server.startup.Neo4jAdminCommand", "dbms", "set-initial-password", password
        )
        if result.returncode != 0:
            # The password is on the command line, never in what we show.
            output = (result.stdout + result.stderr).replace(password, "***")
            raise ServerError(f"could not set the initial Neo4j password in {self.neo4j_home}:\n{self._tail(output)}")
        write_private(self.password_file, password + "\n")

    def _launcher(self, java: str, main: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NEO4J_HOME": str(self.neo4j_home), "NEO4J_CONF": str(self.conf_dir)}
        env.pop("JAVA_OPTS", None)  # it would replace the heap settings of neo4j.conf
        env.pop("HEAP_SIZE", None)
        # The launcher and admin tool live for seconds: the C1 compiler alone and the serial GC
        # halve their CPU time. The server JVM takes its options from neo4j.conf, not from these.
        command = [
            java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-cp", str(self.neo4j_home / "lib" / "*"), main, *args,
        ]  # fmt: skip
        try:
            # umask 077: every file the server (a child of the launcher) creates is the user's alone.
            return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=180,
                                  umask=0o077)
        except subprocess.TimeoutExpired as error:
            raise ServerError(
                f"the Neo4j launcher ({main.rsplit('.', 1)[-1]} {args[0]}) did not finish within 180 s in "
                f"{self.neo4j_home}; is the machine overloaded? See {self.logs_dir}"
            ) from error

    def _wait_for_bolt(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        auth = (USER, self.password())
        while time.monotonic() < deadline:
            if not self.is_running():
                raise ServerError(f"Neo4j stopped while starting ({self.neo4j_home}):\n{self._log_tail()}")
            try:
                with neo4j.GraphDatabase.driver(self.bolt_uri, auth=auth, connection_timeout=2) as driver:
                    driver.verify_connectivity()
                return
            except AuthError as error:
                raise ServerError(
                    f"Neo4j at {self.bolt_uri} refused the password recorded in {self.password_file}: {error}"
                ) from error
            except (ServiceUnavailable, OSError):
                time.sleep(0.5)
        self.stop()
        raise ServerError(
            f"Neo4j did not answer on {self.bolt_uri} within {timeout:.0f}s; it was stopped. "
            f"Log tail ({self.logs_dir}):\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        log = self.logs_dir / "neo4j.log"
        if not log.is_file():
            return "(no log written)"
        text = log.read_text(encoding="utf-8", errors="replace")
        return f"{self._tail(text)}\n(more in {self.logs_dir / 'debug.log'})"

    @staticmethod
    def _tail(text: str, lines: int = 20) -> str:
        return "\n".join(text.strip().splitlines()[-lines:])

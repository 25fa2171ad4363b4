"""A private, throwaway MariaDB server for the demo, the tests and the benchmarks.

It gets its own data directory, socket and loopback port, has `local_infile`
on, and is stopped (and its files removed) when the context exits.  When
`HZFLOW_TEST_SOCKET` or `HZFLOW_TEST_HOST` names an existing server, that one
is used instead and nothing is started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pymysql


def _find(binary: str) -> str:
    for candidate in (shutil.which(binary), f"/usr/sbin/{binary}", f"/usr/bin/{binary}"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        f"{binary} is not installed; on Debian: sudo apt-get install mariadb-server mariadb-client"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """Where a MariaDB server is and how to log into it as an administrator."""

    socket: str | None = None
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)
    datadir: Path | None = None

    def db_config(self, **extra) -> dict:
        """The `db:` section of an hzflow config pointing at this server."""
        cfg = {"user": self.user, "password": self.password}
        if self.socket:
            cfg["socket"] = self.socket
        else:
            cfg.update(host=self.host, port=self.port)
        cfg.update(extra)
        return cfg

    def connect(self, database: str | None = None, **kw) -> pymysql.Connection:
        args = dict(user=self.user, password=self.password, database=database,
                    charset="utf8mb4", local_infile=True, autocommit=True)
        if self.socket:
            args.update(unix_socket=self.socket, ssl_disabled=True)
        else:
            args.update(host=self.host, port=self.port)
        args.update(kw)
        return pymysql.connect(**args)


def existing_server_from_env() -> Server | None:
    sock, host = os.environ.get("HZFLOW_TEST_SOCKET"), os.environ.get("HZFLOW_TEST_HOST")
    if not (sock or host):
        return None
    return Server(socket=sock, host=host or "127.0.0.1",
                  port=int(os.environ.get("HZFLOW_TEST_PORT", "3306")),
                  user=os.environ.get("HZFLOW_TEST_USER", "root"),
                  password=os.environ.get("HZFLOW_TEST_PASSWORD", ""))


# mariadbd refuses a socket path longer than 107 bytes (sockaddr_un)
SOCKET_PATH_MAX = 100


def start(base_dir: str | Path | None = None, *, buffer_pool: str = "1G") -> Server:
    """Initialise a datadir and start mariadbd on it; returns once it accepts logins."""
    root = Path(tempfile.mkdtemp(prefix="hzflow-mariadb-", dir=base_dir))
    datadir, sock, tmpdir = root / "data", root / "mysqld.sock", root / "tmp"
    if len(str(sock)) > SOCKET_PATH_MAX:       # a deep base_dir (a test's tmp_path): the socket goes to a short one
        sock = Path(tempfile.mkdtemp(prefix="hzflow-sock-")) / "mysqld.sock"
    datadir.mkdir()
    tmpdir.mkdir()
    as_root = os.geteuid() == 0
    user_args = ["--user=root"] if as_root else []
    init = subprocess.run(
        [_find("mariadb-install-db"), "--no-defaults", f"--datadir={datadir}",
         "--auth-root-authentication-method=normal", "--skip-test-db", f"--tmpdir={tmpdir}", *user_args],
        capture_output=True, text=True)
    if init.returncode:
        raise RuntimeError(f"mariadb-install-db failed:\n{init.stdout}\n{init.stderr}")
    port = _free_port()
    log = open(root / "mysqld.log", "w")
    proc = subprocess.Popen(
        [_find("mariadbd"), "--no-defaults", f"--datadir={datadir}", f"--socket={sock}",
         f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={root / 'mysqld.pid'}", f"--tmpdir={tmpdir}",
         "--local-infile=1", "--skip-log-bin", f"--innodb-buffer-pool-size={buffer_pool}",
         "--innodb-log-file-size=256M", "--innodb-flush-log-at-trx-commit=2",
         "--character-set-server=utf8mb4", "--max-allowed-packet=256M",
         "--skip-name-resolve", *user_args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(socket=str(sock), port=port, process=proc, datadir=root)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"mariadbd exited at start-up; see {root / 'mysqld.log'}:\n"
                               + (root / "mysqld.log").read_text()[-2000:])
        try:
            server.connect().close()
            return server
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline:
                stop(server)
                raise RuntimeError("mariadbd did not accept connections within 60 s") from None
            time.sleep(0.2)


def stop(server: Server) -> None:
    """Stop a server started by start() and remove its files; no-op for existing servers."""
    if server.process is None:
        return
    server.process.terminate()
    try:
        server.process.wait(30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    remove_files(server.datadir, server.socket)


def remove_files(root, socket) -> None:
    """A stopped server's directory, and the short one its socket had when the directory's path was long."""
    if root:
        shutil.rmtree(root, ignore_errors=True)
    if socket and Path(socket).parent.name.startswith("hzflow-sock-"):
        shutil.rmtree(Path(socket).parent, ignore_errors=True)


class private_server:
    """Context manager: an existing server from the environment, or a fresh private one."""

    def __init__(self, base_dir: str | Path | None = None, **start_options):
        self.base_dir, self.start_options = base_dir, start_options
        self.server: Server | None = None

    def __enter__(self) -> Server:
        self.server = existing_server_from_env() or start(self.base_dir, **self.start_options)
        return self.server

    def __exit__(self, *exc) -> None:
        if self.server:
            stop(self.server)

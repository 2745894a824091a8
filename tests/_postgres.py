"""A throwaway PostgreSQL server for the tests (Debian's ``postgresql`` package).

Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin (off PATH) and they refuse
to run as root, so as root the data directory is made for, and the server run as, the
``postgres`` user. The server listens on 127.0.0.1 on a free port with trust authentication and
is stopped (its directory deleted) when the context exits.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class NoPostgres(RuntimeError):
    """No server could be started here; the message says why."""


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("postgres")
    if which:
        return Path(which).parent
    raise NoPostgres(
        "no PostgreSQL server binaries (Debian package 'postgresql'; .ci/run installs it)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server(dbname: str = "lilib_test") -> Iterator[str]:
    """Start a server, create ``dbname``; yields its ``postgresql://`` URL."""
    bindir = _bindir()
    as_user: list[str] = []
    datadir = Path(tempfile.mkdtemp(prefix="lilib-pg-"))
    if os.geteuid() == 0:
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(datadir, ignore_errors=True)
            raise NoPostgres("running as root and there is no 'postgres' user") from None
        os.chown(datadir, pg.pw_uid, pg.pw_gid)
        runuser = shutil.which("runuser")
        as_user = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-c"]
        if not runuser:
            raise NoPostgres("running as root and no 'runuser' to drop to the postgres user")
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C"}
    log = datadir / "server.log"
    proc = None
    log_file = open(log, "wb")  # noqa: SIM115 - the server writes to it until it stops
    try:
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", str(datadir / "data"), "-A", "trust",
             "-U", "lilib", "-E", "UTF8"],
            check=True, capture_output=True, env=env, timeout=120,
        )  # fmt: skip
        proc = subprocess.Popen(
            [*as_user, str(bindir / "postgres"), "-D", str(datadir / "data"), "-h", "127.0.0.1",
             "-p", str(port), "-k", str(datadir), "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=log_file, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise NoPostgres(f"server did not start: {log.read_text(errors='replace')[-500:]}")
            time.sleep(0.2)
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "lilib", dbname],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield f"postgresql://lilib@127.0.0.1:{port}/{dbname}"
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        out = getattr(exc, "stderr", b"") or b""
        raise NoPostgres(f"{exc}: {out.decode(errors='replace')[-500:]}") from None
    finally:
        if proc is not None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
            if proc.poll() is None:
                proc.kill()
        log_file.close()
        shutil.rmtree(datadir, ignore_errors=True)

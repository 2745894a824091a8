"""Start JupyterLab on notebooks/, bound to 127.0.0.1 with a random token, and print its URL."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port(start: int = 8888) -> int:
    """First free TCP port on 127.0.0.1 at or above ``start``."""
    for port in range(start, start + 100):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8888-8987 on 127.0.0.1")


def main() -> None:
    port = int(os.environ.get("LILIB_LAB_PORT", 0)) or free_port()
    token = os.environ.get("LILIB_LAB_TOKEN") or secrets.token_hex(24)
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    print(f"\nJupyterLab for lilib: {url}\n(stop with Ctrl-C)\n", flush=True)
    args = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    os.execv(sys.executable, args)


if __name__ == "__main__":
    main()

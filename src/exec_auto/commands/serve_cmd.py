"""`exec-auto serve [--port N]`: browse every report of the repository on 127.0.0.1."""

from __future__ import annotations

import argparse
from pathlib import Path

from exec_auto.errors import ExecAutoError
from exec_auto.repo import find_root


def main(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from exec_auto.review.serve import make_server

    root = find_root(Path.cwd())
    try:
        server = make_server(root, args.port)
    except OSError as exc:
        raise ExecAutoError(
            f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}",
            hint="pick another port with --port (0 chooses a free one)",
        ) from None
    print(
        f"Serving the reports of {root} on http://127.0.0.1:{server.server_port}/ "
        "(localhost only; Ctrl-C stops)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0

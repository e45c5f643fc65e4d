"""`mljobs serve`: run the MCP server over stdio (for Claude Desktop/Code, Cursor, VS Code, Cortex Code) or HTTP.

stdout is the stdio channel: everything else (logs, library output) goes to stderr. No Snowflake login happens
at start; the session opens on the first Snowflake operation.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from ..errors import UsageError
from .common import add_backend_options, settings_from_args

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def register(subparsers: Any) -> None:
    """Add the `serve` verb."""
    p = subparsers.add_parser(
        "serve",
        help="run the MCP server (stdio by default) for AI assistants",
        description="Serve the mljobs tools over MCP. stdio is what desktop assistants launch; "
        "--transport http serves streamable HTTP at http://HOST:PORT/mcp.",
    )
    p.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    p.add_argument(
        "--host", default="127.0.0.1", help="HTTP bind address (default: 127.0.0.1, loopback only)"
    )
    p.add_argument("--port", type=int, default=8765, help="HTTP port (default: 8765)")
    p.add_argument(
        "--read-only",
        action="store_true",
        help="serve only tools without side effects (no submit, cancel, delete)",
    )
    p.add_argument(
        "--root",
        action="append",
        default=[],
        metavar="DIR",
        help="only read scripts inside DIR (repeatable; default: anywhere the user points)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding HTTP to a non-loopback address; needs --allowed-host and a bearer token "
        "in $MLJOBS_HTTP_TOKEN (32+ characters)",
    )
    p.add_argument("--allowed-host", action="append", default=[], metavar="HOST[:PORT]",
                   help="with --allow-remote: a Host header clients may send (repeatable)")
    p.add_argument("--allowed-origin", action="append", default=[], metavar="ORIGIN",
                   help="with --allow-remote: an Origin header browsers may send (repeatable)")
    add_backend_options(p)  # --backend, --connection-name, --database, --schema, --warehouse, --role
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the server and serve until the client disconnects (stdio) or the process is stopped (HTTP)."""
    from dataclasses import replace

    from ..mcp import build_server

    if args.transport == "http" and args.host not in LOOPBACK_HOSTS and not args.allow_remote:
        raise UsageError(
            f"--host {args.host} is not a loopback address; use 127.0.0.1, or pass --allow-remote with "
            "--allowed-host and a bearer token in $MLJOBS_HTTP_TOKEN"
        )
    remote = args.transport == "http" and args.allow_remote
    if remote:  # checked before anything starts: no token or no allow-list, no server
        from ..http_auth import remote_security, token_from_env

        token = token_from_env()
        remote_security(args.allowed_host, args.allowed_origin)
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port; use 1-65535")
    # Libraries log to stderr, never stdout (the stdio channel); the CLI already set the level from -v.
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    settings = replace(settings_from_args(args), read_only=args.read_only)
    server = build_server(settings, roots=args.root)
    if args.transport == "stdio":
        server.run("stdio")  # the SDK points fd 1 at stderr while serving, so stray prints miss the wire
    elif remote:
        import uvicorn

        from ..http_auth import remote_app

        app = remote_app(server, host=args.host, allowed_hosts=args.allowed_host,
                         allowed_origins=args.allowed_origin, token=token)
        print(f"mljobs: serving MCP at http://{args.host}:{args.port}/mcp (bearer token required; "
              f"hosts: {', '.join(args.allowed_host)})", file=sys.stderr)
        uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")).run()
    else:
        print(f"mljobs: serving MCP at http://{args.host}:{args.port}/mcp", file=sys.stderr)
        server.run("streamable-http", host=args.host, port=args.port)
    return 0

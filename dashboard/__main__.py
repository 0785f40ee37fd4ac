"""`python -m dashboard`: serve the live dashboard on this machine and print its address.

`python -m dashboard export --preset <lesson> --out page.html` writes a lesson as one offline page instead.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from dashboard import assets, export


class Parser(argparse.ArgumentParser):
    """argparse, with a bad argument told in one line (no usage block) and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def port_number(text: str) -> int:
    """An argparse type: a TCP port 1..65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port={text} is not allowed: give a whole number 1..65535")
    return int(text)


def main(argv: list[str] | None = None) -> None:
    """Check the address is free, make sure the page's front-end files are at hand, then run `solara run`."""
    parser = Parser(prog="python -m dashboard", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8765, help="port to listen on (default 8765)")
    parser.add_argument("--open", action="store_true", help="also open the page in a browser")
    commands = parser.add_subparsers(dest="command", metavar="export", parser_class=Parser)
    exporter = commands.add_parser("export", help="write a lesson as one self-contained offline HTML page",
                                   description=export.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_arguments(exporter)
    args = parser.parse_args(argv)
    if args.command == "export":
        export.run(args, exporter)
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a closed port is free
        try:
            probe.bind((args.host, args.port))
        except OSError as err:
            parser.exit(2, f"dashboard: error: --host={args.host} --port={args.port} cannot be used ({err.strerror}): "
                           "choose another with --port\n")
    env = dict(os.environ)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # a classroom page does not report usage
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "false")  # solara's corner banner covers the last chart's axis
    notice = assets.ensure(env)
    if notice:
        print(f"dashboard: note: {notice}", file=sys.stderr, flush=True)
    shown = "localhost" if args.host in ("127.0.0.1", "localhost") else args.host  # 127.0.0.1 drops the cookie
    print(f"Empathy market dashboard: http://{shown}:{args.port}  (Ctrl-C stops it)", flush=True)
    command = [sys.executable, "-m", "solara", "run", "dashboard.app", "--host", args.host, "--port", str(args.port),
               "--production", "--open" if args.open else "--no-open", "--log-level", "warning"]
    os.execve(sys.executable, command, env)


if __name__ == "__main__":
    main()

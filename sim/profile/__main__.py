"""`python -m sim.profile`: write a starting profile for an industry, or show what a profile sets in the model.

python -m sim.profile init --industry coffee_shop > my_shop.yaml
python -m sim.profile show my_shop.yaml
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sim.app import USER_ERROR, OneLineParser
from sim.config import ConfigError
from sim.profile import derive, fields, template


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `init` prints a template, `show` prints a profile's derivation; one-line errors, exit 2."""
    p = OneLineParser(prog="python -m sim.profile", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="print a commented profile for an industry")
    init.add_argument("--industry", required=True, help=f"one of {', '.join(template.industries())}")
    show = sub.add_parser("show", help="check a profile and print what it sets in the model")
    show.add_argument("profile", help="a profile file (YAML)")
    for parser in (init, show):
        parser.error = p.error  # one line, exit 2, from the subcommands too
    args = p.parse_args(argv)
    try:
        if args.command == "init":
            sys.stdout.write(template.text(args.industry))
        else:
            print(derive.table(derive.derive(fields.read(args.profile))))
    except ConfigError as err:
        print(f"python -m sim.profile: error: {err}", file=sys.stderr)
        return USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line of the pack's tooling: `python -m compute_abuse catalog`."""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compute_abuse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("catalog", help="regenerate global_helpers/ec2_instance_catalog.py")
    args = parser.parse_args(argv)

    if args.command == "catalog":
        from compute_abuse import catalog

        print(f"wrote {catalog.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

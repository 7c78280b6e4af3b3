"""`python -m compute_abuse ...`: see compute_abuse/cli.py."""

import sys

from compute_abuse.cli import main

if __name__ == "__main__":
    sys.exit(main())

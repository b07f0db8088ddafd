"""``python -m mlearn demo`` and ``python -m mlearn compare``; see ``--help``."""

import sys

from mlearn._cli import main

if __name__ == "__main__":
    sys.exit(main())

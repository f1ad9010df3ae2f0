"""``python -m rtbus``: the same command line as the ``rtbus`` script."""

import sys

from .cli import main

sys.exit(main())

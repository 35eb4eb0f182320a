"""Run the command line with ``python -m cxmodel`` (the same as the ``cxmodel`` command)."""

import sys

from cxmodel.cli import main

sys.exit(main())

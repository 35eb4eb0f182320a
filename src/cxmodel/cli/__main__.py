"""Run the command line with ``python -m cxmodel.cli``."""

import sys

from cxmodel.cli._main import main

sys.exit(main())

"""``python -m pycnn`` runs the ``pycnn`` command."""

import sys

from pycnn.cli import main

sys.exit(main())

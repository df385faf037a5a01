"""``python -m needleplan`` runs the command line."""

import sys

from needleplan.cli import main

sys.exit(main())

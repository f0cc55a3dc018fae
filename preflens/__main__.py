"""``python -m preflens`` (also what ``accelerate launch -m preflens`` runs)."""

import sys

from preflens.cli.main import main

sys.exit(main())

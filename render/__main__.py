"""``python -m render`` runs the ``moodgrade`` command."""

import sys

from render.cli import main

sys.exit(main())

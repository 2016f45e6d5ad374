"""``python -m service.cli``: the ``streetwatch`` command."""

import sys

from service.cli import main

sys.exit(main())

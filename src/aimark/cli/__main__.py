"""``python -m aimark.cli``: the same as ``python -m aimark``."""

import sys

from aimark.cli import main

sys.exit(main())

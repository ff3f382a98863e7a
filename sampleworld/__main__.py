"""`python -m sampleworld [--out DIR] [--seed N] [--no-video]`: see sampleworld.cli."""

import sys

from sampleworld.cli import main

sys.exit(main())

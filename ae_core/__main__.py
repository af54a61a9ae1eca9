"""`python -m ae_core ...`: see ae_core.cli."""
import sys

from .cli import main

sys.exit(main())

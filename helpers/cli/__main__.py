"""``python -m helpers.cli``: the same as the ``auth-flows-lab`` console script."""
import sys

from .app import main

sys.exit(main())

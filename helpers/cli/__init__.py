"""The ``auth-flows-lab`` command line: :mod:`helpers.cli.app` (the parser and subcommands) and
:mod:`helpers.cli.text` (what it prints, as pure functions)."""
from .app import main

__all__ = ["main"]

"""`python -m lab` / `authlab`: the command line, one module per command group (see dispatch.py)."""

from .dispatch import build_parser, main

__all__ = ["build_parser", "main"]

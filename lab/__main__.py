"""`python -m lab ...`: see lab/cli.py."""

from .cli import main

raise SystemExit(main())

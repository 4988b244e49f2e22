"""`python -m lab ...`: see lab/cli.py."""

from .cli.dispatch import main

raise SystemExit(main())

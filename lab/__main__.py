"""`python -m lab ...`: see lab/cli/dispatch.py."""

from .cli.dispatch import main

raise SystemExit(main())

"""`python -m lab.experiments.push`: see cli.py."""

from .cli import main

raise SystemExit(main())

"""`python -m lab.experiments.push`: see cli.py."""

from .command import main

raise SystemExit(main())

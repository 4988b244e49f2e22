"""Puts the repository on `sys.path`: Jupyter starts a notebook's kernel in `notebooks/`, and the
notebooks import `lab.experiments` from the repository root. Imported by each notebook's first
code cell; it does nothing else.
"""

import sys
from pathlib import Path

#: The repository root (the directory holding `lab/` and `servers/`).
ROOT = Path(__file__).resolve().parents[1]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

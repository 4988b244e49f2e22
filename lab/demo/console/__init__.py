"""The stolen-cookie console: a page the lab serves, victim and attacker side by side.

`python -m lab console` or `python -m lab demo stolen-cookie --browser`; see `serve.py`.
"""

from .serve import main, start

__all__ = ["main", "start"]

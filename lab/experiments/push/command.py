"""`python -m lab push`: run the study on a private lab, print it, keep the JSON."""

from __future__ import annotations

import argparse
import json

from ..labs import LabPool
from ..sizes import get_scale
from . import __doc__ as STUDY
from .study import study
from .tables import print_study


def main(argv: list[str] | None = None) -> int:
    """`python -m lab push`: run the study on a private lab and print it."""
    parser = argparse.ArgumentParser(prog="python -m lab push", description=STUDY)
    parser.add_argument("--json", help="also write the raw results to this file")
    args = parser.parse_args(argv)
    with LabPool(get_scale(), log=print) as pool:
        result = study(pool)
    print_study(result)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1, default=str)
    return 0

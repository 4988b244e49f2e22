"""What a notebook says about its run: the report's verdict builders, printed with their data.

`show("failover_verdict", {"failover": result})` prints the sentences the builder makes from the
data, and hands Jupyter the data beside them (a `application/vnd.authlab.verdict+json` output),
so that the notebook test can build the verdict again from what the notebook printed and fail
when text and numbers part.
"""

from __future__ import annotations

import json
from typing import Any

from .text_verdicts import VERDICTS

MIME = "application/vnd.authlab.verdict+json"


def verdict(name: str, results: dict[str, Any]) -> list[str]:
    """The sentences builder `name` makes from `results`."""
    return VERDICTS[name](results)


def show(name: str, results: dict[str, Any]) -> None:
    """Print the verdict of `results`; in Jupyter, keep the data next to it."""
    # A round trip through JSON: the test rebuilds the verdict from exactly what was stored.
    data = json.loads(json.dumps(results, default=str))
    sentences = verdict(name, data)
    text = "\n".join(sentences) or "(no verdict: the experiment returned no data)"
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the text is all there is
        print(text)
        return
    if get_ipython() is None:
        print(text)
        return
    display({"text/plain": text, MIME: {"builder": name, "data": data}}, raw=True)

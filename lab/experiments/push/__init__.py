"""Can we have both? Push mode (and the cached session store) measured beside the others.

Five measurements, each from real processes, each in its own module:
- `race`: the revocation window per replica from the attacker's side. One attacker thread per
  replica hammers it *directly* (no balancer, no pause) with a stolen copy while the victim
  revokes; per replica we keep the last request it still let in, measured from the revocation's
  answer (`window_ms`: what the API's `revoked` must answer for) and from when the revocation
  was sent (`exposure_ms`: how long the news took to arrive);
- `round_trips`: store commands per authenticated request, counted by Redis (INFO
  commandstats), with the background traffic of an equally long idle period subtracted;
- `footprint.memory`: bytes per revoked token and per revoked user, in a replica's memory
  (tracemalloc) and in Redis (MEMORY USAGE), for push and for the denylist;
- `footprint.warmup`: what a (re)starting replica pays to read the stream before it trusts its
  memory;
- `outage`: what each replica answers, every 50 ms, across a Redis outage longer than the bound.

`study` runs them all, `tables` prints them, `command` is the command:

    python -m lab push            # quick scale, prints the tables, stamped
    AUTHLAB_SCALE=full python -m lab push --json push.json
"""

from .configs import CONFIGS, LONG_TTL, SLOW, long_lived
from .footprint import memory, restart_warmup, warmup
from .outage import outage, outage_summary, outage_table
from .race import SETTLE, config_windows, percentile, race, window_summary, windows
from .round_trips import round_trip_table, round_trips
from .study import stamp, study
from .tables import print_study

__all__ = [
    "CONFIGS",
    "LONG_TTL",
    "SETTLE",
    "SLOW",
    "config_windows",
    "long_lived",
    "memory",
    "outage",
    "outage_summary",
    "outage_table",
    "percentile",
    "print_study",
    "race",
    "restart_warmup",
    "round_trip_table",
    "round_trips",
    "stamp",
    "study",
    "warmup",
    "window_summary",
    "windows",
]

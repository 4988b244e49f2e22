"""Experiments on a running lab: each returns tidy data (lists of dicts), `plots` draws them.

Shared by the notebooks, `python -m lab report` and the tests. Every experiment takes its sizes as
arguments, so it runs in seconds (tests, CI) or minutes (a study); `Scale` names two such sets.
"""

from . import plots
from .actors import Account, Client, admin, auth_cost, probe, register
from .anatomy import bytes_per_session, credential_anatomy, decode_jwt, store_footprint
from .display import Table, table
from .failures import fault_timeline
from .labs import LabPool
from .load import Sample, Target, error_series, percentile, run_load, summarize
from .revocation import (
    ACTIONS,
    CONFIGURATIONS,
    Configuration,
    cost_of_checking,
    measure_actions,
    measure_window,
    revocation_study,
    window_table,
)
from .scaling import memory_store_refusals, throughput_by_replicas
from .sizes import FULL, QUICK, Scale, get_scale
from .stolen import refresh_token_theft, stolen_cookie_timeline

__all__ = [
    "ACTIONS",
    "CONFIGURATIONS",
    "FULL",
    "QUICK",
    "Account",
    "Client",
    "Configuration",
    "LabPool",
    "Sample",
    "Scale",
    "Table",
    "Target",
    "admin",
    "auth_cost",
    "bytes_per_session",
    "cost_of_checking",
    "credential_anatomy",
    "decode_jwt",
    "error_series",
    "fault_timeline",
    "get_scale",
    "plots",
    "measure_actions",
    "measure_window",
    "memory_store_refusals",
    "percentile",
    "probe",
    "refresh_token_theft",
    "register",
    "revocation_study",
    "run_load",
    "stolen_cookie_timeline",
    "store_footprint",
    "summarize",
    "table",
    "throughput_by_replicas",
    "window_table",
]

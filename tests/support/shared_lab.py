"""One lab for the experiment, report, demo and notebook tests (they run in one pytest process).

A lab start costs seconds, and the experiments reconfigure a lab rather than start one: so the
report test, the demo test and every notebook share this one, through AUTHLAB_EXPERIMENT_LAB
(the notebooks' kernels inherit it). It lives in a private temporary directory, never `.lab/`,
and stops when the last fixture holding it is torn down.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from lab import Lab
from lab.experiments import QUICK
from lab.experiments.labs import SHARED_LAB_ENV

_lab: Lab | None = None
_holders = 0
_previous_env: str | None = None


def acquire() -> Lab:
    """The shared lab, started on first use; every acquire needs a release."""
    global _lab, _holders, _previous_env
    if _lab is None:
        state_dir = tempfile.mkdtemp(prefix="authlab-exp-")
        lab = Lab(
            replicas=QUICK.replicas,
            bcrypt_rounds=QUICK.bcrypt_rounds,
            access_ttl=QUICK.access_ttl,
            state_dir=state_dir,
            timeout=60,
        )
        try:
            lab.up()
        except BaseException:
            lab.down()
            shutil.rmtree(state_dir, ignore_errors=True)
            raise
        _lab = lab
        _previous_env = os.environ.get(SHARED_LAB_ENV)
        os.environ[SHARED_LAB_ENV] = str(lab.state_dir)
    _holders += 1
    return _lab


def release() -> None:
    """Give the lab back; the last holder stops it and removes its directory."""
    global _lab, _holders
    _holders -= 1
    if _holders > 0 or _lab is None:
        return
    lab, _lab = _lab, None
    if _previous_env is None:
        os.environ.pop(SHARED_LAB_ENV, None)
    else:
        os.environ[SHARED_LAB_ENV] = _previous_env
    try:
        lab.down()
    finally:
        shutil.rmtree(lab.state_dir, ignore_errors=True)

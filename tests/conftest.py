"""Shared test configuration: Hypothesis profiles.

``dev`` (the default) is quick; ``ci`` runs more examples, derandomized so a
failure in CI reproduces. ``.ci/run`` selects ``ci`` through the
``ITSM_HYPOTHESIS_PROFILE`` environment variable.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=2000,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("ITSM_HYPOTHESIS_PROFILE", "dev"))

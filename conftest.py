"""Test configuration for every test path (tests, docs pages, doctests): Hypothesis profiles.

``ITSM_HYPOTHESIS_PROFILE`` selects one (``.ci/run`` selects ``ci``, ``make soak``
selects ``soak``):

* ``dev`` (the default): 100 examples per property, random, for quick local runs.
* ``ci``: 1,000 examples per property, derandomized: every run draws the same
  examples, so a red CI is red again on anyone's machine with the same profile,
  a change cannot fail CI because of a lucky draw, and the suite's time is the
  same from run to run. The price is that CI never explores new examples; that
  is what ``dev`` runs and ``soak`` are for. No health check is suppressed:
  a strategy that becomes slow or filters too much fails loudly here. (The count
  keeps the whole CI run, coverage included, inside ten minutes on two cores:
  at 2,000 it took 800-900 s.)
* ``soak``: forty times the ``ci`` examples (40,000 per property), random, with
  the example database (``.hypothesis/``) so a failure found is replayed on
  the next run. Not part of CI; run it before a release.
* ``mutate``: 30 examples per property, derandomized, for ``make mutate``: every
  mutant meets the same examples, so a mutant's verdict does not depend on a draw.

Properties that run a share of the profile's examples (``max_examples //
4``...) get the same share in every profile, so ``soak`` multiplies every
property by forty.

Examples in docstrings and docs pages (``find(strategy, condition)`` and what it
shrinks to) are documentation: they run derandomized in every profile, so what
the page shows is what every run finds.

The profiles live here, at the root, so that they hold for whichever paths a run
collects (``pytest docs`` alone included); ``tests/conftest.py`` adds what only the
test modules need.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from _pytest.doctest import DoctestItem
from hypothesis import settings

from itsm_core.testing import register_strategies

CI_EXAMPLES = 1000
SOAK_FACTOR = 40
PROFILE = os.environ.get("ITSM_HYPOTHESIS_PROFILE", "dev")

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=CI_EXAMPLES, derandomize=True, deadline=None, print_blob=True
)
settings.register_profile(
    "soak",
    max_examples=CI_EXAMPLES * SOAK_FACTOR,
    derandomize=False,
    deadline=None,
    print_blob=True,
)
settings.register_profile("mutate", max_examples=30, derandomize=True, deadline=None)
settings.load_profile(PROFILE)
settings.register_profile(
    "documented", parent=settings.get_profile(PROFILE), derandomize=True, database=None
)

# The suite registers the strategies itself rather than rely on when the entry
# point's import hook fires (coverage and xdist change the import order).
register_strategies()


@pytest.fixture(autouse=True)
def _documented_examples_are_derandomized(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run a doctest (module or page) under the ``documented`` profile, then restore."""
    if not isinstance(request.node, DoctestItem):
        yield
        return
    settings.load_profile("documented")
    try:
        yield
    finally:
        settings.load_profile(PROFILE)

"""itsm_core: a sans-I/O IT service management domain library.

Tickets as state machines, priority matrices, business-hours calendars, SLA
clocks, escalation rules and role permissions, as immutable values with no I/O.

>>> import itsm_core
>>> isinstance(itsm_core.__version__, str)
True
"""

from itsm_core._version import __version__
from itsm_core.errors import (
    ConfigurationError,
    InvalidTransition,
    InvalidValueError,
    ItsmError,
    NaiveDatetimeError,
    NeverOpenError,
    PermissionDenied,
    Problem,
)

__all__ = [
    "ConfigurationError",
    "InvalidTransition",
    "InvalidValueError",
    "ItsmError",
    "NaiveDatetimeError",
    "NeverOpenError",
    "PermissionDenied",
    "Problem",
    "__version__",
]

"""A short demonstration of itsm_core (``make demo``)."""

from __future__ import annotations

from datetime import datetime

import itsm_core
from itsm_core import ItsmError


def main() -> None:
    print(f"itsm_core {itsm_core.__version__}: a sans-I/O ITSM domain library")
    print("Public API:", ", ".join(itsm_core.__all__))
    try:
        from itsm_core._time import to_us

        to_us(datetime(2026, 3, 6, 16, 0), "ticket.opened_at")  # noqa: DTZ001 (naive on purpose)
    except ItsmError as exc:
        print("A naive datetime is refused:", exc)


if __name__ == "__main__":
    main()

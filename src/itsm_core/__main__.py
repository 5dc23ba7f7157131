"""``python -m itsm_core``: the ``itsm-core`` command."""

from itsm_core.cli import main

raise SystemExit(main())

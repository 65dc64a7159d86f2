"""``python -m res2netfuse.data fetch|verify|list``: see :mod:`res2netfuse.data.command`."""

from .command import main

raise SystemExit(main())

"""Sub-commands of the ``res2netfuse`` CLI; each module has ``add_parser(subparsers)``.

``add_parser`` registers the sub-command and sets ``run=callable(args) -> int`` as default.
"""

from . import data, fuse, metrics, train

COMMANDS = [train, fuse, metrics, data]

"""``rectrack``: the command line, a thin layer over the domain functions in ``models``.

Each command opens the store, calls one or two domain functions and prints the result; a refusal
becomes one line on stderr and exit status 1, never a traceback. One module per command group;
importing them here registers their commands on :data:`cli.common.app`.
"""

from cli import (  # noqa: F401  (registers the commands)
    closure,
    demo,
    handover,
    leadership,
    notify,
    offices,
    plans,
    records,
    setup,
    trail,
    users,
    workflow,
)
from cli.common import app

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()

"""The exit codes every ``olyscrape`` command shares (a scheduler reads them)."""

from __future__ import annotations

EXIT_OK = 0
#: The command ran and found a fault: a failed crawl, a broken point, a damaged archive.
EXIT_FAILED = 1
#: Bad usage: an option or argument that cannot be right (click's own code for it).
EXIT_USAGE = 2
#: Another process holds the archive's lock: nothing was touched.
EXIT_LOCKED = 3
#: ``browse``: the port is taken.
EXIT_PORT_BUSY = 4
#: ``crawl``, ``check``: the site never answered (its name not resolved, connections
#: refused or timed out): the network or the site is down, nothing says the site changed.
EXIT_UNREACHABLE = 5

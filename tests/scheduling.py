"""How the suite is shared among pytest-xdist workers.

By file, as ``--dist loadfile`` does, so that a module's fixtures (Chromium, a synced
store) start once per file; except that the files which use Prefect's test server all
go to one worker as one unit, since starting that server costs each worker that starts
it seconds of both cores. That unit goes first and the files follow, most tests first:
the largest pieces of work start early instead of finishing last on one worker while
the others wait.

(xdist's own ``--dist loadgroup`` cannot do this under pytest 9: it renames node ids
through an attribute pytest no longer reads. The scheduler sees only node ids, so a
file is known to need Prefect by its text naming the ``prefect_harness`` fixture.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

PREFECT_GROUP = "prefect"


class FileOrPrefectScheduling(LoadScopeScheduling):
    """A test's unit of work is its file, or the Prefect group."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return PREFECT_GROUP if _uses_prefect(self.config.rootpath / path) else path

    def _assign_work_unit(self, node) -> None:
        # The base class queued the units by their number of tests; the group first.
        if PREFECT_GROUP in self.workqueue:
            self.workqueue.move_to_end(PREFECT_GROUP, last=False)
        super()._assign_work_unit(node)


@cache
def _uses_prefect(path: Path) -> bool:
    return path.is_file() and "prefect_harness" in path.read_text(encoding="utf-8")

"""How the suite is shared among pytest-xdist workers.

By file, as ``--dist loadfile`` does, so that a module's fixtures (Chromium, a synced
store) start once per file; except that the files which use Prefect's test server go
to workers in two units, not one each, since starting that server costs each worker
that starts it seconds of both cores. One unit would be cheapest, but it grew to most
of a run's wall time on one worker while the others had finished; two units of about
equal size pay the server twice and finish with the rest. The Prefect units go first
and the files follow, most tests first: the largest pieces of work start early instead
of finishing last on one worker while the others wait.

(xdist's own ``--dist loadgroup`` cannot do this under pytest 9: it renames node ids
through an attribute pytest no longer reads. The scheduler sees only node ids, so a
file is known to need Prefect by its text naming the ``prefect_harness`` fixture.)
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

PREFECT_UNITS = ("prefect-1", "prefect-2")


class FileOrPrefectScheduling(LoadScopeScheduling):
    """A test's unit of work is its file, or one of the Prefect units."""

    _prefect_unit_of: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        path = _file_of(nodeid)
        if not _uses_prefect(self.config.rootpath / path):
            return path
        if self._prefect_unit_of is None:
            self._prefect_unit_of = self._share_prefect_files()
        return self._prefect_unit_of[path]

    def _share_prefect_files(self) -> dict[str, str]:
        """Each Prefect file to a unit: the largest first, each to the smaller unit.

        Sizes are the files' numbers of tests, the one measure the scheduler has."""
        tests_in = Counter(_file_of(nodeid) for nodeid in self.collection or ())
        prefect_files = [f for f in tests_in if _uses_prefect(self.config.rootpath / f)]
        size = dict.fromkeys(PREFECT_UNITS, 0)
        unit_of = {}
        for path in sorted(prefect_files, key=lambda f: (-tests_in[f], f)):
            unit = min(PREFECT_UNITS, key=lambda u: size[u])
            unit_of[path] = unit
            size[unit] += tests_in[path]
        return unit_of

    def _assign_work_unit(self, node) -> None:
        # The base class queued the units by their number of tests; Prefect's first.
        for unit in reversed(PREFECT_UNITS):
            if unit in self.workqueue:
                self.workqueue.move_to_end(unit, last=False)
        super()._assign_work_unit(node)


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


@cache
def _uses_prefect(path: Path) -> bool:
    return path.is_file() and "prefect_harness" in path.read_text(encoding="utf-8")

"""How the suite is shared among pytest-xdist workers.

By file, as ``--dist loadfile`` does, so that a module's fixtures (Chromium, a synced
store) start once per file; except that the files which use Prefect's test server go
to workers in two units, since starting that server costs each worker that starts it
seconds of both cores. (With four workers, one unit was the suite's longest pole once
the fleet's tests came, finishing alone; two start the server twice, and halve the
pole.) The units are balanced by the files' sizes, a rough but stable measure of their
work. They go first and the files follow, most tests first: the largest pieces of work
start early instead of finishing last on one worker while the others wait.

(xdist's own ``--dist loadgroup`` cannot do this under pytest 9: it renames node ids
through an attribute pytest no longer reads. The scheduler sees only node ids, so a
file is known to need Prefect by its text naming the ``prefect_harness`` fixture.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

PREFECT_GROUPS = ("prefect-1", "prefect-2")


class FileOrPrefectScheduling(LoadScopeScheduling):
    """A test's unit of work is its file, or one of the Prefect groups."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return _prefect_groups(self.config.rootpath).get(path, path)

    def _assign_work_unit(self, node) -> None:
        # The base class queued the units by their number of tests; the groups first.
        for group in reversed(PREFECT_GROUPS):
            if group in self.workqueue:
                self.workqueue.move_to_end(group, last=False)
        super()._assign_work_unit(node)


@cache
def _prefect_groups(root: Path) -> dict[str, str]:
    """Each test file that uses Prefect's test server → its group: the largest files
    first, each to the group with less so far."""
    sizes = {
        path.relative_to(root).as_posix(): len(text)
        for path in (root / "tests").rglob("test_*.py")
        if "prefect_harness" in (text := path.read_text(encoding="utf-8"))
    }
    load = dict.fromkeys(PREFECT_GROUPS, 0)
    groups: dict[str, str] = {}
    for path, size in sorted(sizes.items(), key=lambda item: (-item[1], item[0])):
        lightest = min(PREFECT_GROUPS, key=lambda group: (load[group], group))
        groups[path] = lightest
        load[lightest] += size
    return groups

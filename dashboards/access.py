"""Who may read a tenant's statistics: any operator account with a grant at that
tenant (the analyst role exists for this; administrators and operators may too).
Another tenant's statistics answer 404, as every operator page does.

The one place that ties the dashboards to the booking app's operator login: to use
another login, point :data:`StatsReaderDep` at it.
"""

from __future__ import annotations

from booking_app.admin.deps import Grant, GrantDep

StatsReader = Grant
StatsReaderDep = GrantDep

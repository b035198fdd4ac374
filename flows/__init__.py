"""Prefect flows: they orchestrate connectors and validations, and own no I/O of their own."""

from connectors.privacy import install_log_scrubbing

# Prefect runs a flow in a process that imports the flow's module, so the package's
# import is the one place every flow run (served, scheduled, or called) passes through.
install_log_scrubbing()

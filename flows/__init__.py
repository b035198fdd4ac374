"""Prefect flows: they orchestrate connectors and validations, and own no I/O of their own."""

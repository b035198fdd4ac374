"""Judging data: Great Expectations suites for what the sync reads from Opus, and
the reasons a refused row is quarantined with."""

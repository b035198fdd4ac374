"""Opus Online: application-wide settings and the `opus-online` command."""

"""A tenant's colour scheme (*Media → färgschema*) as CSS custom properties.

Served as ``/theme.css`` so the Content-Security-Policy can stay ``style-src 'self'``
with no inline styles and no nonces.
"""

from __future__ import annotations

import re

DEFAULT_PRIMARY = "#1F5F8B"
DEFAULT_ACCENT = "#F5C518"
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def safe_colour(value: str | None, default: str) -> str:
    """``value`` if it is a ``#RRGGBB`` colour, else ``default``. The store refuses
    anything else already; this text goes into CSS, so the page checks once more."""
    return value if value and _HEX.fullmatch(value) else default


def readable_on(colour: str) -> str:
    """Black or white, whichever reads better on ``colour`` (WCAG relative luminance),
    so that a tenant's pale primary colour does not make white heading text vanish."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05); they are
    # equal where L is about 0.179.
    return "#000000" if luminance > 0.179 else "#FFFFFF"


def theme_css(primary: str | None, accent: str | None) -> str:
    primary = safe_colour(primary, DEFAULT_PRIMARY)
    accent = safe_colour(accent, DEFAULT_ACCENT)
    return (
        ":root {\n"
        f"  --color-primary: {primary};\n"
        f"  --color-on-primary: {readable_on(primary)};\n"
        f"  --color-accent: {accent};\n"
        f"  --color-on-accent: {readable_on(accent)};\n"
        "}\n"
    )

"""*Avancerat*: the operator's web-analytics script on the tenant's booking pages.

Only an administrator can set it (see the operator pages), and it runs only in that
tenant's analytics frame (``/analys``, :mod:`booking_app.tracking`), sandboxed into an
opaque origin; our pages' own policy stays ``'self'``. The frame's policy allows
exactly what the snippet needs:

- ``<script src="https://x/…">``: that origin may serve scripts;
- inline code: its SHA-256 hash (so no ``'unsafe-inline'``);
- every ``https://`` origin its scripts name: scripts, connections and images from it
  (analytics send their hits there: fetch/beacon or a pixel).

The snippet is not pasted into the page as written: it is parsed, and only script
elements are rebuilt from it (``src``, ``async``, ``defer``, ``data-*`` and a few
harmless attributes); any other markup in it is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from booking_app.security import CspExtra

_ORIGIN = re.compile(r"https://[a-z0-9.-]+(?::\d{1,5})?", re.IGNORECASE)
_KEPT_ATTRIBUTES = frozenset({"src", "async", "defer", "id", "crossorigin", "integrity", "type"})
_SCRIPT_TYPES = frozenset({"", "text/javascript", "module", "application/javascript"})


@dataclass(frozen=True)
class Snippet:
    """What goes into the page, and what the policy must allow for it."""

    html: str
    csp: CspExtra


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[list[tuple[str, str | None]], str]] = []
        self._open: list[tuple[str, str | None]] | None = None
        self._code: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open, self._code = attrs, []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._code.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.scripts.append((self._open, "".join(self._code)))
            self._open = None


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"https://{parts.hostname}{port}"


def _hash(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"


@lru_cache(maxsize=256)
def parse(text: str | None) -> Snippet | None:
    """The snippet's script elements, rebuilt, and the policy they need; ``None`` for
    an empty setting. Plain code without any ``<script>`` is taken as one inline script."""
    if not text or not text.strip():
        return None
    if "<" not in text:
        scripts: list[tuple[list[tuple[str, str | None]], str]] = [([], text)]
    else:
        parser = _Scripts()
        parser.feed(text)
        parser.close()
        scripts = parser.scripts
    sources: set[str] = set()
    hashes: list[str] = []
    tags: list[str] = []
    for attrs, code in scripts:
        kept: list[str] = []
        src = None
        for name, value in attrs:
            name = name.lower()
            if name == "type" and (value or "").lower() not in _SCRIPT_TYPES:
                break  # a JSON or template block: not a script to run
            if name == "src":
                src = _origin(value or "")
                if src is None:
                    break  # only https scripts; a relative or http src is dropped
            if name in _KEPT_ATTRIBUTES or name.startswith("data-"):
                kept.append(name if value is None else f'{name}="{escape(value, quote=True)}"')
        else:
            if src:
                sources.add(src)
                tags.append(f"<script {' '.join(kept)}></script>")
            elif code.strip():
                hashes.append(_hash(code))
                # Origins the code names: where it loads more script and sends its hits.
                sources |= {m.group(0).lower() for m in _ORIGIN.finditer(code)}
                attributes = "".join(f" {a}" for a in kept)
                tags.append(f"<script{attributes}>{code}</script>")
    if not tags:
        return None
    origins = tuple(sorted(sources))
    return Snippet(
        html="\n".join(tags),
        csp=CspExtra(
            script_src=(*origins, *hashes),
            connect_src=origins,
            img_src=origins,
        ),
    )

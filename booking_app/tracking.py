"""First-party, cookieless visit counting on the booking site (the way Plausible and
Umami count), and the *Avancerat* analytics script, which runs in a sandboxed frame
(``/analys``) of its own, never on our pages.

Every patient page carries ``/static/visit.js`` with what the page is (a funnel step
or ``sida``), its route template and a signature of the two (HMAC with the app's
secret, so a forged beacon cannot put words of its own in the store). The script posts
``{p, u, k, r?, s?}`` to ``/besok``; this module turns that into a
:class:`~connectors.store.visits.Visit`:

- nothing personal is kept: the address and user agent only feed the daily salted
  visitor hash; the referrer is cut to its host (and dropped when it is our own or an
  IP address); the UTM source is kept only when it looks like a source name;
- Do-Not-Track and Global Privacy Control are honoured (by the script and here), bots
  are dropped by user agent;
- the body is at most :data:`MAX_BODY` bytes of exactly those keys; each address may
  send :data:`RATE_BURST` at once and :data:`RATE_PER_S` per second after;
- the request never waits for the store: the tenant and the day's salt are cached,
  and the event goes to :class:`~connectors.store.visits.VisitRecorder`'s buffer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from booking_app import analytics_script
from booking_app.deps import TenantDep
from booking_app.lifespan import at_shutdown
from booking_app.security import analytics_frame_policy
from booking_app.templating import templates
from booking_app.tenancy import tenant_for_host
from connectors.store.db import engine_for, session_scope
from connectors.store.models import VISIT_PAGES
from connectors.store.visits import Visit, VisitRecorder, daily_salt, visitor_hash

router = APIRouter()

BEACON_PATH = "/besok"
FRAME_PATH = "/analys"
MAX_BODY = 1024
RATE_BURST = 20
RATE_PER_S = 0.5
HOST_TTL_S = 60.0

TEMPLATE_PAGES = {
    "index.html": "start",
    "step_clinic.html": "klinik",
    "step_treatment.html": "behandling",
    # Sammanslagen visning: treatment and practitioner on one page, counted as the first.
    "step_combined.html": "behandling",
    "step_practitioner.html": "behandlare",
    "step_time.html": "tid",
    "details.html": "uppgifter",
    # The confirmation step: the code was sent (or, without codes, the captcha).
    "code.html": "kod",
    "captcha.html": "kod",
    "confirmed.html": "bekraftad",
}
UNTRACKED_TEMPLATES = frozenset({"error.html"})
PERSONAL_TEMPLATES = frozenset(
    {
        "details.html",
        "code.html",
        "captcha.html",
        "confirmed.html",
        "login.html",
        "bankid.html",
        "my_bookings.html",
        "my_booking_cancel.html",
        "my_booking_rebook.html",
        "my_booking_refused.html",
        "manage_booking.html",
    }
)
"""Pages that show or take personal data: no analytics frame is opened on them (the
design card: personal numbers never reach analytics; the frame could not read them
anyway, see :func:`analytics_frame`)."""

_BOTS = re.compile(
    r"bot|crawl|spider|slurp|headless|phantom|lighthouse|preview|facebookexternalhit|"
    r"curl|wget|python|httpx|java/|go-http|okhttp|node-fetch|axios|scrapy|monitor|"
    r"pingdom|uptime|check",
    re.IGNORECASE,
)
_HOST = re.compile(r"(?=.{1,60}$)([a-z0-9-]{1,63}\.)+[a-z][a-z0-9-]{0,62}")
_SOURCE = re.compile(r"[a-z0-9._-]{1,40}")
_PATH = re.compile(r"/[a-z0-9/{}_-]{0,59}")


class BadBeacon(ValueError):
    """A body that is not exactly our beacon's: 400, nothing stored."""


# -- what a beacon may say ----------------------------------------------------------------


def device_class(user_agent: str) -> str | None:
    """``mobile``, ``tablet`` or ``desktop``; ``None`` for a bot (or no user agent)."""
    if len(user_agent) < 10 or _BOTS.search(user_agent):
        return None
    ua = user_agent.lower()
    if "ipad" in ua or "tablet" in ua or ("android" in ua and "mobile" not in ua):
        return "tablet"
    if "mobi" in ua or "iphone" in ua or "android" in ua:
        return "mobile"
    return "desktop"


def referrer_host(referrer: str, own_host: str) -> str | None:
    """The referring site's host name, lower case, without ``www.``: never its path or
    query (they may hold anything), never our own site, never an IP address."""
    match = re.match(r"https?://([^/?#\s]+)", referrer.strip(), re.IGNORECASE)
    if not match:
        return None
    host = match.group(1).rsplit("@", 1)[-1].lower()
    host = re.sub(r":\d{1,5}$", "", host).removeprefix("www.")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    own = re.sub(r":\d{1,5}$", "", own_host.lower()).removeprefix("www.")
    if host == own or not _HOST.fullmatch(host):
        return None
    return host


def utm_source(value: str) -> str | None:
    """A source name (``google``, ``nyhetsbrev_mars``): at most four digits, so that
    neither a personal number nor a phone number can pass as one."""
    value = value.strip().lower()
    if not _SOURCE.fullmatch(value) or sum(c.isdigit() for c in value) > 4:
        return None
    return value


def signature(secret: bytes, page: str, path: str) -> str:
    """What a page's tag carries to vouch for its page kind and route template."""
    message = f"visit\n{page}\n{path}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:24]


def parse_beacon(body: bytes, secret: bytes, own_host: str) -> tuple[str, str, str | None]:
    """(page, path, source) from a beacon body, or :class:`BadBeacon`."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadBeacon("not JSON") from None
    if not isinstance(data, dict) or not set(data) <= {"p", "u", "k", "r", "s"}:
        raise BadBeacon("unknown keys")
    page, path, key = data.get("p"), data.get("u"), data.get("k")
    referrer, source = data.get("r", ""), data.get("s", "")
    if not all(isinstance(v, str) for v in (page, path, key, referrer, source)):
        raise BadBeacon("not strings")
    if page not in VISIT_PAGES or not _PATH.fullmatch(path):
        raise BadBeacon("unknown page")
    if not hmac.compare_digest(key, signature(secret, page, path)):
        raise BadBeacon("not signed by a page of ours")
    if len(referrer) > 500 or len(source) > 100:
        raise BadBeacon("too long")
    return page, path, (utm_source(source) if source else None) or referrer_host(referrer, own_host)


class RateLimit:
    """A token bucket per client address, in memory (each process its own)."""

    def __init__(self, burst: float = RATE_BURST, per_s: float = RATE_PER_S) -> None:
        self.burst, self.per_s = burst, per_s
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._buckets) > 50_000:
            self._buckets.clear()  # a flood of addresses: start over rather than grow
        tokens, since = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - since) * self.per_s)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True


# -- the endpoint ---------------------------------------------------------------------------


def tracking_refused(request: Request) -> bool:
    """Do-Not-Track or Global Privacy Control."""
    return request.headers.get("dnt") == "1" or request.headers.get("sec-gpc") == "1"


class Tracker:
    """Per app: the caches that keep the store off the beacon's path, and the recorder."""

    def __init__(self, app: FastAPI) -> None:
        settings = app.state.settings
        self.app = app
        self.base_domain: str = settings.base_domain
        self.tz = ZoneInfo(settings.timezone)
        self.engine = engine_for(settings.resolved_store_url)
        self.recorder = VisitRecorder(self.engine)
        self.rate = RateLimit()
        self._hosts: dict[str, tuple[int | None, float]] = {}
        self._salts: dict[tuple[int, date], bytes] = {}
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        # Read on first use: it may live in a file under the data folder.
        if self._secret is None:
            base = self.app.state.settings.secret()
            self._secret = hashlib.sha256(b"visit-beacon\n" + base).digest()
        return self._secret

    def sign(self, page: str, path: str) -> str:
        return signature(self.secret, page, path)

    async def tenant_id(self, host: str) -> int | None:
        cached = self._hosts.get(host)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]

        def look_up() -> int | None:
            with session_scope(self.engine) as session:
                tenant = tenant_for_host(session, host, self.base_domain)
                return tenant.id if tenant else None

        tenant_id = await run_in_threadpool(look_up)
        if len(self._hosts) > 10_000:
            self._hosts.clear()
        self._hosts[host] = (tenant_id, time.monotonic() + HOST_TTL_S)
        return tenant_id

    async def salt(self, tenant_id: int, day: date) -> bytes:
        salt = self._salts.get((tenant_id, day))
        if salt is None:
            salt = await run_in_threadpool(daily_salt, self.engine, tenant_id, day)
            # Yesterday's salts leave memory with the day (the flow deletes them from
            # the store).
            self._salts = {k: v for k, v in self._salts.items() if k[1] >= day}
            self._salts[(tenant_id, day)] = salt
        return salt

    async def handle(self, request: Request) -> Response:
        if tracking_refused(request):
            return Response(status_code=204)
        user_agent = request.headers.get("user-agent", "")
        device = device_class(user_agent)
        if device is None:
            return Response(status_code=204)
        address = request.client.host if request.client else ""
        if not self.rate.allow(address):
            return Response(status_code=429)
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY:
            return Response(status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response(status_code=413)
        host = request.headers.get("host", "")
        try:
            page, path, source = parse_beacon(bytes(body), self.secret, host)
        except BadBeacon:
            return Response(status_code=400)
        tenant_id = await self.tenant_id(host)
        if tenant_id is None:
            return Response(status_code=404)
        now: datetime = request.app.state.clock()
        salt = await self.salt(tenant_id, now.astimezone(self.tz).date())
        self.recorder.record(
            Visit(
                tenant_id=tenant_id,
                at=now,
                visitor=visitor_hash(salt, address, user_agent),
                page=page,
                path=path,
                source=source,
                device=device,
            )
        )
        return Response(status_code=204)


@router.post(BEACON_PATH, include_in_schema=False)
async def beacon(request: Request) -> Response:
    # async on purpose: no thread hop per page view; the rare store look-ups go to
    # the thread pool inside.
    return await request.app.state.tracker.handle(request)


# -- the tenant's script, in a frame of its own -----------------------------------------------

FRAME_HTML = (
    '<!doctype html><html><head><meta charset="utf-8"><title></title>\n'
    '<script src="/static/analytics-frame.js"></script>\n{}\n</head><body></body></html>'
)


@router.get(FRAME_PATH, include_in_schema=False)
def analytics_frame(tenant: TenantDep) -> Response:
    """The tenant's analytics script (*Avancerat*) in a document of its own, sandboxed
    into an opaque origin by its policy (see
    :func:`booking_app.security.analytics_frame_policy`). Our pages never carry the
    script: they load this document in a hidden frame and tell it, by ``postMessage``,
    only what ``visit.js`` counts (the page kind and its route template)."""
    settings = tenant.settings
    snippet = analytics_script.parse(settings.analytics_script if settings else None)
    if snippet is None:
        return Response(status_code=404)
    return Response(
        FRAME_HTML.format(snippet.html),
        media_type="text/html",
        headers={
            "Content-Security-Policy": analytics_frame_policy(snippet.csp),
            "X-Frame-Options": "SAMEORIGIN",  # our pages frame it; nobody else's
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


# -- the tags in the page -------------------------------------------------------------------


@pass_context
def visit_tags(context: Context, analytics: str | None = None) -> Markup:
    """The beacon's script tag for this page; with a tenant's analytics script, it
    also names the analytics frame that ``visit.js`` opens (never on pages that show or
    take personal data, never for Do-Not-Track)."""
    return visit_tags_for(context["request"], context.name or "", analytics)


def visit_tags_for(request: Request, template: str, analytics: str | None = None) -> Markup:
    """:func:`visit_tags` for ``template``'s page answered to ``request`` (a page kept
    rendered, :mod:`booking_app.page_cache`, has its tags filled in per request)."""
    route = request.scope.get("route")
    if template in UNTRACKED_TEMPLATES or route is None:
        return Markup("")
    page = TEMPLATE_PAGES.get(template, "sida")
    if not _PATH.fullmatch(route.path):
        return Markup("")
    key = request.app.state.tracker.sign(page, route.path)
    framed = (
        analytics_script.parse(analytics) is not None
        and template not in PERSONAL_TEMPLATES
        and not tracking_refused(request)
    )
    frame = Markup(' data-frame="{}"').format(FRAME_PATH) if framed else Markup("")
    return Markup(
        '<script src="/static/visit.js" data-page="{}" data-path="{}" data-key="{}"{} defer>'
        "</script>"
    ).format(page, route.path, key, frame)


def install(app: FastAPI) -> None:
    """The beacon's route, its tracker, the template function, and a flush at shutdown."""
    app.include_router(router)
    app.state.tracker = Tracker(app)
    templates.env.globals["visit_tags"] = visit_tags
    at_shutdown(app, lambda a: a.state.tracker.recorder.close())  # the buffered visits

"""The booking store: what the patient site, the operators' pages and the flows share.

Every row that belongs to a clinic chain carries ``tenant_id``; every query filters
on it. Times are UTC (see :class:`UtcDateTime`). Rules that protect patients are
constraints in the database, not only checks in Python.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from connectors.store.types import UtcDateTime, utcnow

PERSONAL = {"personal": True}
"""``info`` of a column that holds personal data; :mod:`connectors.store.personal_data`
registers each one, with what a patient's export and erasure do with it."""

STEPS = ("clinic", "treatment", "practitioner", "time")
"""The booking steps whose order *Bokningsinställningsordning* sets."""

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _hex_colour(column: str) -> str:
    """SQL that holds when ``column`` is '#RRGGBB'. Spelled out per character, since
    SQLite has no regular expressions: a colour is pasted into the page's CSS."""
    digits = "(" + ", ".join(f"'{d}'" for d in "0123456789abcdef") + ")"
    characters = " AND ".join(f"lower(substr({column}, {i}, 1)) IN {digits}" for i in range(2, 8))
    return f"(length({column}) = 7 AND substr({column}, 1, 1) = '#' AND {characters})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime}


# -- tenants and their Opus databases ------------------------------------------------


class Tenant(Base):
    """A clinic chain with its own booking page (one subdomain)."""

    __tablename__ = "tenant"
    __table_args__ = (
        CheckConstraint(
            "length(subdomain) BETWEEN 1 AND 63 AND subdomain = lower(subdomain)",
            name="subdomain_form",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    subdomain: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    settings: Mapped[TenantSettings] = relationship(
        back_populates="tenant", uselist=False, cascade="all, delete-orphan"
    )
    databases: Mapped[list[OpusDatabase]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="OpusDatabase.id"
    )


CONNECT_TIMEOUT_S_RANGE = (1, 300)
"""An Opus database's own connect timeout, seconds (the *Kliniker* tab)."""
RETRIES_RANGE = (0, 10)
"""An Opus database's own count of retries after a failed connect."""


class OpusDatabase(Base):
    """One Opus database of a tenant (*Välj databas*).

    ``connection_ref`` says where the connection string is (``env:NAME``,
    ``prefect-secret:NAME`` or the demo's ``sqlite:///PATH``): the string itself holds
    a password and never enters the store.
    """

    __tablename__ = "opus_database"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(
            "connection_ref LIKE 'env:%' OR connection_ref LIKE 'prefect-secret:%' "
            "OR connection_ref LIKE 'sqlite:///%'",
            name="connection_ref_is_a_reference",
        ),
        # On SQLite triggers check these (migration 0017): no batch rebuild there.
        CheckConstraint(
            "connect_timeout_s BETWEEN {} AND {}".format(*CONNECT_TIMEOUT_S_RANGE),
            name="connect_timeout_range",
        ),
        CheckConstraint("retries BETWEEN {} AND {}".format(*RETRIES_RANGE), name="retries_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    connection_ref: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    # This database's own Opus connection timeout (seconds) and retry count; None: the
    # global settings (opus_connect_timeout_s, opus_retries).
    connect_timeout_s: Mapped[int | None] = mapped_column(default=None)
    retries: Mapped[int | None] = mapped_column(default=None)

    tenant: Mapped[Tenant] = relationship(back_populates="databases")


RETENTION_RANGES = {
    "retention_visit_event_days": (7, 400),
    "retention_booking_months": (1, 24),
    "retention_message_days": (1, 30),
}
"""The retention settings' bounds (*Avancerat* → *Gallring*): never forever, and never
so short that the statistics flow or a patient's complaint about a visit finds nothing."""
RETENTION_CHECKS = tuple(
    CheckConstraint(f"{name} BETWEEN {low} AND {high}", name=f"{name}_range")
    for name, (low, high) in RETENTION_RANGES.items()
)


class TenantSettings(Base):
    """Every setting of the manual's *Flexibilitet*, *Media*, *E-post*, *SMS* and
    *Avancerat* tabs, one row per tenant. The manual gives no defaults; ours are the
    cautious choice for a clinic that has just been connected (noted per field)."""

    __tablename__ = "tenant_settings"
    __table_args__ = (
        *(
            CheckConstraint(f"{a}_step <> {b}_step", name=f"{a}_{b}_differ")
            for i, a in enumerate(("first", "second", "third", "fourth"))
            for b in ("first", "second", "third", "fourth")[i + 1 :]
        ),
        *(
            CheckConstraint(f"{n}_step IN {STEPS!r}", name=f"{n}_step_known")
            for n in ("first", "second", "third", "fourth")
        ),
        CheckConstraint("change_cutoff_hours BETWEEN 0 AND 720", name="cutoff_range"),
        CheckConstraint("months_to_sync BETWEEN 1 AND 24", name="months_to_sync_range"),
        CheckConstraint("min_notice_minutes BETWEEN 0 AND 20160", name="min_notice_range"),
        CheckConstraint(
            f"{_hex_colour('color_primary')} AND {_hex_colour('color_accent')}",
            name="colours_are_hex",
        ),
        CheckConstraint("sms_sender IS NULL OR length(sms_sender) <= 11", name="sms_sender_len"),
        # Reminders (migration 0016 adds these as column constraints)
        CheckConstraint(
            "reminder_email_hours BETWEEN 1 AND 336", name="reminder_email_hours_range"
        ),
        CheckConstraint("reminder_sms_hours BETWEEN 1 AND 336", name="reminder_sms_hours_range"),
        CheckConstraint("reminder_scope IN ('online', 'all')", name="reminder_scope_known"),
        CheckConstraint("reminder_quiet_start BETWEEN 0 AND 23", name="reminder_quiet_start_hour"),
        CheckConstraint("reminder_quiet_end BETWEEN 0 AND 23", name="reminder_quiet_end_hour"),
        # The waiting list (migration 0016_waitlist; SQLite has them on the columns).
        CheckConstraint("waitlist_hold_minutes BETWEEN 5 AND 240", name="waitlist_hold_range"),
        CheckConstraint("waitlist_offers_per_day BETWEEN 1 AND 20", name="waitlist_offers_range"),
        *RETENTION_CHECKS,
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    tenant: Mapped[Tenant] = relationship(back_populates="settings")

    # Flexibilitet → Allmänna inställningar
    view_bookings_enabled: Mapped[bool] = mapped_column(
        default=True
    )  # Visning av bokning aktiverad
    login_enabled: Mapped[bool] = mapped_column(default=True)  # Inloggning aktiverad
    cancel_enabled: Mapped[bool] = mapped_column(default=True)  # Avbokning aktiverad
    change_enabled: Mapped[bool] = mapped_column(default=True)  # Ändra bokning aktiverad
    new_booking_enabled: Mapped[bool] = mapped_column(default=True)  # Ny bokning aktiverad
    new_booking_requires_login: Mapped[bool] = mapped_column(default=False)
    weekend_booking_enabled: Mapped[bool] = mapped_column(default=False)  # Helgbokning aktiverad
    code_challenge_enabled: Mapped[bool] = mapped_column(default=True)  # e-post/SMS-kod utmaning
    maintenance_mode: Mapped[bool] = mapped_column(default=False)  # Aktivera underhållsläge
    # Publicera på "Boka vård": off until the marketplace has activated the account.
    publish_boka_vard: Mapped[bool] = mapped_column(default=False)
    publish_opus_online: Mapped[bool] = mapped_column(
        default=True
    )  # Publicera på "Opus Dental Online"
    user_message_enabled: Mapped[bool] = mapped_column(
        default=False
    )  # Användarmeddelande aktiverad
    any_practitioner_option: Mapped[bool] = mapped_column(
        default=True
    )  # Vilken behandlare som helst
    any_clinic_option: Mapped[bool] = mapped_column(default=False)  # Vilken klinik som helst
    skip_confirmation: Mapped[bool] = mapped_column(default=False)  # Hoppa över bekräftelse

    # Registreringsinställningar and Kampanjkod aktiverad
    ask_address: Mapped[bool] = mapped_column(default=False)
    campaign_code_enabled: Mapped[bool] = mapped_column(default=False)

    # Bokningsinställningsordning; Sammanslagen visning fixes clinic, treatment, practitioner, time
    first_step: Mapped[str] = mapped_column(String(12), default="clinic")
    second_step: Mapped[str] = mapped_column(String(12), default="treatment")
    third_step: Mapped[str] = mapped_column(String(12), default="practitioner")
    fourth_step: Mapped[str] = mapped_column(String(12), default="time")
    combined_view: Mapped[bool] = mapped_column(default=False)

    # Ändra bokningsinställning: hours before the appointment that rebooking/cancelling closes
    change_cutoff_hours: Mapped[int] = mapped_column(default=24)
    # How far ahead free times are published (Opus's MonthsToSync)
    months_to_sync: Mapped[int] = mapped_column(default=3)
    # How soon a patient may book: no time that starts within this many minutes
    min_notice_minutes: Mapped[int] = mapped_column(default=120)

    # Media
    welcome_text: Mapped[str | None] = mapped_column(Text)
    patient_info_text: Mapped[str | None] = mapped_column(Text)  # None: the default text
    default_clinic_text: Mapped[str | None] = mapped_column(Text)
    color_primary: Mapped[str] = mapped_column(String(7), default="#1F5F8B")
    color_accent: Mapped[str] = mapped_column(String(7), default="#F5C518")
    logo_image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))

    # E-post, SMS
    email_sender: Mapped[str | None] = mapped_column(String(254))
    sms_sender: Mapped[str | None] = mapped_column(String(11))
    # Country calling codes whose mobile numbers may be given (comma separated): the
    # Nordic ones by default, so that codes cannot be sent to any number on earth.
    sms_country_codes: Mapped[str] = mapped_column(
        String(64), default="46,47,45,358", server_default="46,47,45,358"
    )
    # At most this many code messages an hour for the whole tenant; an operator raises it.
    code_messages_per_hour: Mapped[int] = mapped_column(default=100, server_default="100")

    # E-post and SMS → Påminnelser (migration 0016): a reminder before the visit, per
    # channel, this many hours before it (wall-clock hours: "24 h" is the same time the
    # day before, also across a DST change). Off until the clinic turns it on: a clinic
    # that reminds from Opus already must not remind twice. The checks are column
    # constraints in the migration (tenant_settings has triggers: no table rebuild).
    reminder_email_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    reminder_email_hours: Mapped[int] = mapped_column(default=72, server_default="72")
    reminder_sms_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    reminder_sms_hours: Mapped[int] = mapped_column(default=48, server_default="48")
    # Whose appointments: "online" (bookings made here) or "all" (also every Opus
    # appointment with a mobile number, from the appointment mirror; SMS only).
    reminder_scope: Mapped[str] = mapped_column(
        String(6), default="online", server_default="online"
    )
    # Quiet hours, local hours 0-23: a reminder due from start until end goes at end.
    # Equal: none.
    reminder_quiet_start: Mapped[int] = mapped_column(default=21, server_default="21")
    reminder_quiet_end: Mapped[int] = mapped_column(default=8, server_default="8")
    # The reminder's signed link lets the patient cancel or rebook without BankID.
    manage_without_login: Mapped[bool] = mapped_column(default=False, server_default=false())

    # Återbudslista: patients may ask for an earlier time; a time that comes free is
    # held this long for the first in line it fits; at most this many offers a day.
    waitlist_enabled: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    waitlist_hold_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    waitlist_offers_per_day: Mapped[int] = mapped_column(default=3, server_default="3")

    # Avancerat
    analytics_script: Mapped[str | None] = mapped_column(Text)
    # Avancerat → Gallring (connectors.store.retention; migration 0016): how long
    # personal data is kept. The defaults are the longest allowed; a tenant may shorten.
    retention_visit_event_days: Mapped[int] = mapped_column(default=400, server_default="400")
    retention_booking_months: Mapped[int] = mapped_column(default=24, server_default="24")
    retention_message_days: Mapped[int] = mapped_column(default=30, server_default="30")

    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def step_order(self) -> tuple[str, ...]:
        if self.combined_view:
            return STEPS
        return (self.first_step, self.second_step, self.third_step, self.fourth_step)


class MessageTemplate(Base):
    """A tenant's own text for one message; without one, Opus's default text is sent."""

    __tablename__ = "message_template"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "kind"),
        CheckConstraint("channel IN ('email', 'sms')", name="channel_known"),
        CheckConstraint("kind IN ('new', 'rebook', 'cancel', 'reminder')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Image(Base):
    """An uploaded logo or practitioner photo, served by the app itself."""

    __tablename__ = "image"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary, info=PERSONAL)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# -- what the sync brings from Opus ----------------------------------------------------


class Clinic(Base):
    """A clinic (*företag*) of an Opus database, with the operator's presentation."""

    __tablename__ = "clinic"
    __table_args__ = (
        UniqueConstraint("opus_database_id", "opus_clinic_id"),
        CheckConstraint("time_grid_minutes IN (5, 10, 15, 20, 30, 60)", name="grid_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE")
    )
    opus_clinic_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    address1: Mapped[str | None] = mapped_column(String(100))
    address2: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(100))
    # Still in Opus at the last sync; a clinic that left is hidden, not deleted.
    in_opus: Mapped[bool] = mapped_column(default=True)
    # Operator's settings (Kliniker, Media)
    group_name: Mapped[str | None] = mapped_column(String(100))  # Grupp
    display_order: Mapped[int] = mapped_column(default=0)
    clinic_text: Mapped[str | None] = mapped_column(Text)  # Klinikspecifik text
    # Start times offered to patients fall on this grid (08:00, 08:15, ... for 15)
    time_grid_minutes: Mapped[int] = mapped_column(default=15)

    practitioners: Mapped[list[ClinicPractitioner]] = relationship(
        back_populates="clinic", order_by="ClinicPractitioner.display_order"
    )

    @property
    def group(self) -> str | None:
        """*Grupp* as patients see it: a blank group is no group."""
        return (self.group_name or "").strip() or None


class Practitioner(Base):
    """A clinician (*behandlare*) of an Opus database."""

    __tablename__ = "practitioner"
    __table_args__ = (UniqueConstraint("opus_database_id", "opus_clinician_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE")
    )
    opus_clinician_id: Mapped[int] = mapped_column(Integer)
    first_name: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    last_name: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    title: Mapped[str | None] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(default=True)
    in_opus: Mapped[bool] = mapped_column(default=True)
    # Behandlare tab
    info_text: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id", ondelete="SET NULL"))

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class ClinicPractitioner(Base):
    """A clinician working at a clinic; ``added`` is the operator's *Lägg till*: only
    added practitioners publish times (*Tillagda behandlare*)."""

    __tablename__ = "clinic_practitioner"
    # The target of free_range's one composite foreign key (see FreeRange).
    __table_args__ = (UniqueConstraint("clinic_id", "practitioner_id", "tenant_id"),)

    clinic_id: Mapped[int] = mapped_column(
        ForeignKey("clinic.id", ondelete="CASCADE"), primary_key=True
    )
    practitioner_id: Mapped[int] = mapped_column(
        ForeignKey("practitioner.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    in_opus: Mapped[bool] = mapped_column(default=True)
    added: Mapped[bool] = mapped_column(default=False)
    display_order: Mapped[int] = mapped_column(default=0)

    clinic: Mapped[Clinic] = relationship(back_populates="practitioners")
    practitioner: Mapped[Practitioner] = relationship()


class Treatment(Base):
    """A booking template (*bokningsmall*). Minutes, except ``change_in_web_limit_hours``."""

    __tablename__ = "treatment"
    __table_args__ = (
        UniqueConstraint("opus_database_id", "opus_treatment_id"),
        CheckConstraint(
            "duration_min > 0 AND warm_up_min >= 0 AND cool_down_min >= 0", name="durations"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE")
    )
    opus_treatment_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(String(150))
    duration_min: Mapped[int] = mapped_column(Integer)
    warm_up_min: Mapped[int] = mapped_column(Integer, default=0)
    cool_down_min: Mapped[int] = mapped_column(Integer, default=0)
    create_in_web: Mapped[bool] = mapped_column(default=True)
    change_in_web: Mapped[bool] = mapped_column(default=True)
    cancel_in_web: Mapped[bool] = mapped_column(default=True)
    change_in_web_limit_hours: Mapped[int] = mapped_column(Integer, default=24)
    booking_text: Mapped[str | None] = mapped_column(String(200))
    in_opus: Mapped[bool] = mapped_column(default=True)


class TreatmentSet(Base):
    """A distinct set of treatments that free ranges allow. Ranges of one clinician
    mostly share a set, so a million ranges point at a handful of these rows instead
    of carrying millions of link rows."""

    __tablename__ = "treatment_set"
    __table_args__ = (UniqueConstraint("opus_database_id", "opus_treatment_ids"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE")
    )
    opus_treatment_ids: Mapped[str] = mapped_column(String(2000))  # "3,5,9", sorted


class TreatmentSetMember(Base):
    __tablename__ = "treatment_set_member"

    treatment_set_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_set.id", ondelete="CASCADE"), primary_key=True
    )
    treatment_id: Mapped[int] = mapped_column(
        ForeignKey("treatment.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class FreeRange(Base):
    """Published free time of one practitioner at one clinic, in UTC.

    Keyed by Opus's own id: the sync replaces rows by that key, and bookings refer to
    practitioner and time, never to a range row that the next sync may replace.
    """

    __tablename__ = "free_range"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # One foreign key where five would do, because PostgreSQL checks each per row
        # (twelve of the fourteen seconds of COPYing a million ranges with five). It
        # says more, too: the practitioner works at the clinic, in the same tenant.
        # Deleting an Opus database cascades here through clinic → clinic_practitioner.
        ForeignKeyConstraint(
            ["clinic_id", "practitioner_id", "tenant_id"],
            [
                "clinic_practitioner.clinic_id",
                "clinic_practitioner.practitioner_id",
                "clinic_practitioner.tenant_id",
            ],
            ondelete="CASCADE",
            name="fk_free_range_clinic_practitioner",
        ),
        # The one secondary index: times are looked up per practitioner (a clinic's
        # times through its few practitioners). Each index costs the million-row
        # sync a B-tree insert per row.
        Index("ix_free_range_practitioner_start", "practitioner_id", "starts_at"),
    )

    opus_database_id: Mapped[int] = mapped_column(primary_key=True)
    opus_range_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[int]
    clinic_id: Mapped[int]
    practitioner_id: Mapped[int]
    treatment_set_id: Mapped[int] = mapped_column(
        ForeignKey("treatment_set.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    row_version: Mapped[int] = mapped_column(BigInteger)


# -- the sync's own bookkeeping --------------------------------------------------------


class QuarantinedRow(Base):
    """A source row the sync refused, with why. It stays until the row is fixed or
    removed in Opus; operators see the list."""

    __tablename__ = "quarantined_row"
    __table_args__ = (UniqueConstraint("opus_database_id", "stream", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE")
    )
    stream: Mapped[str] = mapped_column(String(30))
    source_id: Mapped[str] = mapped_column(String(100))
    reasons: Mapped[str] = mapped_column(Text)  # reason codes, comma-separated
    row_data: Mapped[str] = mapped_column(Text, info=PERSONAL)  # the row as JSON, as Opus had it
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncState(Base):
    """How far the incremental sync of one Opus database has come."""

    __tablename__ = "sync_state"

    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE"), primary_key=True
    )
    free_range_row_version: Mapped[int] = mapped_column(BigInteger, default=0)
    # The publishing window at the last run, in Opus's local time (ISO text): ranges
    # the window has grown over since then are read even if unchanged; a new day
    # (a new start) lets the day's past ranges go.
    window_start_local: Mapped[str | None] = mapped_column(String(19))
    window_end_local: Mapped[str | None] = mapped_column(String(19))
    # What the validity of ranges depends on besides the ranges themselves (clinics,
    # clinicians, treatments, added practitioners, months to sync). When it changes,
    # every range is judged again: a full sync.
    reference_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Removals normally arrive through Opus's deletion log. Every so often, and when the
    # store's count of ranges disagrees with Opus's, every id is compared instead.
    ids_compared_at: Mapped[datetime | None]
    # The longest published range, in seconds: ranges that could overlap a changed one
    # start at most this long before it, which bounds the index walk that finds them.
    longest_range_s: Mapped[int] = mapped_column(default=0)
    count_mismatch: Mapped[bool] = mapped_column(default=False)
    last_success_at: Mapped[datetime | None]


class SyncRun(Base):
    """One run of the schedule sync for one Opus database, as operators see it."""

    __tablename__ = "sync_run"
    __table_args__ = (
        CheckConstraint("status IN ('succeeded', 'failed', 'skipped')", name="status_known"),
        ForeignKeyConstraint(["opus_database_id"], ["opus_database.id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    opus_database_id: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(12))  # full | incremental
    extracted: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    quarantined: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(Text)


# -- bookings ---------------------------------------------------------------------------

ACTIVE_BOOKING = ("held", "confirmed")
"""Statuses in which a booking occupies its practitioner's time."""


def _own_idempotency_key(context) -> str:
    return context.get_current_parameters()["idempotency_key"]


class Booking(Base):
    """A patient's booking, from the moment a time is held until it is cancelled.

    ``starts_at``/``ends_at`` is the appointment; ``blocks_from``/``blocks_until``
    adds the treatment's warm-up and cool-down: the practitioner's time it occupies.
    Two active bookings (held or confirmed) of one practitioner never share a moment
    of that time: PostgreSQL enforces it with an exclusion constraint, SQLite with
    triggers (migration 0002), both inside the transaction that holds the time.

    A hold (``held``) lapses at ``hold_expires_at``; the next hold of an overlapping
    time marks it ``expired`` in its own transaction. Bookings are never deleted:
    cancelled and rebooked ones are status changes, for write-back and statistics.
    Personal data lives here and in the outbox only, never in URLs or logs: pages
    refer to a booking by its random ``reference``.

    Write-back to Opus reconciles, it does not replay: every change Opus must hear of
    (confirm, cancel, rebook) bumps ``change_seq``; write-back makes the Opus
    appointment keyed ``appointment_key`` match the booking's current state and then
    records the ``change_seq`` it saw as ``written_seq``, only if no newer change came
    meanwhile. A rebooking is a new booking (``rebooked_from_id``) that inherits the
    ``appointment_key``, so the one Opus appointment moves instead of a second appearing.
    """

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(
            "status IN ('held', 'confirmed', 'cancelled', 'expired', 'conflict', 'rebooked')",
            name="status_known",
        ),
        CheckConstraint("written_seq <= change_seq", name="written_not_ahead"),
        CheckConstraint("channel IN ('site', 'api', 'boka_vard')", name="channel_known"),
        CheckConstraint(
            "ends_at > starts_at AND blocks_from <= starts_at AND blocks_until >= ends_at",
            name="times_in_order",
        ),
        CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name="hold_expires"),
        CheckConstraint("code_attempts BETWEEN 0 AND 5", name="code_attempts_limit"),
        CheckConstraint(
            "personal_number IS NULL OR length(personal_number) = 12", name="personal_number_form"
        ),
        ForeignKeyConstraint(
            ["clinic_id", "practitioner_id", "tenant_id"],
            [
                "clinic_practitioner.clinic_id",
                "clinic_practitioner.practitioner_id",
                "clinic_practitioner.tenant_id",
            ],
            name="fk_booking_clinic_practitioner",
        ),
        Index("ix_booking_practitioner_blocks", "practitioner_id", "blocks_from"),
        Index("ix_booking_tenant_status", "tenant_id", "status"),
        Index(
            "ix_booking_write_back_due",
            "write_back_next_at",
            sqlite_where=text("change_seq > written_seq"),
            postgresql_where=text("change_seq > written_seq"),
        ),
        Index("ix_booking_appointment_key", "appointment_key"),
        Index("ix_booking_client_address_key", "client_address_key", "hold_expires_at"),
        Index("ix_booking_client_cookie_key", "client_cookie_key", "hold_expires_at"),
        # A patient's bookings: Mina bokningar, and the operators' export and erasure.
        Index("ix_booking_tenant_personal_number", "tenant_id", "personal_number"),
        # Retention finds the bookings whose data is still there, by visit time.
        Index(
            "ix_booking_not_pseudonymised",
            "ends_at",
            sqlite_where=text("pseudonymised_at IS NULL"),
            postgresql_where=text("pseudonymised_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    tenant_id: Mapped[int]
    clinic_id: Mapped[int]
    practitioner_id: Mapped[int]
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatment.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    blocks_from: Mapped[datetime]
    blocks_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="held")
    hold_expires_at: Mapped[datetime | None]
    channel: Mapped[str] = mapped_column(String(10), default="site")
    # The patient chose "Vilken behandlare som helst" / "Vilken klinik som helst"
    any_practitioner: Mapped[bool] = mapped_column(default=False)
    any_clinic: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(2), default="sv")
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    # Every booking reaches Opus once: this key travels with the Opus appointment. A
    # rebooking shares it with the booking it replaces (the appointment moves).
    appointment_key: Mapped[str] = mapped_column(String(36), default=_own_idempotency_key)
    rebooked_from_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))

    # Dina uppgifter
    personal_number: Mapped[str | None] = mapped_column(String(12), info=PERSONAL)
    first_name: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    last_name: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    email: Mapped[str | None] = mapped_column(String(254), info=PERSONAL)
    mobile: Mapped[str | None] = mapped_column(String(16), info=PERSONAL)  # E.164
    address1: Mapped[str | None] = mapped_column(String(100), info=PERSONAL)
    postal_code: Mapped[str | None] = mapped_column(String(10), info=PERSONAL)
    city: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    message: Mapped[str | None] = mapped_column(String(500), info=PERSONAL)  # Användarmeddelande
    campaign_code: Mapped[str | None] = mapped_column(String(30))  # Kampanjkod
    logged_in_with_eid: Mapped[bool] = mapped_column(default=False)

    # Använd e-post/SMS-kod utmaning
    code_hash: Mapped[str | None] = mapped_column(String(128))
    code_channel: Mapped[str | None] = mapped_column(String(5))
    code_expires_at: Mapped[datetime | None]
    code_sent_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(default=0)
    # Limits on one client (booking_app.limits): codes sent and wrong tries over the
    # hold's whole life, never reset by a resend.
    codes_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    code_wrong_tries: Mapped[int] = mapped_column(default=0, server_default="0")
    # Who holds it, as keyed hashes of the client's address and browser cookie (never
    # the address itself): at most a few active holds per client.
    client_address_key: Mapped[str | None] = mapped_column(String(64), info=PERSONAL)
    client_cookie_key: Mapped[str | None] = mapped_column(String(64), info=PERSONAL)

    # Write-back to Opus (see the class comment)
    change_seq: Mapped[int] = mapped_column(default=0)
    written_seq: Mapped[int] = mapped_column(default=0)
    write_back_next_at: Mapped[datetime | None]
    write_back_attempts: Mapped[int] = mapped_column(default=0)
    write_back_error: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    written_back_at: Mapped[datetime | None]
    opus_appointment_id: Mapped[int | None]
    opus_patient_id: Mapped[int | None] = mapped_column(info=PERSONAL)
    # The treatments of the free range the booking was cut from: a cancellation gives
    # the time back to Opus as free time for the same treatments.
    opus_range_treatments: Mapped[str | None] = mapped_column(String(400))
    conflict_reason: Mapped[str | None] = mapped_column(String(40))

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When retention removed the patient's data (connectors.store.retention): what
    # statistics need (tenant, clinic, practitioner, treatment, channel, status, times,
    # campaign code) stays.
    pseudonymised_at: Mapped[datetime | None]


class WorkerLease(Base):
    """Who runs a one-at-a-time job (write-back) until when. A worker that dies keeps
    it only until ``expires_at``; a live one renews it as it goes."""

    __tablename__ = "worker_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


OUTBOX_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "withdrawn")
"""pending: waits for ``next_attempt_at``; sending: claimed by a worker until
``next_attempt_at`` (its lease); sent: the SMTP server or SMS gateway took it;
delivered: the gateway reported it on the phone; failed: given up, ``last_error`` says
why (a permanent refusal, too many tries, or a failed delivery report); withdrawn: not
sent because its reason went away before it could be (a reminder of an appointment
cancelled or moved meanwhile)."""


class OutboxMessage(Base):
    """A message to a patient, queued in the transaction of the change that causes it
    and delivered (once) by the notifications flow (see :mod:`connectors.store.outbox`)."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel_known"),
        CheckConstraint(
            "kind IN ('code', 'new', 'rebook', 'cancel', 'conflict', 'reminder', 'offer')",
            name="kind_known",
        ),
        CheckConstraint(f"status IN {OUTBOX_STATUSES!r}", name="status_known"),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_kind_recipient", "kind", "recipient", "created_at"),
        # Retention finds the messages it has not cleared yet (the last month's).
        Index(
            "ix_outbox_message_not_cleared",
            "created_at",
            sqlite_where=text("recipient <> ''"),
            postgresql_where=text("recipient <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    # Indexed: a booking's messages go out in order (a later one waits for an earlier).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"), index=True)
    channel: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254), info=PERSONAL)
    payload: Mapped[str] = mapped_column(Text, info=PERSONAL)  # JSON: the merge fields
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # The SMS gateway's id of the message, which its delivery report repeats.
    provider_id: Mapped[str | None] = mapped_column(String(64), info=PERSONAL)
    delivered_at: Mapped[datetime | None]
    # A failed message an operator dismissed on *Att hantera* (migration 0016): still
    # ``failed``, no longer listed as something to do.
    dismissed_at: Mapped[datetime | None]


class ApiKey(Base):
    """A key to the tenant's public API (header ``apiKey``). Only its SHA-256 is kept:
    the key is random and long, so a slow hash adds nothing.

    ``scopes`` says what the key may do (space-separated, in the order of
    :data:`connectors.store.api_keys.SCOPES`); ``allowed_origins`` which web pages may
    use it from a browser (one origin a line; migration 0013). A key with the
    ``patient`` scope is a server's secret and never gets an origin."""

    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint(
            "scopes IN ('read', 'book', 'patient', 'read book', 'read patient', "
            "'book patient', 'read book patient')",
            name="scopes_known",
        ),
        CheckConstraint(
            "allowed_origins = '' OR scopes NOT LIKE '%patient%'",
            name="no_origins_for_patient_keys",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(
        String(30), default="read book patient", server_default="read book patient"
    )
    allowed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")


# -- patients' e-ID login and their bookings (migration 0005) --------------------------


class BankIdOrder(Base):
    """One BankID login started on a tenant's page, bound to the browser that started
    it by ``browser_hash`` (the SHA-256 of a random cookie value; the value itself is
    never stored). ``qr_start_secret`` stays on the server and is cleared when the
    order ends. An order ends once: a completed one has made its session (see
    :class:`PatientSession`) and a replay of its ``order_ref`` logs nobody in."""

    __tablename__ = "bankid_order"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'complete', 'failed', 'cancelled')", name="status_known"
        ),
        CheckConstraint("method IN ('qr', 'app')", name="method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    browser_hash: Mapped[str] = mapped_column(String(64), unique=True)
    order_ref: Mapped[str] = mapped_column(String(64), unique=True)
    auto_start_token: Mapped[str] = mapped_column(String(64))
    qr_start_token: Mapped[str] = mapped_column(String(64))
    qr_start_secret: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(3))
    return_to: Mapped[str | None] = mapped_column(String(500))  # a local path only
    status: Mapped[str] = mapped_column(String(10), default="pending")
    hint_code: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class PatientSession(Base):
    """A patient logged in with BankID on one tenant's site. The cookie holds a
    random id; only its SHA-256 is kept here. The personal number comes from BankID's
    completion data, never from a form. A session lapses after a short idle time or
    at ``expires_at``, whichever comes first; logging out ends it (kept, not deleted,
    so that an ended id can never come back)."""

    __tablename__ = "patient_session"
    __table_args__ = (CheckConstraint("length(personal_number) = 12", name="personal_number_form"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # One order makes at most one session: the database refuses a replayed orderRef.
    order_id: Mapped[int] = mapped_column(
        ForeignKey("bankid_order.id", ondelete="CASCADE"), unique=True
    )
    personal_number: Mapped[str] = mapped_column(String(12), info=PERSONAL)
    given_name: Mapped[str | None] = mapped_column(String(100), info=PERSONAL)
    surname: Mapped[str | None] = mapped_column(String(100), info=PERSONAL)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class OpusAppointment(Base):
    """An appointment in an Opus book as the sync last read it, whoever made it
    (reception included), with its patient's personal number: *Mina bokningar*
    lists a logged-in patient's coming ones. Those written back by us carry our
    booking's ``appointment_key`` as ``idempotency_key`` and are listed from the
    booking instead."""

    __tablename__ = "opus_appointment"
    __table_args__ = (
        UniqueConstraint("opus_database_id", "opus_appointment_id"),
        Index("ix_opus_appointment_patient", "tenant_id", "personal_number", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    opus_database_id: Mapped[int] = mapped_column(
        ForeignKey("opus_database.id", ondelete="CASCADE")
    )
    opus_appointment_id: Mapped[int] = mapped_column(Integer)
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id", ondelete="SET NULL"))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("practitioner.id", ondelete="SET NULL")
    )
    treatment_id: Mapped[int | None] = mapped_column(
        ForeignKey("treatment.id", ondelete="SET NULL")
    )
    personal_number: Mapped[str | None] = mapped_column(String(12), info=PERSONAL)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    row_version: Mapped[int] = mapped_column(BigInteger)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    # For reminders of every Opus appointment (migration 0016): the patient's mobile
    # number (E.164, only when Opus holds a valid mobile one) and names, and when the
    # sync first saw the appointment (one made after its reminder time gets none).
    mobile: Mapped[str | None] = mapped_column(String(16), info=PERSONAL)
    first_name: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    last_name: Mapped[str | None] = mapped_column(String(50), info=PERSONAL)
    first_seen_at: Mapped[datetime | None]


# -- operators and the audit log (migration 0006) ------------------------------------

OPERATOR_ROLES = ("administrator", "operator", "analyst")
"""administrator: every tab, *Avancerat* included; operator: every tab but *Avancerat*;
analyst: reads (for the dashboards to come), changes nothing."""


class Operator(Base):
    """A person who configures tenants. ``email`` is stored lower case (the login
    name); ``password_hash`` is argon2id (see :mod:`connectors.store.operators`)."""

    __tablename__ = "operator"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, info=PERSONAL)
    name: Mapped[str] = mapped_column(String(200), info=PERSONAL)
    password_hash: Mapped[str] = mapped_column(String(200))
    # Login throttling: failures in a row, and the lock they led to.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorGrant(Base):
    """An operator's role at one tenant: without a grant the tenant does not exist
    for them (404)."""

    __tablename__ = "operator_grant"
    __table_args__ = (CheckConstraint(f"role IN {OPERATOR_ROLES!r}", name="role_known"),)

    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operator.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))


class OperatorSession(Base):
    """A logged-in operator. The cookie holds a random id; only its SHA-256 is kept.
    Logging out ends it (kept, so that an ended id can never come back)."""

    __tablename__ = "operator_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operator.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One setting changed by an operator: who, when, what, old and new value (as
    text). The operator's e-mail is copied so the entry outlives the account."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id", ondelete="SET NULL"))
    operator_email: Mapped[str] = mapped_column(String(254), info=PERSONAL)
    at: Mapped[datetime]
    setting: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


# -- Boka vård marketplace (migration 0007) ------------------------------------------

MARKETPLACE_ACCOUNT_STATES = ("unknown", "waiting", "active", "refused")
"""unknown: never asked; waiting: the marketplace has not activated the account yet
(nothing is published); active: published as the setting says; refused: the
marketplace did not accept our token (an operator must fix the reference)."""

MARKETPLACE_RESOURCE_TYPES = (
    "Location",
    "Practitioner",
    "PractitionerRole",
    "HealthcareService",
    "Schedule",
    "Slot",
)


class MarketplaceAccount(Base):
    """A tenant's account at Boka vård and what the last publish run found.

    ``token_ref`` points at the bearer token (``env:NAME`` or ``prefect-secret:NAME``;
    None: the settings' default); the token itself never enters the store."""

    __tablename__ = "marketplace_account"
    __table_args__ = (
        CheckConstraint(f"state IN {MARKETPLACE_ACCOUNT_STATES!r}", name="state_known"),
        CheckConstraint(
            "token_ref IS NULL OR token_ref LIKE 'env:%' OR token_ref LIKE 'prefect-secret:%'",
            name="token_ref_is_a_reference",
        ),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    account: Mapped[str] = mapped_column(String(64))  # the marketplace's name of it
    token_ref: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default="unknown")
    checked_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]  # the last run that finished without failure
    last_error: Mapped[str | None] = mapped_column(Text)


class MarketplaceResource(Base):
    """One resource as the marketplace last accepted it: the publish state. A row is
    written only after the marketplace confirmed the transaction that carried it, and
    removed only after it confirmed the withdrawal; what changed since is found by
    comparing ``content_hash`` with the resource as it would be published now."""

    __tablename__ = "marketplace_resource"
    __table_args__ = (
        CheckConstraint(f"resource_type IN {MARKETPLACE_RESOURCE_TYPES!r}", name="type_known"),
    )

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    resource_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(100), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]


class MarketplaceAppointment(Base):
    """An Appointment booked on the marketplace, and what we made of it: ``booked``
    (a confirmed booking, channel 'boka_vard'), ``conflict`` (the time was taken
    meanwhile) or ``invalid`` (unusable patient data). Taken once per appointment; the
    marketplace is told our answer until ``told_at`` is set."""

    __tablename__ = "marketplace_appointment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "appointment_id"),
        CheckConstraint("outcome IN ('booked', 'conflict', 'invalid')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    appointment_id: Mapped[str] = mapped_column(String(64))  # the marketplace's id
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id"))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(100))
    taken_at: Mapped[datetime]
    told_at: Mapped[datetime | None]


# -- visit statistics (migration 0008) -------------------------------------------------

VISIT_PAGES = (
    "start",
    "klinik",
    "behandling",
    "behandlare",
    "tid",
    "uppgifter",
    "kod",
    "bekraftad",
    "sida",
)
"""What a tracked page view was: the booking funnel's steps in order, then any other
page (``sida``). ``kod`` is the page that says the code was sent (or the captcha)."""
VISIT_FUNNEL = VISIT_PAGES[:-1]  # every page kind but "sida", in the funnel's order
DEVICES = ("mobile", "tablet", "desktop")


class VisitSalt(Base):
    """The random salt that makes visitor hashes for one tenant and one day (local
    date). Deleted once the day is over: then nobody, us included, can link a hash
    back to an address, nor one day's visitor to the next day's."""

    __tablename__ = "visit_salt"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))


class VisitEvent(Base):
    """One page view on a booking site, as the beacon reported it. Nothing in it names
    a person: ``visitor`` is a 64-bit salted hash (see :class:`VisitSalt`), ``path``
    a route template, ``source`` a referrer host or a UTM source, ``device`` a class."""

    __tablename__ = "visit_event"
    __table_args__ = (
        CheckConstraint(f"page IN {VISIT_PAGES!r}", name="page_known"),
        CheckConstraint(f"device IN {DEVICES!r}", name="device_known"),
        # The flow reads one day of every tenant at a time.
        Index("ix_visit_event_at", "at"),
    )

    # SQLite gives only INTEGER PRIMARY KEY an automatic rowid value.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    visitor: Mapped[int] = mapped_column(BigInteger, info=PERSONAL)
    page: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(60))
    source: Mapped[str | None] = mapped_column(String(60))
    device: Mapped[str] = mapped_column(String(7))


def _tenant_key() -> Mapped[int]:
    return mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)


class StatsVisitsDaily(Base):
    """Per tenant and local day: page views, visits (30 minutes' quiet ends one) and
    unique visitors. The flow rewrites a day's rows whole, so re-running is harmless."""

    __tablename__ = "stats_visits_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    pageviews: Mapped[int]
    visits: Mapped[int]
    visitors: Mapped[int]


class StatsFunnelDaily(Base):
    """Unique visitors who reached each funnel step that day (``start``: every visitor)."""

    __tablename__ = "stats_funnel_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    step: Mapped[str] = mapped_column(String(10), primary_key=True)
    visitors: Mapped[int]


class StatsSourceDaily(Base):
    """Visits by where they came from: the UTM source, else the referrer's host, else
    ``(direkt)``; taken from a visit's first page view."""

    __tablename__ = "stats_source_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(60), primary_key=True)
    visits: Mapped[int]
    visitors: Mapped[int]


class StatsDeviceDaily(Base):
    __tablename__ = "stats_device_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    device: Mapped[str] = mapped_column(String(7), primary_key=True)
    visits: Mapped[int]
    visitors: Mapped[int]


class StatsBookingDaily(Base):
    """Booking figures per local day and clinic, practitioner, treatment and channel.
    ``booked``: new bookings confirmed that day; ``rebooked``: rebookings confirmed
    that day; ``cancelled``: cancelled that day; ``conflicts``: bookings created that
    day that ended in conflict. Lead time (confirmation to appointment) is kept as a
    sum, so that any range's mean is sum / (booked + rebooked)."""

    __tablename__ = "stats_booking_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(primary_key=True)
    treatment_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    booked: Mapped[int]
    rebooked: Mapped[int]
    cancelled: Mapped[int]
    conflicts: Mapped[int]
    with_campaign_code: Mapped[int]
    lead_time_minutes: Mapped[int] = mapped_column(BigInteger)


class StatsCampaignDaily(Base):
    """Bookings confirmed that day per campaign code (upper case, as Opus shows it)."""

    __tablename__ = "stats_campaign_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True)
    campaign_code: Mapped[str] = mapped_column(String(30), primary_key=True)
    bookings: Mapped[int]


class StatsUtilisationDaily(Base):
    """Per appointment day (local), clinic and local hour: minutes published (free
    time plus the booked time cut from it) and minutes booked. On the autumn DST day
    local hour 2 happens twice and holds up to 120 minutes per practitioner."""

    __tablename__ = "stats_utilisation_daily"

    tenant_id: Mapped[int] = _tenant_key()
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    clinic_id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[int] = mapped_column(primary_key=True)
    published_minutes: Mapped[int]
    booked_minutes: Mapped[int]


# -- subdomain redirects (migration 0009) --------------------------------------------


class SubdomainRedirect(Base):
    """A tenant's former subdomain: requests for it are redirected to the tenant's
    current one until ``expires_at``, and no other tenant may take the name before
    then. One row per name, so a name redirects to one tenant only."""

    __tablename__ = "subdomain_redirect"
    __table_args__ = (
        CheckConstraint(
            "length(subdomain) BETWEEN 1 AND 63 AND subdomain = lower(subdomain)",
            name="subdomain_form",
        ),
    )

    subdomain: Mapped[str] = mapped_column(String(63), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# -- availability version counters (migration 0010) ----------------------------------

AVAILABILITY_TOPICS = ("reference", "bookings")
"""reference: what decides which times are free (settings, Opus databases, clinics,
practitioners, treatments, treatment sets, API keys, free ranges); bookings: the
bookings that occupy time (their status, practitioner, clinic, blocked time, hold)."""


class AvailabilityVersion(Base):
    """A change counter per tenant and topic, which app processes poll (a few times a
    second) to learn whether their in-memory availability snapshot of the tenant is
    stale: a changed counter means reload.

    Nothing in Python writes these rows. The database's own triggers (migration 0010)
    add a tenant's two rows when the tenant is inserted and bump a counter whenever a
    row it covers is inserted, updated or deleted, so that no writer can forget to.
    They only ever update: a tenant's deletion cascades here, and the bumps of its
    cascaded children then find nothing. Two rows, not two columns: on PostgreSQL a
    long sync transaction that has bumped ``reference`` keeps that row locked, and
    must not hold up a booking's commit, which bumps ``bookings`` (deferred to commit).
    """

    __tablename__ = "availability_version"
    __table_args__ = (CheckConstraint(f"topic IN {AVAILABILITY_TOPICS!r}", name="topic_known"),)

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


# -- login throttling per client address (migration 0011) ----------------------------


class LoginThrottle(Base):
    """Failed logins from one client address in the current window, per kind of login
    (``operator``). In the store, not in a process's memory, so that a guesser spread
    over several app processes is counted once. Per account, the ``operator`` row's
    own ``failed_logins`` and ``locked_until`` count (see
    :mod:`connectors.store.login_throttle`)."""

    __tablename__ = "login_throttle"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True, info=PERSONAL)
    window_start: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=0)


class LimitHit(Base):
    """How often a tenant's booking page refused a client for a limit (``kind``: holds,
    recipient, client_hour, client_day, tenant_hour, tries), for the operators' page.
    Counts only: nothing about who was refused."""

    __tablename__ = "limit_hit"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]


# -- reminders (migration 0016) ---------------------------------------------------------

REMINDER_STATUSES = ("planned", "queued", "skipped")


class Reminder(Base):
    """One reminder of one appointment on one channel (see
    :mod:`connectors.store.reminders`): ``planned`` for ``due_at``; ``queued`` once its
    outbox message exists (in the same transaction, so exactly once); ``skipped`` with
    ``skip_reason`` when it is not to be sent (booked after its time, cancelled, moved).

    The appointment is an online booking (``booking_id``) or an Opus appointment from
    the mirror (``opus_appointment_id``). A rebooking is a new booking and so gets a
    reminder of its own; a mirror appointment moved in Opus gets one for its new time
    (``starts_at`` is part of its key)."""

    __tablename__ = "reminder"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel_known"),
        CheckConstraint(f"status IN {REMINDER_STATUSES!r}", name="status_known"),
        CheckConstraint(
            "(booking_id IS NULL) <> (opus_appointment_id IS NULL)", name="one_appointment"
        ),
        CheckConstraint(
            "status <> 'queued' OR outbox_message_id IS NOT NULL", name="queued_has_message"
        ),
        UniqueConstraint("booking_id", "channel"),
        UniqueConstraint("opus_appointment_id", "channel", "starts_at"),
        Index("ix_reminder_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"))
    opus_appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("opus_appointment.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(5))
    starts_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default="planned")
    skip_reason: Mapped[str | None] = mapped_column(String(20))
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# The waiting list's tables (a module of their own; it imports Base from here).
import connectors.store.waitlist_models  # noqa: E402, F401

-- The Opus side of Opus Online: the tables the connector reads and writes.
--
-- The real Opus schema is not public. A site creates these as views over its own
-- Opus tables (reads) and as tables the connector may write (appointments, patients,
-- pending patient updates). Written in SQL Server's dialect, the one Opus runs on;
-- connectors/opus/schema.py translates the few type names for PostgreSQL and SQLite
-- and adds the row-version counter that SQL Server's rowversion gives for free.
--
-- Conventions
-- * Times are the clinic's local wall-clock time (Europe/Stockholm), as Opus keeps them.
-- * Durations are minutes; ChangeInWebLimit is hours before the appointment.
-- * RowVersion grows on every insert and update, database-wide (SQL Server: CAST the
--   table's rowversion AS BIGINT in the view). Incremental sync reads RowVersion > last.
-- * No foreign keys and few NOT NULLs on the read side: these mirror a live database
--   that reception edits; the connector validates what it reads and quarantines the rest.

CREATE TABLE OnlineClinic (
    ClinicID        NVARCHAR(20)  NOT NULL PRIMARY KEY,
    Name            NVARCHAR(100) NULL,
    Address1        NVARCHAR(100) NULL,
    Address2        NVARCHAR(100) NULL,
    PostalCode      NVARCHAR(10)  NULL,
    City            NVARCHAR(50)  NULL,
    Phone           NVARCHAR(30)  NULL,
    Email           NVARCHAR(100) NULL
);

CREATE TABLE OnlineClinician (
    ClinicianID     INT           NOT NULL PRIMARY KEY,
    FirstName       NVARCHAR(50)  NULL,
    LastName        NVARCHAR(50)  NULL,
    Title           NVARCHAR(50)  NULL,
    Active          BIT           NOT NULL DEFAULT 1
);

-- Which clinics (företag) a clinician works at.
CREATE TABLE OnlineClinicianClinic (
    ClinicianID     INT           NOT NULL,
    ClinicID        NVARCHAR(20)  NOT NULL,
    PRIMARY KEY (ClinicianID, ClinicID)
);

-- Booking templates (bokningsmallar).
CREATE TABLE OnlineTreatment (
    TreatmentID       INT           NOT NULL PRIMARY KEY,
    Name              NVARCHAR(30)  NULL,
    Description       NVARCHAR(150) NULL,
    Duration          INT           NULL,
    WarmUpDuration    INT           NOT NULL DEFAULT 0,
    CoolDownDuration  INT           NOT NULL DEFAULT 0,
    CreateInWeb       BIT           NOT NULL DEFAULT 1,
    ChangeInWeb       BIT           NOT NULL DEFAULT 1,
    CancelInWeb       BIT           NOT NULL DEFAULT 1,
    ChangeInWebLimit  INT           NOT NULL DEFAULT 24,
    BookingText       NVARCHAR(200) NULL
);

-- Free time (e-tider) a clinician has opened for online booking at one clinic.
CREATE TABLE OnlineFreeRange (
    FreeRangeID     INT           NOT NULL PRIMARY KEY,
    ClinicID        NVARCHAR(20)  NULL,
    ClinicianID     INT           NULL,
    StartTime       DATETIME2     NULL,
    EndTime         DATETIME2     NULL,
    RowVersion      BIGINT        NOT NULL
);
CREATE INDEX IX_OnlineFreeRange_RowVersion ON OnlineFreeRange (RowVersion);
CREATE INDEX IX_OnlineFreeRange_StartTime ON OnlineFreeRange (StartTime);

-- Free ranges removed from the book, with the row version of their removal, so that
-- an incremental sync learns of removals without comparing every id. On SQL Server a
-- site fills it with an AFTER DELETE trigger (or exposes CHANGETABLE as this view).
-- The sync also counts and, now and then, compares ids: a site that forgets a removal
-- here is corrected, only later.
CREATE TABLE OnlineFreeRangeDeleted (
    FreeRangeID     INT           NOT NULL,
    RowVersion      BIGINT        NOT NULL
);
CREATE INDEX IX_OnlineFreeRangeDeleted_RowVersion ON OnlineFreeRangeDeleted (RowVersion);

-- The treatments a free range may be booked for.
CREATE TABLE OnlineFreeRangeTreatment (
    FreeRangeID     INT           NOT NULL,
    TreatmentID     INT           NOT NULL,
    PRIMARY KEY (FreeRangeID, TreatmentID)
);

CREATE TABLE OnlinePatient (
    PatientID       INT IDENTITY(1,1) PRIMARY KEY,
    PersonalNumber  NVARCHAR(12)  NOT NULL,
    FirstName       NVARCHAR(50)  NULL,
    LastName        NVARCHAR(50)  NULL,
    Address1        NVARCHAR(100) NULL,
    Address2        NVARCHAR(100) NULL,
    PostalCode      NVARCHAR(10)  NULL,
    City            NVARCHAR(50)  NULL,
    Email           NVARCHAR(100) NULL,
    MobilePhone     NVARCHAR(30)  NULL,
    RowVersion      BIGINT        NOT NULL
);
CREATE INDEX IX_OnlinePatient_PersonalNumber ON OnlinePatient (PersonalNumber);

-- Appointments in the book, whoever made them. Online ones carry the key of the
-- booking that created them, so a retried write-back can never create a second one.
CREATE TABLE OnlineAppointment (
    AppointmentID   INT IDENTITY(1,1) PRIMARY KEY,
    ClinicID        NVARCHAR(20)  NOT NULL,
    ClinicianID     INT           NOT NULL,
    TreatmentID     INT           NULL,
    PatientID       INT           NULL,
    StartTime       DATETIME2     NOT NULL,
    EndTime         DATETIME2     NOT NULL,
    BookingText     NVARCHAR(MAX) NULL,
    Status          NVARCHAR(20)  NOT NULL DEFAULT 'booked',
    IdempotencyKey  NVARCHAR(64)  NULL,
    RowVersion      BIGINT        NOT NULL
);
CREATE UNIQUE INDEX UX_OnlineAppointment_IdempotencyKey
    ON OnlineAppointment (IdempotencyKey) WHERE IdempotencyKey IS NOT NULL;
CREATE INDEX IX_OnlineAppointment_RowVersion ON OnlineAppointment (RowVersion);

-- Address changes from the booking page waiting for reception's yes or no.
CREATE TABLE OnlinePendingPatientUpdate (
    UpdateID        INT IDENTITY(1,1) PRIMARY KEY,
    PatientID       INT           NOT NULL,
    Address1        NVARCHAR(100) NULL,
    Address2        NVARCHAR(100) NULL,
    PostalCode      NVARCHAR(10)  NULL,
    City            NVARCHAR(50)  NULL,
    RequestedAt     DATETIME2     NOT NULL,
    Status          NVARCHAR(20)  NOT NULL DEFAULT 'pending',
    IdempotencyKey  NVARCHAR(64)  NULL
);
CREATE UNIQUE INDEX UX_OnlinePendingPatientUpdate_IdempotencyKey
    ON OnlinePendingPatientUpdate (IdempotencyKey) WHERE IdempotencyKey IS NOT NULL;

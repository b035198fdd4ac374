-- Run once by the postgres image when its volume is new: the Prefect server's own
-- database next to the booking store (POSTGRES_DB, "opus").
CREATE DATABASE prefect OWNER opus;

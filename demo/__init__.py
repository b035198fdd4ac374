"""Everything the demo and the tests need to run on one machine: a realistic Opus
database, and (later) stand-ins for the marketplace, BankID and the SMS gateway."""

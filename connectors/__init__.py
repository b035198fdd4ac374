"""Everything that talks to the outside: the Opus database, the booking store, and
(later) the marketplace, BankID, e-mail and SMS. Nothing here imports from flows,
validations or the apps."""

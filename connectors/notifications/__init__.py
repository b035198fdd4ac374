"""Patient messages: merge fields, templates in a sandbox, default texts, SMS length,
calendar files, and composing the e-mail or SMS of an outbox message. Nothing here
sends or touches the store: :mod:`connectors.store.outbox` and
:mod:`flows.notifications` do."""

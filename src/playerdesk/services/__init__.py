"""Use cases. The only place that commits a transaction or publishes an event."""

"""Background work: run inside `serve` when embedded, in `playerdesk worker` processes otherwise."""

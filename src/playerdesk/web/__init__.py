"""HTTP entry point: REST API, console pages, health and metrics."""

"""Event bus and, later, the per-process socket hub."""

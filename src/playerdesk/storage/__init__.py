"""Where attachment bytes live, outside the database."""

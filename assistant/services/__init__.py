"""Application services: what the CLI, the API and the UI call (never framework code)."""

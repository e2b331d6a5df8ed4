"""Data files of the application layer (YAML)."""

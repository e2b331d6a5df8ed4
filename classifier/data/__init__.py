"""Data files of the risk models (lexicons)."""

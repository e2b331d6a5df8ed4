"""GDR Santé: assistant."""

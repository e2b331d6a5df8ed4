"""GDR Santé: retrieval."""

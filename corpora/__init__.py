"""GDR Santé: corpora."""

"""GDR Santé: classifier."""

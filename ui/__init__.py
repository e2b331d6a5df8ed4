"""GDR Santé: ui."""

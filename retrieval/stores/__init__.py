"""Stores of the retrieval index: document store (SQLite), vector store (Chroma), lexical (bm25s)."""

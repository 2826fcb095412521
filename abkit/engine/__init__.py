"""Reduction of rows to per-variant sufficient statistics (DuckDB for files, pandas for frames)."""

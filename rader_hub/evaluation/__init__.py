"""Retrieval evaluation with BRIGHT's metric definitions."""

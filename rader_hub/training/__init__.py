"""Training retrievers and rerankers on synthesized or labelled triples (sentence-transformers)."""

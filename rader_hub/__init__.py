"""rader-hub: reasoning-aware dense retrieval data generation, training and publishing."""

__version__ = "0.1.0"

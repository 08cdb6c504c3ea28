"""The main job (`rader run`): every stage from math problems to a published retriever."""

"""Human review of the judge's relevance verdicts in Argilla.

- ``server``: a local Argilla 2.8 (its own venv, Redis, an in-memory search engine, SQLite).
- ``connection``: which Argilla to talk to (environment or the local server's state) and clear errors.
- ``pairs``: the judged (query, theorem) pairs of a generation dataset, validated in one place.
- ``push``: the Argilla dataset (fields, questions, metadata) and its records, sampled.
- ``push_step``: the same push as an optional last distilabel step of a generation recipe.
- ``pull``: submitted answers, merged into a new version of the dataset.
- ``agreement``: judge-vs-human agreement, Cohen's kappa and confusion matrix (review.json).
"""

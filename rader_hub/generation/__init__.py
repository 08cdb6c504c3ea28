"""Training-data generation: retrieval-augmented MCTS, self-reflection, query synthesis and hard
negatives (docs/method.md, sections 1-5), as distilabel steps composed by the recipes in recipes/."""

"""Training-data generation: retrieval-augmented MCTS, self-reflection, query synthesis and hard
negatives (METHOD.md sections 1-2), as distilabel steps composed by the recipes in recipes/."""

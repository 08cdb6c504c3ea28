"""Python builders of the recipes in recipes/ (each recipe YAML is written by a builder here)."""

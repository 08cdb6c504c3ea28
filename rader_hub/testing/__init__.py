"""Stand-ins for services the tests cannot reach (the Hugging Face Hub), importable by tests and benchmarks."""

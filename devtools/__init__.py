"""Test and benchmark infrastructure, kept out of the wheel (only ``rader_hub`` is installed).

- ``hub_server``: a loopback Hugging Face Hub (in memory) that ``huggingface_hub`` talks to.
- ``openai_server``: real OpenAI-compatible servers with the embedded SmolLM2 (transformers serve, llama-server).

Imported from the repository root: the tests through pytest's ``pythonpath = ["."]``, the benchmarks
(``python bench/X.py``) through the editable install (``pip install -e .`` puts the root on ``sys.path``).
"""

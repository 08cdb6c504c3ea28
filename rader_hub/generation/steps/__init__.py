"""distilabel steps of the generation pipeline, in the order a recipe chains them."""

from rader_hub.generation.steps.dedup import DeduplicateQueries
from rader_hub.generation.steps.hard_negatives import SelectHardNegatives
from rader_hub.generation.steps.load_problems import LoadMathProblems
from rader_hub.generation.steps.save import SaveDataset
from rader_hub.generation.steps.search import RetrievalMCTSSearch
from rader_hub.generation.steps.stage_boundary import AfterSearch
from rader_hub.generation.steps.synthesize_queries import SynthesizeQueries

__all__ = [
    "AfterSearch",
    "DeduplicateQueries",
    "LoadMathProblems",
    "RetrievalMCTSSearch",
    "SaveDataset",
    "SelectHardNegatives",
    "SynthesizeQueries",
]

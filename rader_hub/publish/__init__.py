"""Publishing datasets, retrievers and rerankers with their cards to the Hugging Face Hub (or the
Hub-compatible server at ``HF_ENDPOINT``).

    folder = render_publish_folder(ArtifactKind.model, Path("outputs/models/r"), "org/rader", Path("review"))
    result = publish_rendered(folder)          # or publish(...) to do both; result.commit_url
"""

from rader_hub.publish.cards import CardOptions
from rader_hub.publish.hub import PublishResult
from rader_hub.publish.publisher import ArtifactKind, RenderedFolder, publish, publish_rendered, render_publish_folder

__all__ = ["ArtifactKind", "CardOptions", "PublishResult", "RenderedFolder", "publish", "publish_rendered", "render_publish_folder"]

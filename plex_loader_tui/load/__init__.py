"""One load of a library into the vector store: the session both front ends host."""

from .outcome import Endpoints, LoadResult, Phase, SessionInfo
from .searching import CollectionSearcher, search_collection
from .session import LoadSession

__all__ = [
    "CollectionSearcher",
    "Endpoints",
    "LoadResult",
    "LoadSession",
    "Phase",
    "SessionInfo",
    "search_collection",
]

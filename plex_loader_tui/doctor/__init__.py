"""``doctor``: does a collection fit what its consumers need, and does it match the load state?"""

from .diagnosis import Diagnosis, diagnose
from .findings import Finding, FindingKind
from .repair import repair

__all__ = ["Diagnosis", "Finding", "FindingKind", "diagnose", "repair"]

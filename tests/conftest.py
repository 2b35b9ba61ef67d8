"""Process-wide test setup.

plexapi reads its configuration when it is first imported, and platformdirs
paths point at the user's home: both are redirected to a throwaway folder
here, at import time, before any test module imports them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="plex-loader-tests-"))
(_HOME / "plexapi.ini").write_text("[plexapi]\nautoreload = false\n")
os.environ["PLEXAPI_CONFIG_PATH"] = str(_HOME / "plexapi.ini")
os.environ["PLEXAPI_PLEXAPI_AUTORELOAD"] = "false"
for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[var] = str(_HOME / var.lower())
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# Never let a test reach for the HuggingFace hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
for var in ("PLEX_URL", "PLEX_TOKEN", "TMDB_API_KEY", "QDRANT_URL", "QDRANT_API_KEY"):
    os.environ.pop(var, None)

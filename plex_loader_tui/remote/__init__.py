"""A client of a running service's control API (``plex-loader-tui serve``).

Used by the attached dashboard (``attach``, ``web``) and by ``search`` when a
service holds the collection: :mod:`.client` (the routes, typed both ways by
:mod:`plex_loader_tui.service.wire`), :mod:`.sse` (the event stream, parsed),
:mod:`.where` (which service to attach to, and its token).
"""

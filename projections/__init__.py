"""Read models: pure reducers from events to JSON documents, and the machinery that keeps them.

A reducer is `(get, event) -> {doc_id: doc | None}`: given read access to the
documents as they were before the event, it returns the documents the event
changes (None deletes). The live projector, replay and tests all run the same
reducers; only where `get` reads from and where changes go differ.
"""

"""Yingji gateway: HTTP/WebSocket API, event store wiring, relay, CLI."""

"""The engine: drives the sans-IO core with sockets and timers; the only asyncio-aware layer."""

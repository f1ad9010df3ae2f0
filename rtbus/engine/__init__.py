"""The engine: runs one participant's sans-IO core (``rtbus.rtps``) with sockets, a timer and
an event loop; the layer that knows about asyncio and threads.

It makes no protocol decision and edits no byte (the core builds, batches and protects every
datagram). By job: ``config`` (read once at start), ``driver`` (the core's lock, flushing
what it produced, its one timer, calls from any thread), ``baton`` (receiving in a waiting
application thread), ``node`` (the facade the API talks to, the ``context.EngineContext``),
``loop`` (the background loop of participants created outside asyncio) and ``wakeup``
(waits that threads and coroutines share).
"""

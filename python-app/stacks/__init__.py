"""Web-framework entry points over `claimbench_app`, one module per stack.

Each module holds routing, request reading and serialization only, and exposes an ASGI (or WSGI)
`app`. Adding a stack (Starlette, raw ASGI, Flask, Django) means adding one module here that calls
`claimbench_app.logic` and `claimbench_app.upstream`, with CPU endpoints run off the event loop
the way that framework's users would run them.
"""

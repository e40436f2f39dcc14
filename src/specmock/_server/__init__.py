"""The server layer: the mock as an ASGI app and as a command.

`MockApp` assembles the layers below; the dispatcher is one request's path
(route, rules, auth, validation, handler, response, journal); the admin API
and the `specmock` command sit on top.
"""

"""The staff web app and the JSON API (issue 10): server-rendered pages for people and
``/api/v1`` for scripts, over the same services, shapes and permission matrix as the
command line. Routes parse, call a service or a report, and render; no rule lives here.

- ``app.py``: :func:`~clinicledger.web.app.create_app`, the routers, the middleware;
- ``security.py``: sessions, API tokens, CSRF, security headers, and the action each route
  declares (``page(Action.X)`` / ``api(Action.X)``);
- ``errors.py``: every error to a page (the message beside its field) or to JSON;
- ``render.py``: the Jinja2 templates, money and dates in the practice's locale;
- ``pages/``: one module per noun of the pages; ``api/``: one module per noun of the API.
"""

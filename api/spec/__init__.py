"""The OpenAPI document at ``/api/v1/openapi.json``: what the phone app, the tills and the console
generate their clients from, so it must say exactly what the server does.

flask-smorest and apispec build it from the views and schemas; this package adds what they cannot
know, once for every endpoint, so a new view gets the same treatment without a line here:

- ``converter``: schemas per direction (a body the client sends, ``XInput``, and one it receives,
  ``X``), ``required`` lists that say what is always there, decimals as decimal strings;
- ``operations``: an apispec plugin that reads what the decorators leave on each view (roles,
  ``@value_moving``, rate limits, uploads, path ids) and declares the operationId, the
  ``Idempotency-Key`` parameter, the response headers and every error the operation can answer;
- ``operation_ids``: the one table of operation names (a test fails for an operation left out);
- ``responses``: the shared error body, error responses and headers;
- ``marks``: the attributes decorators leave on views (no imports, so ``api.auth`` can use it).

Every response the test suite receives is validated against the served document
(``tests/api/contract``), so the document cannot drift from the code.
"""

"""What a decorator leaves on a view function for the OpenAPI document to read.

Plain attributes on the function: flask-smorest's decorators copy a wrapped function's ``__dict__``
(``functools.wraps``), so a mark survives whatever is stacked above it. Imports nothing of the app,
so ``api.auth`` and ``api.idempotency`` can mark their wrappers.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

ROLES = "pw_allowed_roles"  # frozenset of role names: roles_required
VALUE_MOVING = "pw_value_moving"  # True: @value_moving (Idempotency-Key, replays, 409)
MAY_ANSWER = "pw_may_answer"  # frozenset of extra error statuses: @may_answer


def may_answer(*statuses: int) -> Callable[[F], F]:
    """Declare error statuses a view answers with beyond what the document infers from its decorators
    (e.g. 404 for a member number that names no one, 409 for a state that forbids the change).

    Documentation only: the function is returned unchanged, marked.
    """

    def mark(view: F) -> F:
        setattr(view, MAY_ANSWER, frozenset(getattr(view, MAY_ANSWER, frozenset())) | frozenset(statuses))
        return view

    return mark

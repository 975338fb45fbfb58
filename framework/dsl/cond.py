"""`Cond`: nodes that run only when a condition on upstream artifacts holds (TFX's conditionals)."""

from __future__ import annotations

import contextvars
from types import TracebackType

from headrace.errors import DefinitionError
from headrace.types.channel import (
    ChannelFuture,
    Predicate,
    active_conditions,
    conditions_of,
    pop_condition,
    push_condition,
)

__all__ = ["Cond", "Predicate", "get_predicates"]


class Cond:
    """Components built inside `with Cond(predicate):` run only if the predicate holds when their turn
    comes; otherwise they are SKIPPED (recorded in ML Metadata, not a failure), and so are the nodes
    that need their outputs. Nested blocks: every predicate must hold.

    The predicate compares a channel future with a constant, as in TFX::

        with Cond(evaluator.outputs['blessing'].future()[0].custom_property('blessed') == 1):
            pusher = Pusher(model=trainer.outputs['model'], ...)

    Futures read `.value` (value artifacts, e.g. a function component's `OutputDict` outputs),
    `.custom_property('name')`, `.property('name')` or `.uri`; comparisons are `==`, `!=`, `<`,
    `<=`, `>`, `>=`, combined with `&`, `|` and `~`. The producers of the channels the predicate
    reads become upstream nodes of the components in the block.

    Args:
        predicate: The condition.

    Raises:
        DefinitionError: if `predicate` is not such a comparison, or a nested block repeats its
            enclosing block's predicate.
    """

    def __init__(self, predicate: Predicate):
        if not isinstance(predicate, Predicate):
            hint = (
                " Compare the future with a constant, e.g. `... == 1`."
                if isinstance(predicate, ChannelFuture)
                else " e.g. Cond(evaluator.outputs['blessing'].future()[0].custom_property('blessed') == 1)."
            )
            raise DefinitionError(
                f"Cond takes a comparison of a channel future with a constant, got {predicate!r} "
                f"({type(predicate).__name__}).{hint}"
            )
        self.predicate = predicate
        self._tokens: list[contextvars.Token[tuple[Predicate, ...]]] = []

    def __enter__(self) -> None:
        mine = self.predicate.to_ir()
        for outer in active_conditions():
            if outer.to_ir() == mine:
                raise DefinitionError(
                    f"Nested Cond blocks repeat the predicate {self.predicate}; merge the redundant blocks."
                )
        self._tokens.append(push_condition(self.predicate))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pop_condition(self._tokens.pop())

    def __repr__(self) -> str:
        return f"Cond({self.predicate})"


def get_predicates(component: object) -> tuple[Predicate, ...]:
    """The predicates of the Cond blocks `component` was built in, outermost first (TFX's
    `conditional.get_predicates`, without the registry argument)."""
    return conditions_of(component)

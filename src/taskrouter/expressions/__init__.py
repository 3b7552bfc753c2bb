"""The TaskRouter expression language: parse, compile and evaluate routing expressions.

One grammar covers Twilio's TaskRouter syntax and the CPaaS dialect's `[any]` selector. See
docs/expressions.md for the language reference. Typical use:

    queue = compile_expression("skills HAS 'support' AND level >= 3", Context.WORKER)
    queue({"skills": ["support"], "level": 4})  # True

The module is pure: no I/O, no clock (time comes in through `scopes.time_variables`).
"""

from .compiler import CompiledExpression, clear_caches, compile_expression, compile_node
from .contexts import TIME_VARIABLES, Context, resolve
from .errors import MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH, ExpressionError, set_limits
from .nodes import (
    ANY,
    And,
    AnyElement,
    Comparison,
    Literal,
    Node,
    Not,
    Op,
    Or,
    Path,
    Segment,
    unparse,
)
from .order_by import OrderBy, OrderClause, parse_order_by
from .parser import parse
from .reference import interpret
from .scopes import (
    WORKER_BUILTINS,
    channel_view,
    skip_if_root,
    target_root,
    task_root,
    time_variables,
    worker_view,
)

__all__ = [
    "ANY",
    "MAX_EXPRESSION_LENGTH",
    "MAX_NESTING_DEPTH",
    "TIME_VARIABLES",
    "WORKER_BUILTINS",
    "And",
    "AnyElement",
    "Comparison",
    "CompiledExpression",
    "Context",
    "ExpressionError",
    "Literal",
    "Node",
    "Not",
    "Op",
    "Or",
    "OrderBy",
    "OrderClause",
    "Path",
    "Segment",
    "channel_view",
    "clear_caches",
    "compile_expression",
    "compile_node",
    "interpret",
    "parse",
    "parse_order_by",
    "resolve",
    "set_limits",
    "skip_if_root",
    "target_root",
    "task_root",
    "time_variables",
    "unparse",
    "worker_view",
]

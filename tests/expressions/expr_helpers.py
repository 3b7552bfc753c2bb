"""Helpers shared by the expression tests (a unique name: test dirs share one sys.path)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskrouter.expressions import Context, ExpressionError, compile_expression, interpret


def evaluate_all_ways(
    text: str, root: Mapping[str, Any], context: Context = Context.WORKER
) -> bool:
    """Evaluate through every entry point and insist they agree; return the common answer.

    The composed predicate, the fused predicate, the fused batch loop, the object's __call__
    and the reference interpreter must all give the same bool.
    """
    compiled = compile_expression(text, context, cache=False)
    answers = {
        "reference": interpret(text, root, context),
        "call": compiled(root),
        "predicate": compiled.predicate(root),
        "fused": compiled.fused()(root),
        "batch": compiled.evaluate_many([root])[0],
    }
    for name, answer in answers.items():
        assert type(answer) is bool, f"{name} returned {answer!r} for {text!r}"
    assert len(set(answers.values())) == 1, f"disagreement on {text!r} with {root!r}: {answers}"
    return answers["reference"]


def error_for(text: str, context: Context = Context.WORKER) -> ExpressionError:
    """The ExpressionError that compiling `text` raises (fails the test if none is raised)."""
    try:
        compile_expression(text, context, cache=False)
    except ExpressionError as error:
        return error
    raise AssertionError(f"{text!r} compiled without error")

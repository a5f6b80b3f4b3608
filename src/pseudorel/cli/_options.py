"""Checks of option values shared by several commands: a bad value is a one-line UsageError
before any work starts, not a traceback from deep inside a stage an hour later."""

from __future__ import annotations

from pseudorel.errors import UsageError


def prompt_domain(value: str, option: str) -> str:
    """``value`` if it names a prompt domain (generic, claim, question, topic)."""
    from pseudorel.teachers.prompts import DOMAINS

    if value not in DOMAINS:
        raise UsageError(f"{option} must be one of {', '.join(DOMAINS)}; got '{value}'")
    return value


def retriever_loss(spec: str, option: str = "--loss") -> tuple[str, dict]:
    """A bi-encoder loss name and its hyperparameters, from ``name`` or ``name[key=value,...]``."""
    from pseudorel.training.losses import parse_loss_spec

    try:
        return parse_loss_spec(spec)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None

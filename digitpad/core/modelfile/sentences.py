"""The one-sentence :class:`~digitpad.core.errors.ModelFileError` every model-file refusal raises."""

from __future__ import annotations

from digitpad.core.errors import ModelFileError

_MAX_CHARS = 300


def sentence(text: str) -> str:
    """Collapse ``text`` to one line of at most 300 characters that ends like a sentence.

    Text from a file (layer names, class names, Keras's messages) may hold terminal control
    characters: every non-printable character is written as its escape (``\\x1b``).
    """
    text = " ".join(str(text).split())
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > _MAX_CHARS:
        text = text[: _MAX_CHARS - 3].rstrip() + "..."
    if not text.endswith((".", "!", "?")):
        text += "."
    return text


def fail(message: str) -> ModelFileError:
    """A :class:`ModelFileError` whose message is ``message`` made into one sentence (to raise)."""
    return ModelFileError(sentence(message))


__all__ = ["sentence", "fail"]

"""Word and character error rates (edit distance / reference length) and exact-match
accuracy, the figure for isolated words."""

from __future__ import annotations

from torchaudio.functional import edit_distance


def error_rates(references: list[str], hypotheses: list[str]) -> dict[str, float]:
    """{"wer", "cer", "accuracy"} over a corpus: total edits / total reference length."""
    word_edits = char_edits = words = chars = exact = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        word_edits += edit_distance(ref.split(), hyp.split())
        char_edits += edit_distance(ref, hyp)
        words, chars = words + len(ref.split()), chars + len(ref)
        exact += ref == hyp
    return {"wer": word_edits / max(1, words), "cer": char_edits / max(1, chars),
            "accuracy": exact / max(1, len(references))}

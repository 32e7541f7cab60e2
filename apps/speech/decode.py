"""CTC decoding: greedy, and a prefix beam search constrained to a word list.

The beam search is Hannun et al. 2014's CTC prefix beam search without a language
model; a prefix may only grow along a trie of the allowed words, and a space may
only close a complete word, so every transcript is a sequence of listed words.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

NEG_INF = -np.inf
BLANK_SKIP = float(np.log(0.999))  # a frame this sure of blank cannot start a character


def labels_to_text(labels: list[int], alphabet: str) -> str:
    """Labels (blanks removed) -> text with single spaces, none leading or trailing."""
    return " ".join("".join(alphabet[i - 1] for i in labels).split())


def greedy_decode(logp: Tensor, alphabet: str) -> str:
    """Log-probs Tensor[T, 1 + len(alphabet)] -> text: best label per frame, repeats
    collapsed, blanks (label 0) dropped."""
    best = logp.argmax(-1).tolist()
    labels = [b for i, b in enumerate(best) if b != 0 and (i == 0 or b != best[i - 1])]
    return labels_to_text(labels, alphabet)


class Lexicon:
    """A trie of words over `alphabet`; node 0 is the root (the start of a word)."""

    def __init__(self, words: list[str], alphabet: str) -> None:
        self.children: list[dict[int, int]] = [{}]
        self.is_word: list[bool] = [False]
        self.space = alphabet.index(" ") + 1
        for word in words:
            node = 0
            for char in word:
                if char not in alphabet or char == " ":
                    raise ValueError(f"vocabulary word '{word}': '{char}' is not in the alphabet")
                label = alphabet.index(char) + 1
                if label not in self.children[node]:
                    self.children[node][label] = len(self.children)
                    self.children.append({})
                    self.is_word.append(False)
                node = self.children[node][label]
            self.is_word[node] = True

    def step(self, node: int, label: int) -> int | None:
        """The node after `label`, or None where the word list forbids it."""
        if label == self.space:  # closes a word, or marks a pause between words
            return 0 if node == 0 or self.is_word[node] else None
        return self.children[node].get(label)

    def can_end(self, node: int) -> bool:
        return node == 0 or self.is_word[node]


def _logadd(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    hi = max(a, b)
    return hi + float(np.log1p(np.exp(-abs(a - b))))


def _extend(logp: np.ndarray, beams: dict, lexicon: Lexicon, width: int) -> dict:
    """One frame of prefix beam search: beams map prefix -> [log p_blank, log p_char, node]."""
    out: dict[tuple, list] = {}

    def add(prefix: tuple, node: int, blank: float, char: float) -> None:
        entry = out.setdefault(prefix, [NEG_INF, NEG_INF, node])
        entry[0], entry[1] = _logadd(entry[0], blank), _logadd(entry[1], char)

    candidates = np.flatnonzero(logp[1:] > logp[1:].max() - 8.0) + 1  # drop hopeless labels
    for prefix, (p_b, p_c, node) in beams.items():
        total = _logadd(p_b, p_c)
        add(prefix, node, total + logp[0], NEG_INF)
        last = prefix[-1] if prefix else None
        if last is not None:
            add(prefix, node, NEG_INF, p_c + logp[last])  # the same character, still sounding
        for label in candidates:
            label = int(label)
            nxt = lexicon.step(node, label)
            if nxt is None:
                continue
            # A repeated character needs a blank between: only p_blank may extend it.
            source = p_b if label == last else total
            add(prefix + (label,), nxt, NEG_INF, source + logp[label])
    ranked = sorted(out.items(), key=lambda kv: -_logadd(kv[1][0], kv[1][1]))
    return dict(ranked[:width])


def lexicon_beam_search(logp: Tensor, alphabet: str, lexicon: Lexicon, width: int = 8) -> str:
    """Log-probs Tensor[T, 1 + len(alphabet)] -> the most probable transcript made only of
    the lexicon's words (empty if none fits)."""
    frames = logp.double().cpu().numpy()
    beams: dict[tuple, list] = {(): [0.0, NEG_INF, 0]}
    for row in frames:
        if row[0] > BLANK_SKIP:  # silence: every beam just absorbs a blank
            for entry in beams.values():
                entry[0], entry[1] = _logadd(entry[0], entry[1]) + row[0], NEG_INF
            continue
        beams = _extend(row, beams, lexicon, width)
    finished = [(p, _logadd(b, c)) for p, (b, c, node) in beams.items() if lexicon.can_end(node)]
    if not finished:
        return ""
    best = max(finished, key=lambda pc: pc[1])[0]
    return labels_to_text(list(best), alphabet)

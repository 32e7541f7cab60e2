"""Cached incremental generation (Fast WaveNet, Paine et al. 2016), batch 1.

Each layer keeps a queue (a ring buffer of length d, its dilation) of the past tap's
contribution W[:, :, 0] @ x[t], pushed when x[t] is computed and popped d steps later,
so one step costs O(layers) small matrix-vector products instead of a forward pass over
the receptive field. It runs in NumPy: for vectors this small, per-call overhead is
what counts, and NumPy's is a fraction of torch's.

Folds done once at load time (exact algebra, so logits match the full forward pass):
- the mel and global conditioning and the conv bias become one per-step bias per layer;
- sigmoid(a) = (1 + tanh(a / 2)) / 2: halve the sigmoid rows, one tanh for the whole
  gate, and the output 1x1 conv takes the factor 1/2;
- each gate vector carries a trailing 1, so the output conv's bias rides in its matmul.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from neocog.core.lpc import Predictors

from .data import QUANTIZATION, SILENCE, mu_law_decode
from .model import WaveNet


def _np(t: Tensor) -> np.ndarray:
    return t.detach().cpu().float().numpy().copy()


class FastGenerator:
    """One WaveNet's weights, folded for stepping; `reset(...)` before each sequence."""

    def __init__(self, model: WaveNet) -> None:
        self.model = model.eval()
        cfg = model.config
        g, r = cfg.gate_channels, cfg.residual_channels
        self.g, self.r, self.dilations = g, r, cfg.dilations
        n, width = len(self.dilations), r + g + 1
        self.embed = _np(model.embed.weight)  # (256, R)
        self.embed_pred = self.embed_excitation = None
        if model.embed_pred is not None:
            self.embed_pred = _np(model.embed_pred.weight)
            self.embed_excitation = _np(model.embed_excitation.weight)
        self.half = np.where(np.arange(2 * g) < g, 1.0, 0.5).astype(np.float32)  # (2G,)
        # (2G, R, 2) conv weight -> rows [current tap; past tap] = (4G, R)
        self.w_in = [np.concatenate([_np(b.conv.weight[:, :, 1]), _np(b.conv.weight[:, :, 0])])
                     * np.tile(self.half, 2)[:, None] for b in model.blocks]
        # Row l of `state` is [x_l (R), 2 x gate_l (G), 1]; the residual update
        # x_{l+1} = x_l + W_res gate_l + b is then ONE matmul by [I | W_res / 2 | b].
        self.state = np.ones((n + 1, width), np.float32)
        self.w_res, w_skip = [], []
        for b in model.blocks:
            w, bias = _np(b.out.weight[:, :, 0]) * 0.5, _np(b.out.bias)[:, None]  # (R + S, G)
            self.w_res.append(np.concatenate([np.eye(r, dtype=np.float32), w[:r], bias[:r]], 1))
            w_skip.append(np.concatenate([np.zeros((len(w) - r, r), np.float32), w[r:],
                                          bias[r:]], 1))
        self.w_skip = np.concatenate(w_skip, axis=1)  # (S, L * (R + G + 1)): all layers at once
        post = model.post  # ReLU, 1x1 conv, ReLU, 1x1 conv; biases ride on a trailing 1
        self.w1 = np.concatenate([_np(post[1].weight[:, :, 0]), _np(post[1].bias)[:, None]], 1)
        self.w2 = np.concatenate([_np(post[3].weight[:, :, 0]), _np(post[3].bias)[:, None]], 1)
        # Buffers every step writes into (allocation costs as much as the arithmetic here).
        self.p = np.zeros((n, 4 * g), np.float32)
        self.z = np.zeros((n, 2 * g), np.float32)
        self.skip = np.ones(len(self.w1[0]), np.float32)
        self.hidden = np.ones(len(self.w2[0]), np.float32)
        self.logits = np.zeros(len(self.embed), np.float32)
        # Per layer, every view a step touches, made once: creating a NumPy view costs
        # as much as a small add.
        st = self.state
        self.views = [(self.w_in[i], self.w_res[i], st[i, :r], st[i], st[i + 1, :r],
                       st[i, r: r + g], self.p[i], self.p[i, : 2 * g], self.p[i, 2 * g:],
                       self.z[i], self.z[i, :g], self.z[i, g:]) for i in range(n)]

    @torch.no_grad()
    def reset(self, inputs: dict[str, Tensor], length: int) -> None:
        """Precompute each layer's per-step bias for `length` steps from the batch-1
        conditioning `inputs` (keys as WaveNet.forward, "codes" only sets the batch)."""
        cond, glob = self.model.conditioning(inputs, length)
        biases = []
        for block in self.model.blocks:
            b = block.conv.bias.view(1, -1, 1)  # (1, 2G, 1)
            if cond is not None and block.cond is not None:
                b = b + block.cond(cond)  # (1, 2G, T)
            if glob is not None and block.glob is not None:
                b = b + block.glob(glob).unsqueeze(-1)
            biases.append(b[0].T * torch.from_numpy(self.half))  # (2G, T) -> (T, 2G)
        bias = torch.stack(biases, 1).numpy()  # (T or 1, L, 2G)
        # A queue entry holds past tap + the bias of the step that pops it, so rows run
        # `max(d)` past the end (never popped), and a queue starts as its first d biases.
        rows = length + max(self.dilations)
        if bias.shape[0] == 1:
            bias = np.broadcast_to(bias, (rows, *bias.shape[1:]))
        else:
            bias = np.concatenate([bias, np.zeros((rows - length, *bias.shape[1:]), bias.dtype)])
        # (dilation, queue, this layer's biases (rows, 2G), views) per layer
        self.layers = [(d, bias[:d, i].copy(), np.ascontiguousarray(bias[:, i]), *self.views[i])
                       for i, d in enumerate(self.dilations)]
        self.t = 0

    def step(self, code: int, pred: int = SILENCE, excitation: int | None = None) -> np.ndarray:
        """Feed the previous sample's mu-law code (and, LPC models, the code of the next
        sample's prediction and the previous excitation code, default `code`: no
        envelope); -> logits (256,) of the next sample, or of its excitation (a buffer the
        next step overwrites)."""
        t = self.t
        first = self.state[0, : self.r]  # the first layer's input
        np.copyto(first, self.embed[code])
        if self.embed_pred is not None:
            first += self.embed_pred[pred]
            first += self.embed_excitation[code if excitation is None else excitation]
        for d, ring, bias, w_in, w_res, x, row, x_next, gate, p, p_now, p_past, z, z_tanh, \
                z_sigm in self.layers:
            slot = ring[t % d]
            np.dot(w_in, x, out=p)  # (4G,): current tap, then the past tap
            np.add(p_now, slot, out=z)  # + the past tap pushed d steps ago (+ bias)
            np.add(p_past, bias[t + d], out=slot)  # queue it for step t + d
            np.tanh(z, out=z)
            np.add(z_sigm, 1.0, out=z_sigm)
            np.multiply(z_tanh, z_sigm, out=gate)  # 2 x the gated unit; w_res halves it
            np.dot(w_res, row, out=x_next)  # x + residual
        self.t = t + 1
        skip, hidden = self.skip, self.hidden
        np.dot(self.w_skip, self.state[:-1].ravel(), out=skip[:-1])
        np.maximum(skip[:-1], 0.0, out=skip[:-1])
        np.dot(self.w1, skip, out=hidden[:-1])
        np.maximum(hidden[:-1], 0.0, out=hidden[:-1])
        return np.dot(self.w2, hidden, out=self.logits)

    def generate(self, inputs: dict[str, Tensor], length: int, temperature: float = 1.0,
                 seed: int = 0, first: int | None = None,
                 lpc: Predictors | None = None) -> np.ndarray:
        """Sample `length` mu-law codes -> int64 (length,). temperature 0 takes the argmax.
        `first` is the code fed at step 0 (default: the code of silence). `lpc`: an LPC
        model's predictors for `length` samples, or None (no envelope)."""
        self.reset(inputs, length)
        draw = Sampler(temperature, seed, len(self.embed))
        envelope = Envelope(lpc, length)
        codes = np.empty(length, np.int64)
        code = excitation = SILENCE if first is None else first
        for t in range(length):
            excitation = draw(self.step(code, envelope.prediction(t), excitation))
            code = envelope.sample(t, excitation)
            codes[t] = code
        return codes


MU = QUANTIZATION - 1
LOG1P_MU = math.log1p(MU)


def mu_code(x: float) -> int:
    """One sample in [-1, 1] -> its mu-law code, as torchaudio.functional.mu_law_encoding
    (`mu_law_encode`), for one float per step: a torch call costs more than the step."""
    return int((math.copysign(math.log1p(MU * abs(x)) / LOG1P_MU, x) + 1) / 2 * MU + 0.5)


class Envelope:
    """The linear prediction of LPCNet-style sampling: before step t, the code of the
    prediction p[t] from the samples made so far; after it, sample = p[t] + scale[t] x
    the drawn excitation. Without predictors it is the identity: prediction 0 (silence),
    and the drawn code is the sample."""

    def __init__(self, lpc: Predictors | None, length: int) -> None:
        self.table = _np(mu_law_decode(torch.arange(QUANTIZATION)))  # code -> value
        self.coeffs = self.scale = None
        self.order = 0
        if lpc is not None:
            # -a[t, order..1], to line up with the samples t - order .. t - 1
            self.coeffs = -lpc.coeffs.flip(1)[:, :-1].double().numpy()
            self.scale = lpc.scale.double().numpy()
            self.order = self.coeffs.shape[1]
        self.past = np.zeros(length + self.order)  # samples, `order` zeros before the start
        self.p = 0.0

    def prediction(self, t: int) -> int:
        if self.coeffs is None:
            return SILENCE
        self.p = float(np.dot(self.coeffs[t], self.past[t: t + self.order]))
        return mu_code(min(1.0, max(-1.0, self.p)))

    def sample(self, t: int, drawn: int) -> int:
        if self.coeffs is None:
            return drawn
        value = min(1.0, max(-1.0, self.p + self.scale[t] * float(self.table[drawn])))
        self.past[t + self.order] = value
        return mu_code(value)


class Sampler:
    """Seeded draws from softmax(logits / temperature) by the Gumbel-max trick:
    argmax(logits + temperature * g), g ~ Gumbel(0, 1), drawn in chunks ahead."""

    def __init__(self, temperature: float, seed: int, classes: int, chunk: int = 4096) -> None:
        self.temperature, self.classes, self.chunk = temperature, classes, chunk
        self.rng = np.random.default_rng(seed)
        self.noise, self.i = np.zeros((0, classes), np.float32), 0
        self.buf = np.zeros(classes, np.float32)

    def __call__(self, logits: np.ndarray) -> int:
        if self.temperature <= 0:
            return int(logits.argmax())
        if self.i == len(self.noise):
            gumbel = self.rng.gumbel(size=(self.chunk, self.classes))
            self.noise, self.i = (self.temperature * gumbel).astype(np.float32), 0
        np.add(logits, self.noise[self.i], out=self.buf)
        self.i += 1
        return int(self.buf.argmax())


@torch.no_grad()
def naive_generate(model: WaveNet, inputs: dict[str, Tensor], length: int,
                   temperature: float = 1.0, seed: int = 0, prompt: Tensor | None = None,
                   lpc: Predictors | None = None) -> np.ndarray:
    """Reference sampler: a full forward pass over the last receptive field per sample.
    `prompt` (LongTensor[1, P]) replaces the single silence code heard before step 0;
    `inputs`' mel then covers P - 1 + length samples. `lpc` as FastGenerator.generate
    (no prompt then: the predictors start at step 0)."""
    rf = model.config.receptive_field
    history = torch.full((1, 1), SILENCE, dtype=torch.long) if prompt is None else prompt
    offset = history.shape[1] - 1
    preds = torch.full((1, offset), SILENCE, dtype=torch.long)  # the prompt's: no envelope
    excitations = history.clone()  # ... so its excitations are its samples
    cond, glob = model.conditioning(inputs, offset + length)
    draw = Sampler(temperature, seed, QUANTIZATION)
    envelope = Envelope(lpc, length)
    codes = np.empty(length, np.int64)
    for t in range(length):
        preds = torch.cat([preds, torch.tensor([[envelope.prediction(t)]])], dim=1)
        window = history[:, -rf:]
        now = offset + t  # index of the sample being predicted
        local = None if cond is None else cond[..., now + 1 - window.shape[1]: now + 1]
        x = model.embed_inputs(window, preds[:, -rf:], excitations[:, -rf:])
        excitation = draw(model.run(x, local, glob)[0, :, -1].numpy())
        codes[t] = envelope.sample(t, excitation)
        history = torch.cat([history, torch.tensor([[codes[t]]])], dim=1)
        excitations = torch.cat([excitations, torch.tensor([[excitation]])], dim=1)
    return codes

"""Volume arithmetic of every layer, as the chapter teaches it.

For a conv or pool layer with kernel F, padding P, stride S (and dilation D) each
spatial size follows  out = floor((W - D*(F-1) - 1 + 2P) / S) + 1,  i.e. the
familiar (W - F + 2P)/S + 1 for D = 1. `volume_table` applies that formula to
every layer's real input (recorded by forward hooks, so residual branches are
right) and keeps the real output shape beside it, so tests can check they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .errors import NeocogError

Shape = tuple[int, ...]
_TRACKED = (nn.Conv1d, nn.Conv2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool2d, nn.Linear,
            nn.AdaptiveAvgPool2d)


@dataclass
class LayerVolume:
    name: str
    kind: str  # e.g. "Conv2d 5x5 s1 p0"
    in_shape: Shape  # (C, H, W) or (C, T) or (F,), batch dimension dropped
    out_shape: Shape  # from the formula
    real_shape: Shape  # what the layer really produced
    params: int
    macs: int  # multiply-adds for one input


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """(W - F + 2P) / S + 1, floored, with dilation: F_eff = D*(F-1) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _tuple(v: int | tuple[int, ...], n: int) -> tuple[int, ...]:
    return v if isinstance(v, tuple) else (v,) * n


def formula_shape(layer: nn.Module, in_shape: Shape) -> Shape:
    """Output shape (no batch) of `layer` for input `in_shape`, by the formula alone."""
    if isinstance(layer, nn.Linear):
        return (*in_shape[:-1], layer.out_features)
    if isinstance(layer, nn.AdaptiveAvgPool2d):
        return (in_shape[0], *_tuple(layer.output_size, 2))
    dims = len(in_shape) - 1
    k, s = _tuple(layer.kernel_size, dims), _tuple(layer.stride, dims)
    p, d = _tuple(layer.padding, dims), _tuple(getattr(layer, "dilation", 1), dims)
    channels = layer.out_channels if isinstance(layer, nn.Conv1d | nn.Conv2d) else in_shape[0]
    spatial = (conv_out(n, *args) for n, *args in zip(in_shape[1:], k, s, p, d, strict=True))
    return (channels, *spatial)


def describe(layer: nn.Module) -> str:
    if isinstance(layer, nn.Linear):
        return f"Linear {layer.in_features}->{layer.out_features}"
    if isinstance(layer, nn.AdaptiveAvgPool2d):
        return f"AdaptiveAvgPool2d {layer.output_size}"
    k = "x".join(map(str, _tuple(layer.kernel_size, 1)))
    s = _tuple(layer.stride, 1)[0]
    p = _tuple(layer.padding, 1)[0]
    d = _tuple(getattr(layer, "dilation", 1), 1)[0]
    return f"{type(layer).__name__} {k} s{s} p{p}" + (f" d{d}" if d != 1 else "")


def count_macs(layer: nn.Module, out_shape: Shape) -> int:
    """Multiply-adds: each output element of a conv costs C_in/groups * prod(kernel)."""
    out_elems = 1
    for n in out_shape:
        out_elems *= n
    if isinstance(layer, nn.Conv1d | nn.Conv2d):
        k = 1
        for n in layer.kernel_size:
            k *= n
        return out_elems * layer.in_channels // layer.groups * k
    if isinstance(layer, nn.Linear):
        return out_elems * layer.in_features
    return 0


@torch.no_grad()
def volume_table(model: nn.Module, input_shape: Shape) -> list[LayerVolume]:
    """One row per conv/pool/linear layer of `model` for one input of `input_shape`."""
    rows: list[LayerVolume] = []

    def record(name: str):
        def hook(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            in_shape = tuple(inputs[0].shape[1:])
            out_shape = formula_shape(layer, in_shape)
            params = sum(p.numel() for p in layer.parameters())
            rows.append(LayerVolume(name, describe(layer), in_shape, out_shape,
                                    tuple(output.shape[1:]), params, count_macs(layer, out_shape)))
        return hook

    hooks = [m.register_forward_hook(record(n)) for n, m in model.named_modules()
             if isinstance(m, _TRACKED)]
    try:
        device = next((p.device for p in model.parameters()), None)  # a served model may be on CUDA
        model.eval()(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
    return rows


def whd(shape: Shape) -> str:
    """(C, H, W) -> 'W x H x D' as the chapter writes volumes; (C, T) -> 'T x C'."""
    if len(shape) == 3:
        return f"{shape[2]} x {shape[1]} x {shape[0]}"
    return " x ".join(map(str, reversed(shape)))


def format_table(rows: list[LayerVolume], input_shape: Shape, total_params: int) -> str:
    lines = [f"{'layer':<28} {'type':<24} {'output W x H x D':>18} {'params':>10} {'MACs':>12}",
             f"{'input':<28} {'':<24} {whd(tuple(input_shape)):>18}"]
    for r in rows:
        lines.append(f"{r.name:<28} {r.kind:<24} {whd(r.out_shape):>18} {r.params:>10,} "
                     f"{r.macs:>12,}")
    lines.append(f"{'total':<28} {'':<24} {'':>18} {total_params:>10,} "
                 f"{sum(r.macs for r in rows):>12,}")
    return "\n".join(lines)


@torch.no_grad()
def reads(model: nn.Module, input_shape: Shape) -> bool:
    """Whether `model` runs on one input of `input_shape`: too small an input leaves some
    kernel or pool a map smaller than itself (torch's RuntimeError)."""
    training = model.training
    try:
        model.eval()(torch.zeros(1, *input_shape))
    except RuntimeError:
        return False
    finally:
        model.train(training)
    return True


def check_input_side(model: nn.Module, channels: int, side: int, what: str, title: str) -> None:
    """A one-line error naming `what` (the option or data that set the side) where `model`
    (`title`, e.g. "backbone lenet") cannot read (channels, side, side) inputs, with the
    least side it can read (searched up to 512)."""
    if reads(model, (channels, side, side)):
        return
    least = next((s for s in range(side + 1, 513) if reads(model, (channels, s, s))), 0)
    need = f"at least {least}" if least else "more than 512"
    raise NeocogError(f"{what}: {title} cannot read {side} x {side} inputs (it needs {need})")

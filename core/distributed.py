"""torchrun + DDP plumbing: PyTorch's own distributed engine, nothing home-made.

`torchrun --nproc_per_node N ...` sets RANK/WORLD_SIZE/LOCAL_RANK; the same training
command then runs data-parallel, with rank 0 alone writing logs and checkpoints.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def setup(device: torch.device) -> torch.device:
    """Join the process group when launched by torchrun; return this process's device
    (`device` as resolved by core.precision.resolve_device; under torchrun on CUDA,
    the local rank's GPU)."""
    if world_size() > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda" and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return device


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def sync_buffers(module: torch.nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm statistics) to every rank: DDP syncs only
    gradients during a step, so the last batch leaves each rank its own statistics."""
    if dist.is_initialized():
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()

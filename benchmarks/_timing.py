"""The training-step and inference timing loop shared by the network benchmarks.

``benchmarks/networks_*.py`` and ``benchmarks/networks.py`` build a network, an input
batch, a loss and an optimiser, then call :func:`time_training`: untimed warm-up
steps, timed training steps (mixed precision with a gradient scaler when ``amp``),
the peak memory over training, then the latency of a one-clip and a whole-batch
forward pass, every time measured after a device synchronisation.
"""

from __future__ import annotations

import resource
import statistics
import time
from contextlib import nullcontext

import torch


def sync(device):
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def maxrss_mb():
    """The process's resident-set high-water mark in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_training(net, x, y, loss_fn, opt, *, device, amp, warmup, steps,
                  latency_repeats, forward_warmup=1, cpu_peak=True):
    """Time training steps and forward passes of ``net`` on the batch ``(x, y)``.

    Parameters
    ----------
    net : torch.nn.Module
        The network, on ``device`` in its memory format.
    x, y : tensor
        The input batch (its first axis is the batch) and the loss target.
    loss_fn : callable
        ``loss_fn(net(x), y)`` is the training loss.
    opt : torch.optim.Optimizer
        The optimiser over ``net``'s trainable parameters.
    device : torch.device
        Where ``net`` runs.
    amp : bool
        fp16 autocast and a gradient scaler (CUDA only).
    warmup, steps : int
        Untimed, then timed, training steps.
    latency_repeats : int
        Timed forward passes for each of the one-clip and the batch latency.
    forward_warmup : int, default=1
        Untimed forward passes before each latency measurement.
    cpu_peak : bool, default=True
        On the CPU, report the growth of the resident-set high-water mark during
        training as the peak memory (``None`` when False; rough either way).

    Returns
    -------
    result : dict
        ``train_step_s`` (median), ``train_clips_per_s``, ``latency_ms_1``,
        ``latency_ms_per_clip_batch`` and ``peak_memory_mb``.
    """
    cuda = device.type == "cuda"
    batch_size = x.shape[0]
    scaler = torch.amp.GradScaler("cuda") if amp else None

    def autocast():
        return torch.autocast("cuda", dtype=torch.float16) if amp else nullcontext()

    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    rss0 = maxrss_mb()

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(net(x), y)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()

    net.train()
    for _ in range(warmup):
        step()
    sync(device)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t0)
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak = maxrss_mb() - rss0 if cpu_peak else None

    net.eval()
    lat1, latb = [], []
    with torch.no_grad(), autocast():
        for xb, out in ((x[:1], lat1), (x, latb)):
            for _ in range(forward_warmup):
                net(xb)
            sync(device)
            for _ in range(latency_repeats):
                t0 = time.perf_counter()
                net(xb)
                sync(device)
                out.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    return {
        "train_step_s": step_s,
        "train_clips_per_s": batch_size / step_s,
        "latency_ms_1": 1e3 * statistics.median(lat1),
        "latency_ms_per_clip_batch": 1e3 * statistics.median(latb) / batch_size,
        "peak_memory_mb": peak,
    }

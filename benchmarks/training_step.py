"""Benchmark: one training step (forward + backward + Adam step) of a 700-256-20 recurrent SNN, T = 100, batch 64.

Compared, on the same inputs, the same initial weights and in the same run (repeats interleaved so that
load from other processes hits every variant alike):

- ``fast``: the course's fast path, :func:`helpers.fast.fast_forward` (dense input product; spikes
  bit-identical to the reference);
- ``reference``: the readable model, ``helpers.models.RecurrentSNN.forward`` (autograd over every step);
- ``snntorch``: the same network from snnTorch's neurons: ``snn.Synaptic`` (reset "zero", detached, as in
  snnTorch by default) + a recurrent ``nn.Linear`` + ``snn.Leaky(reset_mechanism="none")`` as the leaky
  readout, fast-sigmoid surrogate with the same steepness, the input product of all steps in one call
  (as the course does). Differences snnTorch does not let us remove: ``Synaptic`` adds the *new* synaptic
  current to the membrane (U[t+1] = beta U[t] + I[t+1]) and emits the spike from the updated membrane, so
  an input reaches the membrane one step earlier than in the course's eq. (1.3); the zero reset is applied
  from the previous step's spike (snnTorch's ``reset_delay``). The cost per step is the same.

Prints one JSON line: median seconds per step and ratios (baseline time / course time; larger is better).
Usage: ``python benchmarks/training_step.py [--repeats 7] [--threads 1]`` (needs ``pip install -r
benchmarks/requirements.txt`` for snnTorch; without it the snnTorch entry is null).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from helpers.fast import fast_forward
from helpers.models import RecurrentSNN
from helpers.neurons import LIFParams

N_IN, N_HIDDEN, N_OUT, T, BATCH = 700, 256, 20, 100, 64
INPUT_RATE = 0.05  # spike probability per step and input channel


def make_snntorch_model(ref: RecurrentSNN):
    """The same network from snnTorch neurons, initialised with the weights of ``ref``."""
    import snntorch as snn
    from snntorch import surrogate

    p = ref.params

    class SnnTorchRSNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc_in = nn.Linear(N_IN, N_HIDDEN, bias=False)
            self.fc_rec = nn.Linear(N_HIDDEN, N_HIDDEN, bias=False)
            self.fc_out = nn.Linear(N_HIDDEN, N_OUT)
            self.lif = snn.Synaptic(alpha=p.alpha, beta=p.beta, threshold=p.threshold,
                                    spike_grad=surrogate.fast_sigmoid(slope=p.steepness), reset_mechanism="zero")
            self.readout = snn.Leaky(beta=ref.kappa, reset_mechanism="none")
            with torch.no_grad():
                self.fc_in.weight.copy_(ref.w_ff[0])
                self.fc_rec.weight.copy_(ref.w_rec[0])
                self.fc_out.weight.copy_(ref.w_out)
                self.fc_out.bias.copy_(ref.b_out)

        def forward(self, x):
            syn, mem = self.lif.reset_mem()
            out_mem = self.readout.reset_mem()
            cur_in = self.fc_in(x)  # all steps in one product, as the course does
            spk = x.new_zeros(x.shape[0], N_HIDDEN)
            outputs = []
            for t in range(x.shape[1]):
                spk, syn, mem = self.lif(cur_in[:, t] + self.fc_rec(spk), syn, mem)
                _, out_mem = self.readout(self.fc_out(spk), out_mem)
                outputs.append(out_mem)
            return torch.stack(outputs, 1)

    return SnnTorchRSNN()


def make_step(model, forward, lr=1e-3):
    opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=lr)

    def step(x, labels):
        opt.zero_grad(set_to_none=True)
        out = forward(x)
        loss = F.cross_entropy(out.mean(1), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (1: the cores are shared)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    params = LIFParams()
    x = (torch.rand(BATCH, T, N_IN, generator=gen) < INPUT_RATE).float()
    labels = torch.randint(0, N_OUT, (BATCH,), generator=gen)

    def course_model():
        return RecurrentSNN(N_IN, N_HIDDEN, N_OUT, params=params, init="fluctuation", generator=torch.Generator().manual_seed(1))

    variants = {}
    m_fast, m_ref = course_model(), course_model()
    variants["fast"] = make_step(m_fast, lambda x: fast_forward(m_fast, x).output)
    variants["reference"] = make_step(m_ref, lambda x: m_ref(x).output)
    snntorch_version = None
    try:
        import snntorch

        snntorch_version = snntorch.__version__
        m_snn = make_snntorch_model(course_model())
        variants["snntorch"] = make_step(m_snn, m_snn)
    except ImportError:
        pass
    with torch.no_grad():
        rate = float(m_ref(x).spikes[0].mean())
    for step in variants.values():  # warm-up
        step(x, labels)
    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, step in variants.items():
            start = time.perf_counter()
            step(x, labels)
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    ratios = {}
    for course in ("fast",):
        for base in ("reference", "snntorch"):
            if base in med:
                ratios[f"{base}/{course}"] = round(med[base] / med[course], 3)
    print(json.dumps({
        "benchmark": "training_step", "sizes": f"{N_IN}-{N_HIDDEN}-{N_OUT}", "T": T, "batch": BATCH,
        "input_rate": INPUT_RATE, "hidden_rate": round(rate, 4), "threads": torch.get_num_threads(), "load_avg_1min": round(os.getloadavg()[0], 1),
        "repeats": args.repeats, "torch": torch.__version__, "snntorch": snntorch_version,
        "median_s": {k: round(v, 4) for k, v in med.items()}, "ratios": ratios,
    }))


if __name__ == "__main__":
    main()

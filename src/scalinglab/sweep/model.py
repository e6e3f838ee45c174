"""A small pre-LN decoder-only transformer (GPT) over bytes, plus its exact counts.

Architecture: token + learned position embeddings; ``depth`` blocks of
``x + attn(LN(x))`` then ``x + MLP(LN(x))`` with causal self-attention via
:func:`torch.nn.functional.scaled_dot_product_attention` and a GELU MLP of
width ``4 * width``; a final LayerNorm; an output head **tied** to the token
embedding.  All linear layers have biases.

Parameter counts (``V`` = vocabulary, ``T`` = context, ``d`` = width, ``L`` = depth)::

    N      = L * (12 d^2 + 13 d) + 2 d       # non-embedding (blocks + final LN)
    N_tot  = N + V d + T d                    # + token and position embeddings (head tied)

Torch is imported lazily so that :mod:`scalinglab.sweep` imports without it.
"""

from __future__ import annotations

__all__ = ["param_counts", "flops_per_token", "build_model"]


def param_counts(width: int, depth: int, seq_len: int, vocab: int = 256) -> tuple[int, int]:
    """Return ``(non_embedding, total)`` parameter counts of :func:`build_model`."""
    d = width
    non_emb = depth * (12 * d * d + 13 * d) + 2 * d
    total = non_emb + vocab * d + seq_len * d
    return non_emb, total


def flops_per_token(width: int, depth: int, seq_len: int, vocab: int = 256) -> float:
    """Counted training FLOPs per token (forward + backward = 3 x forward).

    Forward, per token (Hoffmann et al. 2022, app. F, without softmax/LN)::

        2 * (L * 12 d^2)            # QKV, output projection and MLP matmuls
        + L * 4 * T * d             # attention logits QK^T and weighted sum AV (full T x T)
        + 2 * d * V                 # output head (tied embedding; lookup is free)
    """
    d, L, T, V = width, depth, seq_len, vocab
    fwd = 2 * L * 12 * d * d + L * 4 * T * d + 2 * d * V
    return 3.0 * fwd


def build_model(width: int, depth: int, heads: int, seq_len: int, vocab: int = 256):
    """Construct the GPT as a ``torch.nn.Module`` (initialised by the caller's RNG state)."""
    import math

    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)
            self.ln2 = nn.LayerNorm(width)
            self.fc = nn.Linear(width, 4 * width)
            self.out = nn.Linear(4 * width, width)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
            q = q.view(B, T, heads, C // heads).transpose(1, 2)
            k = k.view(B, T, heads, C // heads).transpose(1, 2)
            v = v.view(B, T, heads, C // heads).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab, width)
            self.wpe = nn.Embedding(seq_len, width)
            self.blocks = nn.ModuleList(Block() for _ in range(depth))
            self.ln_f = nn.LayerNorm(width)
            self.apply(self._init)
            # GPT-2 scaled init of residual projections.
            for b in self.blocks:
                for lin in (b.proj, b.out):
                    nn.init.normal_(lin.weight, 0.0, 0.02 / math.sqrt(2 * depth))

        @staticmethod
        def _init(m) -> None:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)

        def forward(self, idx, targets=None):
            T = idx.shape[1]
            pos = torch.arange(T, device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for b in self.blocks:
                x = b(x)
            logits = self.ln_f(x) @ self.wte.weight.t()  # tied head
            if targets is None:
                return logits
            return F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1))

    return GPT()
